/**
 * Weights of the bundled chat model: seeded noise everywhere plus a hand-built circuit that makes the model repeat
 * the last user message of a ChatML conversation and then end its turn with `<|im_end|>`.
 *
 * The residual stream (240 dims) holds five 48-dim blocks: T (the token's own embedding: a random unit vector in 47
 * dims; the role tokens `user` and `assistant` share one vector), P1, P2, P3 (the embeddings of the 1, 2 and 3
 * positions back) and O (the token to predict).
 * - Layer 0 has three positional heads: their queries and keys are bias vectors in the rotary dims, so RoPE alone
 *   makes head h look exactly h + 1 positions back. They copy T of that position into P1, P2 and P3.
 * - Layer 1 head 0 is an induction head over the longest matching context: its query is the last three tokens
 *   [T, P1, P2] and each key the three tokens before that position [P1, P2, P3], in separate head dims, so a position
 *   whose three preceding tokens equal the current last three scores three matches (about 40 nats each) and wins
 *   over two or one. It copies T of that position into O. After a role token (the start of an answer) a RoPE
 *   recency bias picks the latest turn.
 * - The LM head reads O against every token's embedding.
 * So the answer repeats the last user message token by token, and the token after it, `<|im_end|>`, ends the turn.
 * A phrase of three or more tokens that repeats inside the message can send it round in a loop until `max_tokens`.
 * The other heads and both MLPs are seeded noise with small outputs.
 */
import { type DecoderShape, type DecoderWeights, ropeInverseFrequencies } from "./decoder-graph.js";
import { seededRandom, uniform } from "./graph.js";

const BLOCK = 48;
/** Embedding dims per token (the last one is where the role tokens live). */
const CONTENT = 47;
const [T0, P1, P2, P3, O0] = [0, 1, 2, 3, 4].map((b) => b * BLOCK) as [number, number, number, number, number];
const ROTARY = 16;

/** Tokens that mark a conversation turn's role (they share one embedding, so `assistant` matches `user`). */
export const ROLE_TOKENS = ["user", "assistant"] as const;

/** Layer-0 positional score per rotary plane (nats): sharp enough that the wrong neighbour gets < 1e-6 weight. */
const POSITIONAL_PLANE_WEIGHTS = [30, 20, 16, 12, 10, 8, 6, 4];
/** Score of one matching token in the induction head, in nats. */
const MATCH_NATS = 40;
/** Recency bias of the induction head after a role token (nats from nearest to farthest over the context). */
const RECENCY_NATS = 30;
const RECENCY_PLANE = 5;
const LM_GAIN = 24;
const NOISE = 0.01;

