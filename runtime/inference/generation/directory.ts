/**
 * Reads a decoder model directory (an Optimum or transformers.js export) into memory for `loadDecoderModel`.
 * The only file-system adapter of the generation engine: sealed models are decrypted in memory and handed to
 * `loadDecoderModel` directly, never through here.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DECODER_MODEL_FILES } from "./model.js";

/** Files read from a model directory (absent ones are skipped; `loadDecoderModel` says which are required). */
export const MODEL_DIRECTORY_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
] as const;

/**
 * Reads the config, tokenizer and the first graph found (see `DECODER_MODEL_FILES`) from `dir`.
 *
 * @example
 * const model = await loadDecoderModel(readModelDirectory("out/qwen2.5-0.5b-instruct"));
 */
export function readModelDirectory(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const name of MODEL_DIRECTORY_FILES) {
    const path = join(dir, name);
    if (existsSync(path)) files.set(name, readFileSync(path));
  }
  const graph = DECODER_MODEL_FILES.find((name) => existsSync(join(dir, name)));
  if (graph) files.set(graph, readFileSync(join(dir, graph)));
  return files;
}
