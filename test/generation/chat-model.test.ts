import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { bytesToUnicode, trainByteLevelBpe } from "../../runtime/simulators/models/bpe.js";
import { buildBundledChatModel } from "../../runtime/simulators/models/chat-model.js";
import { loadChatTemplate } from "../../runtime/inference/generation/chat-template.js";
import { loadGenerationTokenizer } from "../../runtime/inference/generation/tokenizer.js";
import { chatModelFiles, loadChatModel } from "../helpers/generation.js";

// Pinned digests of the bundled chat model directory (`npx tsx scripts/build-models.ts` prints the same lines).
const PINNED: Record<string, [string, number]> = {
  "config.json": ["25a643a1b7428b5e46aee65bc14158404b49345dd3ab94ed99f15b3066cd01c2", 539],
  "generation_config.json": ["b42c54e8915f4dcb714dd26a9cd31b98f09919fbaa4a66c02133b819c88dbf51", 68],
  "tokenizer.json": ["f035bd3ca5e3c1407673113088cb01eeccc97a45af8ef058691e42d5705c1404", 32004],
  "tokenizer_config.json": ["307bb004ffa6b32bd019ca2915cfc163fda8d57f71afab4e3af62aeeab058cc5", 1294],
  "model.onnx": ["817f2793b6a818959ceb5ed8f59164b57a9e414bff9747bbaf88a9d7be2c6611", 6485484],
};

const json = (name: string): unknown => JSON.parse(new TextDecoder().decode(chatModelFiles().get(name)!));

describe("bundled chat model", () => {
  it("builds byte-identical files with the pinned sha256 on every run", () => {
    const a = buildBundledChatModel();
    const b = buildBundledChatModel();
    expect(a.map((f) => [f.name, f.sha256, f.bytes.length])).toEqual(
      Object.entries(PINNED).map(([n, [h, s]]) => [n, h, s]),
    );
    a.forEach((f, i) => expect(Buffer.compare(Buffer.from(f.bytes), Buffer.from(b[i]!.bytes))).toBe(0));
  });

  it("has the Optimum text-generation-with-past inputs and outputs (real onnxruntime session)", async () => {
    const s = await ort.InferenceSession.create(chatModelFiles().get("model.onnx")!);
    expect(s.inputMetadata.map((m) => [m.name, m.isTensor && m.type, m.isTensor && m.shape])).toEqual([
      ["input_ids", "int64", ["batch_size", "sequence_length"]],
      ["attention_mask", "int64", ["batch_size", "total_sequence_length"]],
      ["position_ids", "int64", ["batch_size", "sequence_length"]],
      ["past_key_values.0.key", "float32", ["batch_size", 2, "past_sequence_length", 160]],
      ["past_key_values.0.value", "float32", ["batch_size", 2, "past_sequence_length", 160]],
      ["past_key_values.1.key", "float32", ["batch_size", 2, "past_sequence_length", 160]],
      ["past_key_values.1.value", "float32", ["batch_size", 2, "past_sequence_length", 160]],
    ]);
    expect(s.outputNames).toEqual(["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"]);
    await s.release();
  });

  it("loads with the layout, EOS ids and context read from the graph and configs", async () => {
    const m = await loadChatModel();
    expect(m.layout).toEqual({ layers: 2, kvHeads: 2, headDim: 160, positionIds: true, useCacheBranch: false });
    expect([...m.eosTokenIds]).toEqual([674, 672]);
    expect(m.contextLength).toBe(512);
    expect(json("config.json")).toMatchObject({ hidden_size: 240, num_attention_heads: 4, num_key_value_heads: 2 });
    await m.release();
  });
});

describe("byte-level BPE tokenizer", () => {
  const tok = loadGenerationTokenizer(json("tokenizer.json"), json("tokenizer_config.json"));

  it.each([
    ["plain ASCII", "Hello, world!"],
    ["accents", "Grüße aus Köln, café naïve"],
    ["CJK", "日本語のテキスト"],
    ["emoji (4-byte UTF-8)", "ok 🙂🚀 done ☕"],
    ["whitespace runs", "a  b\n\n\tc   "],
    ["special tokens", "<|im_start|>user\nhi<|im_end|>"],
  ])("round-trips %s", (_, text) => {
    const ids = tok.encode(text);
    const specials = text.includes("<|") ? text.replace(/<\|[a-z_]+\|>/g, "") : text;
    expect(tok.decode(ids)).toBe(specials);
  });

  it("encodes with learned merges and special-token ids (known answer)", () => {
    expect(tok.encode("Hello, wörld 🙂!")).toEqual([72, 547, 111, 44, 269, 195, 182, 114, 566, 482, 153, 130, 33]);
    expect(tok.encode("<|im_start|>user\nHi<|im_end|>")).toEqual([673, 304, 10, 72, 105, 674]);
    expect(tok.tokenId("<|endoftext|>")).toBe(672);
  });

  it("keeps WordPiece tokenizers working (the bundled encoder's BERT tokenizer)", async () => {
    const { buildBundledModels } = await import("../../runtime/simulators/models/index.js");
    const bert = buildBundledModels().find((f) => f.name === "tokenizer.json")!;
    const wp = loadGenerationTokenizer(JSON.parse(new TextDecoder().decode(bert.bytes)));
    expect(wp.decode(wp.encode("i loved this great movie"))).toBe("i loved this great movie");
  });

  it("trains merges by frequency with ties broken by text (known answer, counted by hand)", () => {
    // Words: "low", " lower", " lowest", " low". l+o and o+w both occur 4 times ("l\0o" sorts first), then lo+w (4),
    // " "+low (3), " low"+e (2); every other pair occurs once.
    const b = trainByteLevelBpe("low lower lowest low", 256 + 4);
    const G = bytesToUnicode()[0x20]!;
    expect(b.merges).toEqual([
      ["l", "o"],
      ["lo", "w"],
      [G, "low"],
      [`${G}low`, "e"],
    ]);
  });
});

describe("ChatML chat template", () => {
  it("renders a 3-message conversation with the generation prompt (exact string)", () => {
    const t = loadChatTemplate(json("tokenizer_config.json"))!;
    const text = t.render([
      { role: "system", content: "You are terse." },
      { role: "user", content: "Hi!" },
      { role: "assistant", content: "Hello." },
    ]);
    expect(text).toBe(
      "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n" +
        "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>assistant\n",
    );
  });

  it.each([
    ["an empty list", [], "rendering chat: messages: must be a non-empty list"],
    ["a message without content", [{ role: "user" }], "rendering chat: messages[0].content: must be a string"],
    ["an unknown role", [{ role: "tool", content: "x" }], "rendering chat: the chat template rejected these messages"],
  ])("rejects %s with INVALID_MESSAGES", (_, messages, message) => {
    const t = loadChatTemplate(json("tokenizer_config.json"))!;
    expect(() => t.render(messages as never)).toThrow(expect.objectContaining({ code: "INVALID_MESSAGES", message }));
  });

  it("is absent when the config has none, and TOKENIZER_INVALID when it does not parse", () => {
    expect(loadChatTemplate({})).toBeUndefined();
    expect(() => loadChatTemplate({ chat_template: "{% for %}" })).toThrow(
      expect.objectContaining({ code: "TOKENIZER_INVALID" }),
    );
  });
});
