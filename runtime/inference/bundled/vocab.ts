/**
 * The bundled WordPiece vocabulary and its Hugging Face `tokenizer.json` (BERT-style: BertNormalizer
 * lowercasing and accent stripping, BertPreTokenizer, WordPiece with `##` continuations, and a
 * `[CLS] ... [SEP]` template). Small on purpose (tests and the sandbox); every lowercase ASCII word
 * tokenizes without `[UNK]` because single letters and their `##` continuations are in the vocabulary.
 */

/** Special tokens, in id order (ids 0-4). */
export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** Words that carry the classifier's "positive" feature. */
export const POSITIVE_WORDS = [
  "good", "great", "excellent", "love", "loved", "like", "liked", "happy", "wonderful", "best", "nice", "amazing",
  "fantastic", "enjoy", "enjoyed", "fun", "beautiful", "perfect", "brilliant", "pleasant", "recommend", "superb",
] as const;

/** Words that carry the classifier's "negative" feature. */
export const NEGATIVE_WORDS = [
  "bad", "terrible", "awful", "hate", "hated", "dislike", "sad", "worst", "boring", "poor", "horrible", "ugly",
  "broken", "slow", "waste", "annoying", "disappointing", "disappointed", "wrong", "angry", "painful", "dull",
] as const;

const COMMON_WORDS = [
  "the", "a", "an", "and", "or", "but", "not", "no", "is", "was", "are", "were", "be", "been", "it", "this", "that",
  "these", "those", "i", "you", "he", "she", "we", "they", "me", "my", "your", "our", "their", "of", "to", "in", "on",
  "at", "for", "with", "from", "by", "about", "as", "into", "over", "after", "before", "very", "really", "so", "too",
  "quite", "movie", "film", "book", "food", "service", "product", "day", "time", "people", "place", "story", "music",
  "room", "staff", "price", "quality", "hotel", "restaurant", "phone", "battery", "screen", "camera", "delivery",
  "experience", "would", "will", "could", "should", "can", "do", "did", "does", "have", "has", "had", "get", "got",
  "go", "went", "make", "made", "see", "saw", "think", "thought", "again", "never", "always", "all", "some", "more",
  "most", "much", "many", "one", "two", "three", "first", "last", "new", "old", "just", "also", "only", "even", "still",
  "what", "which", "who", "when", "where", "why", "how", "there", "here", "up", "down", "out", "if", "then", "than",
  "because", "while", "confidential", "inference", "model", "secret", "prompt", "data", "key", "hello", "world",
  "un", "##able", "##aff", "##s", "##ed", "##ing", "##ly", "##er", "##est", "##ness", "##ful",
] as const;

const PUNCTUATION = [".", ",", "!", "?", "'", "\"", "-", ":", ";", "(", ")", "/", "&", "%", "$", "#", "@", "*", "+", "="];

function letters(): string[] {
  const out: string[] = [];
  for (let c = 97; c <= 122; c++) out.push(String.fromCharCode(c));
  for (let c = 97; c <= 122; c++) out.push(`##${String.fromCharCode(c)}`);
  for (let d = 0; d <= 9; d++) out.push(String(d));
  for (let d = 0; d <= 9; d++) out.push(`##${d}`);
  return out;
}

/** The vocabulary in id order (no duplicates). */
export function bundledVocabulary(): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of [...SPECIAL_TOKENS, ...PUNCTUATION, ...letters(), ...COMMON_WORDS, ...POSITIVE_WORDS, ...NEGATIVE_WORDS]) {
    if (!seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  }
  return out;
}

/** The Hugging Face `tokenizer.json` object for `vocab` (BERT-style WordPiece, uncased). */
export function bertTokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const ids: Record<string, number> = {};
  vocab.forEach((t, i) => (ids[t] = i));
  const special = (t: string) => ({ id: ids[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } }, { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [ids["[CLS]"]], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [ids["[SEP]"]], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab: ids },
  };
}
