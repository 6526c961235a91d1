/**
 * A byte-level BPE trainer (GPT-2 style) and the bundled chat tokenizer it produces, as Hugging Face
 * `tokenizer.json` and `tokenizer_config.json` documents. Pure and deterministic: the same corpus always yields the
 * same merges, ids and bytes.
 *
 * Training follows the `tokenizers` library's BpeTrainer: pre-tokenize with the ByteLevel regex, map every UTF-8
 * byte to its printable stand-in (GPT-2 `bytes_to_unicode`), then repeatedly merge the most frequent adjacent pair
 * (ties broken by the pair's text, so the result does not depend on map iteration order).
 */
import { BPE_TRAINING_CORPUS } from "./bpe-corpus.js";

/** The ByteLevel pre-tokenizer pattern of GPT-2 (identical to the one `@huggingface/tokenizers` applies). */
const BYTE_LEVEL_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Special tokens of the bundled chat tokenizer, appended after the learned vocabulary in this order. */
export const CHAT_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;

/** Vocabulary size of the bundled chat tokenizer, special tokens included. */
export const CHAT_VOCAB_SIZE = 1024;

/**
 * A ChatML chat template (the format of Qwen2 and many other instruct models). Renders every message as
 * `<|im_start|>ROLE\nCONTENT<|im_end|>\n` and, with `add_generation_prompt`, opens the assistant's turn.
 */
export const CHATML_TEMPLATE =
  "{%- for message in messages %}" +
  "{%- if message['role'] not in ['system', 'user', 'assistant'] %}" +
  "{{- raise_exception('messages: role must be system, user or assistant') }}" +
  "{%- endif %}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** GPT-2's reversible map from bytes to printable characters (printable Latin-1 stays, the rest moves to U+0100+). */
export function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(printable(b) ? b : 256 + n++));
  return out;
}

/** A trained byte-level BPE: `vocab[i]` is the token string of id `i`; merges in rank order. */
export interface TrainedBpe {
  readonly vocab: readonly string[];
  readonly merges: ReadonlyArray<readonly [string, string]>;
}

/**
 * Learns byte-level BPE merges from `corpus` until the vocabulary has `size` entries or no pair occurs twice.
 *
 * @example trainByteLevelBpe("low lower lowest", 260).merges; // [["l","o"], ["lo","w"], ...]
 */
export function trainByteLevelBpe(corpus: string, size: number): TrainedBpe {
  const byteChars = bytesToUnicode();
  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const piece of corpus.match(BYTE_LEVEL_PATTERN) ?? []) {
    const mapped = Array.from(encoder.encode(piece), (b) => byteChars[b]!).join("");
    wordCounts.set(mapped, (wordCounts.get(mapped) ?? 0) + 1);
  }
  const words = [...wordCounts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([w, count]) => ({ symbols: Array.from(w), count }));
  const vocab = [...byteChars];
  const merges: Array<[string, string]> = [];
  while (vocab.length < size) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [key, count] of pairs) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split("\u0000") as [string, string];
    merges.push([left, right]);
    vocab.push(left + right);
    for (const word of words) {
      const s = word.symbols;
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === left && s[i + 1] === right) s.splice(i, 2, left + right);
      }
    }
  }
  return { vocab, merges };
}

/** The bundled chat tokenizer's documents (`tokenizer.json`, `tokenizer_config.json`) and its id table. */
export interface ChatTokenizerFiles {
  readonly tokenizerJson: object;
  readonly tokenizerConfig: object;
  /** Token string of every id, special tokens included. */
  readonly tokens: readonly string[];
}

/** Trains the bundled tokenizer on `BPE_TRAINING_CORPUS` and renders its Hugging Face documents. */
export function buildChatTokenizer(): ChatTokenizerFiles {
  const { vocab, merges } = trainByteLevelBpe(BPE_TRAINING_CORPUS, CHAT_VOCAB_SIZE - CHAT_SPECIAL_TOKENS.length);
  const tokens = [...vocab, ...CHAT_SPECIAL_TOKENS];
  const added = CHAT_SPECIAL_TOKENS.map((content, i) => ({
    id: vocab.length + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const tokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      merges,
    },
  };
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(added.map(({ id, ...rest }) => [String(id), rest])),
    additional_special_tokens: ["<|im_start|>", "<|im_end|>"],
    bos_token: null,
    chat_template: CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: "<|im_end|>",
    model_max_length: 512,
    pad_token: "<|endoftext|>",
    tokenizer_class: "PreTrainedTokenizerFast",
    unk_token: null,
  };
  return { tokenizerJson, tokenizerConfig, tokens };
}
