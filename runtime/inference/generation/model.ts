/**
 * A decoder-only model loaded from the files of its directory, all in memory (decrypted models never touch the
 * disk): the ONNX graph in the Optimum / transformers.js `text-generation-with-past` layout, `config.json`,
 * `generation_config.json`, `tokenizer.json`, `tokenizer_config.json`. The layout is read from the graph's inputs
 * and outputs, so any model exported that way loads without code changes.
 */
import * as ort from "onnxruntime-node";
import { type ChatTemplate, loadChatTemplate } from "./chat-template.js";
import { GenerationError } from "./errors.js";
import { type GenerationTokenizer, loadGenerationTokenizer } from "./tokenizer.js";

/** What the engine needs to know about the graph. */
export interface DecoderLayout {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Whether the graph takes `position_ids` (Llama/Qwen exports do; some older GPT-2 exports do not). */
  readonly positionIds: boolean;
  /** Merged decoders (`decoder_model_merged.onnx`) take a boolean `use_cache_branch`. */
  readonly useCacheBranch: boolean;
}

/** The subset of `ort.InferenceSession` the engine uses (a fake can stand in for tests). */
export interface DecoderSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/** A loaded decoder model. */
export interface DecoderModel {
  readonly session: DecoderSession;
  readonly layout: DecoderLayout;
  readonly tokenizer: GenerationTokenizer;
  /** Absent when `tokenizer_config.json` has no `chat_template` (completions only). */
  readonly chatTemplate: ChatTemplate | undefined;
  /** Token ids that end a generation (from `generation_config.json`, else `config.json`). */
  readonly eosTokenIds: ReadonlySet<number>;
  /** Longest prompt + completion, in tokens (`max_position_embeddings`, or the loader's option). */
  readonly contextLength: number;
  /** Frees the onnxruntime session. */
  release(): Promise<void>;
}

/** Options of {@link loadDecoderModel}. */
export interface DecoderModelOptions {
  /** Threads for one operator; absent means onnxruntime's default. */
  readonly intraOpThreads?: number;
  /** Caps the context below the model's own `max_position_embeddings` (memory: the KV cache grows with it). */
  readonly contextLength?: number;
}

/** File names tried for the graph, in order (Optimum's, then transformers.js's `onnx/` folder). */
export const DECODER_MODEL_FILES = [
  "model.onnx",
  "decoder_model_merged.onnx",
  "onnx/model.onnx",
  "onnx/model_quantized.onnx",
  "onnx/decoder_model_merged.onnx",
] as const;

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

