/**
 * Test helpers for the generation engine: the bundled chat model loaded from memory, and a no-cache reference loop
 * (full recompute of the whole sequence every step, empty past) to check the engine's KV-cache decoding against.
 */
import * as ort from "onnxruntime-node";
import { buildBundledChatModel, type ChatModelFile } from "../../runtime/simulators/models/chat-model.js";
import { argmax } from "../../runtime/inference/generation/sampling.js";
import { type DecoderModel, loadDecoderModel } from "../../runtime/inference/generation/model.js";
import { emptyPast, pastNames } from "../../runtime/inference/generation/kv-cache.js";

let files: ChatModelFile[] | undefined;

/** The bundled chat model's files (built once per test file). */
export function chatModelFiles(): Map<string, Uint8Array> {
  files ??= buildBundledChatModel();
  return new Map(files.map((f) => [f.name, f.bytes]));
}

/** Loads the bundled chat model (one thread, so runs are steady next to other test files). */
export function loadChatModel(options: { contextLength?: number } = {}): Promise<DecoderModel> {
  return loadDecoderModel(chatModelFiles(), { intraOpThreads: 1, ...options });
}

/** The prompt ids of a one-message chat. */
export function chatPrompt(model: DecoderModel, user: string, system?: string): number[] {
  const messages = [...(system ? [{ role: "system", content: system }] : []), { role: "user", content: user }];
  return model.tokenizer.encode(model.chatTemplate!.render(messages, true));
}

/** Greedy tokens by full recompute (no KV cache), stopping after EOS or `maxTokens`. */
export async function referenceGreedy(
  model: DecoderModel,
  promptIds: readonly number[],
  maxTokens: number,
): Promise<number[]> {
  const out: number[] = [];
  const tokens = [...promptIds];
  while (out.length < maxTokens) {
    const n = tokens.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(tokens, BigInt), [1, n]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
      position_ids: new ort.Tensor(
        "int64",
        BigInt64Array.from(
          tokens.map((_, i) => i),
          BigInt,
        ),
        [1, n],
      ),
    };
    const past = emptyPast(model.layout, 1);
    pastNames(model.layout).forEach((name, i) => (feeds[name] = past[i]!));
    const logits = (await model.session.run(feeds))["logits"]!;
    const vocab = logits.dims[2]!;
    const token = argmax((logits.data as Float32Array).subarray((n - 1) * vocab, n * vocab));
    out.push(token);
    if (model.eosTokenIds.has(token)) break;
    tokens.push(token);
  }
  return out;
}
