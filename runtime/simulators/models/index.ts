/**
 * Builds the bundled models and their tokenizer (see `scripts/build-models.ts`). Pure: returns bytes.
 *
 * @example
 * const files = buildBundledModels(); // [{ name: "sentiment.onnx", bytes }, ...]
 */
import { createHash } from "node:crypto";
import { buildEncoderModel, buildSentimentModel } from "./models.js";
import { bertTokenizerJson, bundledVocabulary } from "./vocab.js";

/** One generated file. */
export interface BundledFile {
  /** File name (no directory), e.g. `encoder.onnx`. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Lowercase hex SHA-256 of `bytes`. */
  readonly sha256: string;
}

/** File names of the bundle, in build order. */
export const BUNDLED_FILE_NAMES = ["tokenizer.json", "sentiment.onnx", "encoder.onnx"] as const;

/** Builds every bundled file (deterministic: same bytes on every run and machine). */
export function buildBundledModels(): BundledFile[] {
  const vocab = bundledVocabulary();
  const tokenizer = new TextEncoder().encode(`${JSON.stringify(bertTokenizerJson(vocab), null, 1)}\n`);
  const files: Array<[string, Uint8Array]> = [
    ["tokenizer.json", tokenizer],
    ["sentiment.onnx", buildSentimentModel(vocab)],
    ["encoder.onnx", buildEncoderModel(vocab)],
  ];
  return files.map(([name, bytes]) => ({ name, bytes, sha256: createHash("sha256").update(bytes).digest("hex") }));
}
