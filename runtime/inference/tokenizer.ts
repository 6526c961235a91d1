/**
 * Text to model inputs, inside the boundary: a Hugging Face `tokenizer.json` (WordPiece, BPE, Unigram, ...)
 * read with `@huggingface/tokenizers`, padded to the model's sequence length. Too long -> `TOO_MANY_TOKENS`
 * (no silent truncation).
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { InferenceError } from "./errors.js";

/** Token ids, attention mask and token type ids for a batch, each int64 [rows, sequenceLength]. */
export interface EncodedBatch {
  readonly rows: number;
  readonly sequenceLength: number;
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  readonly tokenTypeIds: BigInt64Array;
}

/** A loaded tokenizer bound to a fixed sequence length. */
export interface TextTokenizer {
  /** Tokens per row after padding (includes special tokens such as [CLS]/[SEP]). */
  readonly sequenceLength: number;
  /** Encodes texts; `field` names the request field for error messages (e.g. `inputs[0]`). */
  encodeBatch(texts: readonly string[], field: string): EncodedBatch;
  /** Token strings for one text (diagnostics and tests; never logged). */
  tokenize(text: string): string[];
}

// A UTF-8 text longer than this many bytes per allowed token cannot fit; reject it before tokenizing.
const MAX_BYTES_PER_TOKEN = 64;

/**
 * Loads a tokenizer from a parsed `tokenizer.json` object (and optional `tokenizer_config.json`).
 * A document the library cannot use -> `TOKENIZER_INVALID`.
 *
 * @example
 * const tok = loadTokenizer(JSON.parse(readFileSync("models/tokenizer.json", "utf8")), { sequenceLength: 64 });
 * tok.encodeBatch(["hello world"], "inputs[0]").inputIds; // [2n, ...ids, 3n, 0n, ...]
 */
export function loadTokenizer(
  tokenizerJson: unknown,
  options: { sequenceLength: number; config?: object },
): TextTokenizer {
  const { sequenceLength } = options;
  if (!Number.isInteger(sequenceLength) || sequenceLength < 2)
    throw new TypeError("sequenceLength must be an integer >= 2");
  const doc = tokenizerJson as { model?: { type?: unknown }; padding?: { pad_id?: unknown } | null } | null;
  if (typeof doc !== "object" || doc === null || typeof doc.model?.type !== "string") {
    throw new InferenceError("TOKENIZER_INVALID", "loading tokenizer: tokenizer.json has no model.type");
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(doc, options.config ?? {});
    tok.encode("probe");
  } catch (cause) {
    throw new InferenceError(
      "TOKENIZER_INVALID",
      `loading tokenizer: ${cause instanceof Error ? cause.message : "unreadable tokenizer.json"}`,
      { cause },
    );
  }
  const padId =
    typeof doc.padding?.pad_id === "number"
      ? doc.padding.pad_id
      : (tok.token_to_id("[PAD]") ?? tok.token_to_id("<pad>") ?? 0);
  return {
    sequenceLength,
    tokenize: (text) => tok.encode(text).tokens,
    encodeBatch(texts, field) {
      const rows = texts.length;
      const inputIds = new BigInt64Array(rows * sequenceLength).fill(BigInt(padId));
      const attentionMask = new BigInt64Array(rows * sequenceLength);
      const tokenTypeIds = new BigInt64Array(rows * sequenceLength);
      const tooLong: string[] = [];
      texts.forEach((text, r) => {
        if (Buffer.byteLength(text, "utf8") > sequenceLength * MAX_BYTES_PER_TOKEN) {
          tooLong.push(`${field}.data[${r}]: more than ${sequenceLength * MAX_BYTES_PER_TOKEN} bytes`);
          return;
        }
        const e = tok.encode(text, { return_token_type_ids: true });
        if (e.ids.length > sequenceLength) {
          tooLong.push(`${field}.data[${r}]: ${e.ids.length} tokens, limit ${sequenceLength}`);
          return;
        }
        const base = r * sequenceLength;
        for (let i = 0; i < e.ids.length; i++) {
          inputIds[base + i] = BigInt(e.ids[i] ?? padId);
          attentionMask[base + i] = 1n;
          tokenTypeIds[base + i] = BigInt(e.token_type_ids[i] ?? 0);
        }
      });
      if (tooLong.length > 0) throw new InferenceError("TOO_MANY_TOKENS", tooLong.join("; "));
      return { rows, sequenceLength, inputIds, attentionMask, tokenTypeIds };
    },
  };
}