function parseJson(files: ReadonlyMap<string, Uint8Array>, name: string, required: boolean): Record<string, unknown> {
  const bytes = files.get(name);
  if (!bytes) {
    if (required) throw new GenerationError("MODEL_LAYOUT_INVALID", `loading model: ${name} is missing`);
    return {};
  }
  try {
    const v: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (cause) {
    throw new GenerationError("MODEL_LAYOUT_INVALID", `loading model: ${name} is not JSON`, { cause });
  }
  throw new GenerationError("MODEL_LAYOUT_INVALID", `loading model: ${name} is not a JSON object`);
}

const int = (v: unknown): number | undefined => (Number.isInteger(v) && (v as number) > 0 ? (v as number) : undefined);

/** Reads the layout from the graph's inputs/outputs (and `config.json` for dims the graph leaves symbolic). */
export function decoderLayout(
  inputs: readonly ort.InferenceSession.ValueMetadata[],
  outputs: readonly string[],
  config: Record<string, unknown>,
): DecoderLayout {
  const names = inputs.map((m) => m.name);
  const problems: string[] = [];
  for (const n of ["input_ids", "attention_mask"]) if (!names.includes(n)) problems.push(`input ${n} is missing`);
  if (!outputs.includes("logits")) problems.push("output logits is missing");
  const past = inputs.filter((m) => PAST.test(m.name));
  const layers = past.length / 2;
  for (let l = 0; l < layers; l++)
    for (const kv of ["key", "value"]) {
      if (!names.includes(`past_key_values.${l}.${kv}`)) problems.push(`input past_key_values.${l}.${kv} is missing`);
      if (!outputs.includes(`present.${l}.${kv}`)) problems.push(`output present.${l}.${kv} is missing`);
    }
  if (layers === 0 || !Number.isInteger(layers))
    problems.push("no past_key_values.N.key/value inputs (export with -with-past)");
  const first = past[0];
  if (first?.isTensor && first.type !== "float32")
    problems.push(`past_key_values are ${first.type}; only float32 caches are supported (use an fp32 or int8 export)`);
  const dims = first?.isTensor ? first.shape : [];
  const heads = int(config["num_attention_heads"]);
  const kvHeads = int(dims[1]) ?? int(config["num_key_value_heads"]) ?? heads;
  const hidden = int(config["hidden_size"]);
  const headDim = int(dims[3]) ?? int(config["head_dim"]) ?? (hidden && heads ? hidden / heads : undefined);
  if (!kvHeads || !headDim) problems.push("cannot tell kv heads / head dim from the graph or config.json");
  if (problems.length > 0) throw new GenerationError("MODEL_LAYOUT_INVALID", `loading model: ${problems.join("; ")}`);
  return {
    layers,
    kvHeads: kvHeads!,
    headDim: headDim!,
    positionIds: names.includes("position_ids"),
    useCacheBranch: names.includes("use_cache_branch"),
  };
}

function eosIds(generation: Record<string, unknown>, config: Record<string, unknown>): Set<number> {
  const v = generation["eos_token_id"] ?? config["eos_token_id"];
  const list = Array.isArray(v) ? v : [v];
  return new Set(list.filter((x): x is number => Number.isInteger(x)));
}

/**
 * Loads a decoder model from its directory's files (name -> bytes; names relative to the directory).
 *
 * @example
 * const model = await loadDecoderModel(new Map([["model.onnx", onnx], ["config.json", cfg], ...]), { intraOpThreads: 2 });
 */
export async function loadDecoderModel(
  files: ReadonlyMap<string, Uint8Array>,
  options: DecoderModelOptions = {},
): Promise<DecoderModel> {
  const config = parseJson(files, "config.json", true);
  const generation = parseJson(files, "generation_config.json", false);
  const tokenizerConfig = parseJson(files, "tokenizer_config.json", false);
  const tokenizer = loadGenerationTokenizer(parseJson(files, "tokenizer.json", true), tokenizerConfig);
  const chatTemplate = loadChatTemplate(tokenizerConfig);
  const onnxName = DECODER_MODEL_FILES.find((n) => files.has(n));
  if (!onnxName)
    throw new GenerationError("MODEL_LAYOUT_INVALID", `loading model: none of ${DECODER_MODEL_FILES.join(", ")} found`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(files.get(onnxName)!, {
      graphOptimizationLevel: "all",
      logSeverityLevel: 3,
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    });
  } catch (cause) {
    throw new GenerationError("MODEL_LAYOUT_INVALID", `loading model: ${onnxName} is not a loadable ONNX model`, {
      cause,
    });
  }
  try {
    const layout = decoderLayout(session.inputMetadata, session.outputNames, config);
    const eos = eosIds(generation, config);
    if (eos.size === 0)
      throw new GenerationError("MODEL_LAYOUT_INVALID", "loading model: no eos_token_id in the configs");
    const own = int(config["max_position_embeddings"]) ?? int(config["n_positions"]) ?? 2048;
    const contextLength = Math.min(own, options.contextLength ?? own);
    const wrapped: DecoderSession = {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run: (feeds) => session.run(feeds) as Promise<Record<string, ort.Tensor>>,
      release: () => session.release(),
    };
    return {
      session: wrapped,
      layout,
      tokenizer,
      chatTemplate,
      eosTokenIds: eos,
      contextLength,
      release: () => session.release(),
    };
  } catch (e) {
    await session.release();
    throw e;
  }
}