/** Builds the bundled chat model's weights for a vocabulary (token strings by id). Deterministic. */
export function buildEchoWeights(shape: DecoderShape, tokens: readonly string[]): DecoderWeights {
  const { hidden: H, heads, kvHeads, headDim: hd, intermediate: I, vocab: V } = shape;
  if (H !== 5 * BLOCK || hd < ROTARY + 3 * CONTENT || shape.rotaryDim !== ROTARY || heads !== 4 || kvHeads !== 2)
    throw new TypeError("buildEchoWeights: the circuit needs hidden 240, 4 heads, 2 kv heads, head_dim >= 157, rotary 16");
  const rand = seededRandom(0xc4a7);
  const roles = new Set<string>(ROLE_TOKENS);
  for (const r of ROLE_TOKENS)
    if (!tokens.includes(r)) throw new TypeError(`buildEchoWeights: role token ${r} is not one token`);

  const unit = () => {
    const v = uniform(rand, CONTENT, 1);
    const n = Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
    return v.map((x) => x / n);
  };
  const role = new Float32Array(CONTENT);
  role[CONTENT - 1] = 1;
  const embed = new Float32Array(V * H);
  tokens.forEach((t, id) => {
    const v = unit(); // drawn for every token, so ids keep their vectors whatever the role set
    embed.set(roles.has(t) ? role : v.map((x, i) => (i === CONTENT - 1 ? 0 : x)), id * H + T0);
  });

  const norm = () => new Float32Array(H).fill(1 / Math.sqrt(H));
  const theta = ropeInverseFrequencies(shape);
  const half = ROTARY / 2;
  const qCols = heads * hd;
  const kvCols = kvHeads * hd;
  const rootHd = Math.sqrt(hd);

  function noiseLayer(randomHeads: number[]) {
    // Designed heads start near zero; `randomHeads` get ordinary random queries (their outputs stay small).
    const wq = uniform(rand, H * qCols, NOISE);
    for (const h of randomHeads) for (let r = 0; r < H; r++) for (let d = 0; d < hd; d++) wq[r * qCols + h * hd + d]! *= 20;
    return {
      inputNorm: norm(),
      wq,
      bq: uniform(rand, qCols, NOISE),
      wk: uniform(rand, H * kvCols, NOISE),
      bk: uniform(rand, kvCols, NOISE),
      wv: uniform(rand, H * kvCols, NOISE),
      bv: uniform(rand, kvCols, NOISE),
      wo: uniform(rand, qCols * H, NOISE),
      postNorm: norm(),
      wGate: uniform(rand, H * I, 0.3),
      wUp: uniform(rand, H * I, 0.3),
      wDown: uniform(rand, I * H, 0.02),
    };
  }
  const set = (m: Float32Array, cols: number, r: number, c: number, v: number) => {
    m[r * cols + c] = v;
  };

  // Layer 0: heads 0 and 1 (kv head 0) and head 2 (kv head 1) look 1, 2 and 3 positions back.
  const l0 = noiseLayer([3]);
  POSITIONAL_PLANE_WEIGHTS.forEach((w, p) => {
    const amp = Math.sqrt(w * rootHd);
    for (const kv of [0, 1]) {
      l0.bk[kv * hd + p] = amp;
      l0.bk[kv * hd + p + half] = 0;
    }
    // score_p(delta) = w * cos((delta - d) * theta_p), largest at delta = d.
    for (const h of [0, 1, 2]) {
      const d = h + 1;
      l0.bq[h * hd + p] = amp * Math.cos(d * theta[p]!);
      l0.bq[h * hd + p + half] = -amp * Math.sin(d * theta[p]!);
    }
  });
  for (let i = 0; i < CONTENT; i++) {
    // After RMSNorm (weight 1/sqrt(H)) the layer-0 input is the unit embedding itself.
    for (const kv of [0, 1]) set(l0.wv, kvCols, T0 + i, kv * hd + i, 1);
    [P1, P2, P3].forEach((block, h) => set(l0.wo, H, h * hd + i, block + i, 1));
  }

  // Layer 1: head 0 (kv head 0) matches [T, P1, P2] at the query against [P1, P2, P3] at the key. Each of the four
  // blocks is about 1/2 after RMSNorm, so one match scores gain^2 / 4 / sqrt(hd).
  const l1 = noiseLayer([1, 2, 3]);
  const gain = Math.sqrt(MATCH_NATS * 4 * rootHd);
  for (let i = 0; i < CONTENT; i++) {
    [T0, P1, P2].forEach((block, s) => set(l1.wq, qCols, block + i, ROTARY + s * CONTENT + i, gain));
    [P1, P2, P3].forEach((block, s) => set(l1.wk, kvCols, block + i, ROTARY + s * CONTENT + i, gain));
    set(l1.wv, kvCols, T0 + i, i, 2);
    set(l1.wo, H, i, O0 + i, 1);
  }
  // Recency, only when the previous token is a role token (query term from P1's role dim): score =
  // -RECENCY_NATS * sin(delta * theta), falling over the whole context, so an answer starts at the latest turn.
  // Elsewhere no recency: it would favour the answer's own copies over the message.
  const amp = Math.sqrt(RECENCY_NATS * rootHd);
  l1.bk[RECENCY_PLANE] = amp;
  l1.bk[RECENCY_PLANE + half] = 0;
  set(l1.wq, qCols, P1 + CONTENT - 1, RECENCY_PLANE + half, amp * 2);

  const lmHead = uniform(rand, H * V, NOISE);
  for (let y = 0; y < V; y++) for (let k = 0; k < CONTENT; k++) lmHead[(O0 + k) * V + y] = LM_GAIN * embed[y * H + T0 + k]!;
  return { embed, layers: [l0, l1], finalNorm: norm(), lmHead };
}
