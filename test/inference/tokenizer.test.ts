import { describe, expect, it } from "vitest";
import { bertTokenizerJson, bundledVocabulary } from "../../runtime/simulators/models/vocab.js";
import { isInferenceError } from "../../runtime/inference/errors.js";
import { loadTokenizer } from "../../runtime/inference/tokenizer.js";
import { bundledTokenizerJson } from "../helpers/inference.js";

const vocab = bundledVocabulary();
const tok = loadTokenizer(bundledTokenizerJson(), { sequenceLength: 16 });

// Known answers derived by hand from BERT's uncased WordPiece rules (BasicTokenizer: clean text, lowercase,
// strip accents (NFD, drop Mn), split CJK characters and punctuation; then greedy longest-match-first with "##"
// continuations and [UNK] for a word that cannot be covered). "unaffable" -> un ##aff ##able is the example
// in google-research/bert's README.
describe("tokenizer (BERT-style WordPiece via @huggingface/tokenizers)", () => {
  it.each([
    ["Hello, World! unaffable", ["[CLS]", "hello", ",", "world", "!", "un", "##aff", "##able", "[SEP]"]],
    ["HÉLLO Wörld", ["[CLS]", "hello", "world", "[SEP]"]],
    ["don't", ["[CLS]", "do", "##n", "'", "t", "[SEP]"]],
    ["movies\tloved", ["[CLS]", "movie", "##s", "loved", "[SEP]"]],
    ["中文 key", ["[CLS]", "[UNK]", "[UNK]", "key", "[SEP]"]],
    ["42%", ["[CLS]", "4", "##2", "%", "[SEP]"]],
    ["", ["[CLS]", "[SEP]"]],
  ])("tokenizes %j", (text, tokens) => {
    expect(tok.tokenize(text)).toEqual(tokens);
  });

  it("pads ids to the sequence length with [PAD] and masks the padding", () => {
    const enc = tok.encodeBatch(["hello world", "great"], "input text");
    const ids = (t: string) => BigInt(vocab.indexOf(t));
    const pad = new Array(12).fill(0n);
    expect(Array.from(enc.inputIds)).toEqual([
      ids("[CLS]"),
      ids("hello"),
      ids("world"),
      ids("[SEP]"),
      ...pad,
      ids("[CLS]"),
      ids("great"),
      ids("[SEP]"),
      0n,
      ...pad,
    ]);
    expect(Array.from(enc.attentionMask)).toEqual([1n, 1n, 1n, 1n, ...pad, 1n, 1n, 1n, 0n, ...pad]);
    expect(enc.tokenTypeIds.every((v) => v === 0n)).toBe(true);
    expect([enc.rows, enc.sequenceLength]).toEqual([2, 16]);
  });

  it("refuses text longer than the sequence length with TOO_MANY_TOKENS, naming only positions", () => {
    const long = "secret ".repeat(15);
    try {
      tok.encodeBatch(["ok", long], "input text");
      expect.unreachable();
    } catch (e) {
      expect(isInferenceError(e, "TOO_MANY_TOKENS")).toBe(true);
      expect((e as Error).message).toBe("input text.data[1]: 17 tokens, limit 16");
    }
  });

  it("refuses a tokenizer.json without a model with TOKENIZER_INVALID", () => {
    expect(() => loadTokenizer({ version: "1.0" }, { sequenceLength: 8 })).toThrow(
      expect.objectContaining({ code: "TOKENIZER_INVALID" }),
    );
    expect(() =>
      loadTokenizer({ ...bertTokenizerJson(vocab), model: { type: "NoSuchModel" } }, { sequenceLength: 8 }),
    ).toThrow(expect.objectContaining({ code: "TOKENIZER_INVALID" }));
  });
});
