/**
 * Next-token choice from a logits row: greedy (temperature 0) or sampled with temperature, top-k, top-p and
 * OpenAI-style presence/frequency penalties, drawing from a seeded PRNG so a seed reproduces a generation.
 * Order of filters as in Hugging Face transformers: penalties, temperature, top-k, then top-p. Pure; no allocation
 * proportional to the vocabulary except one scratch array per sampler.
 */

/** Resolved sampling parameters (see `validateGenerationParams` for ranges and defaults). */
export interface SamplingParams {
  /** 0 means greedy (argmax); otherwise logits are divided by it. */
  readonly temperature: number;
  /** Nucleus: keep the most probable tokens whose mass reaches `topP`; 1 keeps all. */
  readonly topP: number;
  /** Keep only the `topK` most probable tokens; 0 keeps all. */
  readonly topK: number;
  /** Subtracted once from the logit of every token already generated. */
  readonly presencePenalty: number;
  /** Subtracted from a token's logit once per time it was generated. */
  readonly frequencyPenalty: number;
  /** PRNG seed (unsigned 32-bit). */
  readonly seed: number;
}

/** A 32-bit PRNG (SplitMix32 seeding an SFC32 generator): uniform floats in [0, 1). */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

/** Index of the largest value (the first one on ties). */
export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** Picks next tokens for one sequence; keeps its PRNG state between calls. */
export class TokenSampler {
  private readonly random: () => number;
  private scratch: Float64Array = new Float64Array(0);

  constructor(private readonly params: SamplingParams) {
    this.random = seededUniform(params.seed);
  }

  /**
   * Chooses the next token from `row` (one logits row, length = vocabulary).
   * @param counts how often each token id was generated so far (for the penalties).
   */
  next(row: Float32Array, counts: ReadonlyMap<number, number>): number {
    const p = this.params;
    const penalised = p.presencePenalty !== 0 || p.frequencyPenalty !== 0;
    if (p.temperature === 0 && !penalised) return argmax(row);
    if (this.scratch.length !== row.length) this.scratch = new Float64Array(row.length);
    const s = this.scratch;
    for (let i = 0; i < row.length; i++) s[i] = row[i]!;
    if (penalised) for (const [id, n] of counts) s[id] = s[id]! - p.presencePenalty - p.frequencyPenalty * n;
    if (p.temperature === 0) return argmaxF64(s);
    let max = -Infinity;
    for (let i = 0; i < s.length; i++) {
      s[i] = s[i]! / p.temperature;
      if (s[i]! > max) max = s[i]!;
    }
    const candidates = this.candidates(s, max);
    const weights = candidates.map((i) => Math.exp(s[i]! - max));
    let keep = candidates.length;
    if (p.topP < 1) {
      // `candidates` is sorted by probability here; mass relative to the candidates (after top-k) or the whole row.
      const total = p.topK > 0 ? weights.reduce((a, w) => a + w, 0) : sumExp(s, max);
      let cum = 0;
      for (keep = 0; keep < candidates.length;) {
        cum += weights[keep++]!;
        if (cum >= p.topP * total) break;
      }
    }
    let mass = 0;
    for (let k = 0; k < keep; k++) mass += weights[k]!;
    let u = this.random() * mass;
    for (let k = 0; k < keep; k++) {
      u -= weights[k]!;
      if (u < 0) return candidates[k]!;
    }
    return candidates[keep - 1]!;
  }

  /** Token ids that survive top-k (and may survive top-p), sorted by value descending when a filter applies. */
  private candidates(s: Float64Array, max: number): number[] {
    const { topK, topP } = this.params;
    if (topK > 0 && topK < s.length) return topKIndices(s, topK);
    if (topP >= 1) return Array.from({ length: s.length }, (_, i) => i);
    // Nucleus without top-k: the nucleus is a prefix of the sorted row, so sort only the values above a threshold
    // whose mass already reaches top_p (lowered 10 nats at a time), not the whole vocabulary.
    const total = sumExp(s, max);
    for (let threshold = max - 10; ; threshold -= 10) {
      const above: number[] = [];
      let mass = 0;
      for (let i = 0; i < s.length; i++) {
        if (s[i]! >= threshold) {
          above.push(i);
          mass += Math.exp(s[i]! - max);
        }
      }
      if (mass >= topP * total || above.length === s.length) return above.sort((a, b) => s[b]! - s[a]! || a - b);
    }
  }
}

function argmaxF64(s: Float64Array): number {
  let best = 0;
  for (let i = 1; i < s.length; i++) if (s[i]! > s[best]!) best = i;
  return best;
}

function sumExp(s: Float64Array, max: number): number {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += Math.exp(s[i]! - max);
  return total;
}

/** The `k` largest entries' indices, sorted by value descending (ties: lower index first). O(n log k). */
function topKIndices(s: Float64Array, k: number): number[] {
  const heap: number[] = []; // min-heap by (value, -index)
  const less = (a: number, b: number) => s[a]! < s[b]! || (s[a] === s[b] && a > b);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = 0; i < s.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let c = heap.length - 1; c > 0;) {
        const parent = (c - 1) >> 1;
        if (!less(heap[c]!, heap[parent]!)) break;
        [heap[c], heap[parent]] = [heap[parent]!, heap[c]!];
        c = parent;
      }
    } else if (less(heap[0]!, i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => s[b]! - s[a]! || a - b);
}
