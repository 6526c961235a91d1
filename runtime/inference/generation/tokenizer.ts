/**
 * The generation side of a Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`, read with
 * `@huggingface/tokenizers`): byte-level BPE (GPT-2, Qwen2, Llama 3) as well as WordPiece or Metaspace models, and
 * incremental detokenisation for streaming that never emits half a UTF-8 character.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { GenerationError } from "./errors.js";

/** Text to ids and back, for one model. */
export interface GenerationTokenizer {
  /** Ids of `text` as the model sees it; special-token text (`<|im_start|>`) maps to its id; no BOS/EOS added. */
  encode(text: string): number[];
  /** Text of `ids`, special tokens left out. */
  decode(ids: readonly number[]): string;
  /** Id of a token string (e.g. `<|im_end|>`); undefined when the vocabulary lacks it. */
  tokenId(token: string): number | undefined;
}

/**
 * Loads a tokenizer from the parsed `tokenizer.json` and `tokenizer_config.json` documents.
 * An unusable document -> `TOKENIZER_INVALID`.
 *
 * @example
 * const tok = loadGenerationTokenizer(JSON.parse(tokenizerJson), JSON.parse(tokenizerConfigJson));
 * tok.decode(tok.encode("héllo 🙂")); // "héllo 🙂"
 */
export function loadGenerationTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown = {}): GenerationTokenizer {
  const doc = tokenizerJson as { model?: { type?: unknown } } | null;
  if (typeof doc !== "object" || doc === null || typeof doc.model?.type !== "string")
    throw new GenerationError("TOKENIZER_INVALID", "loading tokenizer: tokenizer.json has no model.type");
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(doc, typeof tokenizerConfig === "object" && tokenizerConfig !== null ? tokenizerConfig : {});
    tok.encode("probe");
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : "unreadable tokenizer.json";
    throw new GenerationError("TOKENIZER_INVALID", `loading tokenizer: ${why}`, { cause });
  }
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => (ids.length === 0 ? "" : tok.decode(ids as number[], { skip_special_tokens: true })),
    tokenId: (token) => tok.token_to_id(token),
  };
}

/**
 * Turns a stream of token ids into text deltas. Decodes a short window (the last emitted token onwards) and holds
 * back text that ends in U+FFFD, which is how a decoder shows a UTF-8 sequence cut in the middle: the rest of the
 * character arrives with a later token. The same method as Hugging Face text-generation-inference, so decoders
 * that change text at token boundaries (Metaspace, WordPiece `##`) stream correctly too.
 */
export class StreamDetokenizer {
  private readonly ids: number[] = [];
  private prefix = 0;
  private read = 0;

  constructor(private readonly tokenizer: GenerationTokenizer) {}

  /** Adds one token; returns the text it completes (often "", e.g. for the first byte of an emoji). */
  push(id: number): string {
    this.ids.push(id);
    const before = this.tokenizer.decode(this.ids.slice(this.prefix, this.read));
    const now = this.tokenizer.decode(this.ids.slice(this.prefix));
    if (now.length <= before.length || now.endsWith("\uFFFD")) return "";
    this.prefix = this.read;
    this.read = this.ids.length;
    return now.slice(before.length);
  }

  /** Text still held back at the end (an incomplete character decodes to U+FFFD). */
  flush(): string {
    const before = this.tokenizer.decode(this.ids.slice(this.prefix, this.read));
    const now = this.tokenizer.decode(this.ids.slice(this.prefix));
    this.prefix = this.read = this.ids.length;
    return now.length > before.length ? now.slice(before.length) : "";
  }
}
