/**
 * The two bundled models, built from fixed seeds (byte-reproducible):
 * - `sentiment`: a bag-of-embeddings text classifier (labels `negative`, `positive`). Weights are seeded noise plus
 *   two hand-set features (the POSITIVE_WORDS / NEGATIVE_WORDS lists), so its answers are meaningful on the bundled
 *   vocabulary.
 * - `encoder`: a 4-layer transformer encoder (hidden 256, 4 heads, FFN 1024, sequence 64) with seeded weights,
 *   returning the attention-masked mean of its last hidden states as `embedding` [batch, 256].
 * Both take `input_ids` and `attention_mask` (int64 [batch, 64]).
 */
import { GraphBuilder, seededRandom, uniform } from "./graph.js";
import { NEGATIVE_WORDS, POSITIVE_WORDS } from "./vocab.js";

/** Sequence length of both bundled models (tokens, including [CLS] and [SEP]). */
export const BUNDLED_SEQUENCE_LENGTH = 64;
/** Labels of the `sentiment` model, in logit order. */
export const SENTIMENT_LABELS = ["negative", "positive"] as const;

const OPSET = 17;
const PRODUCER = "confidential-inference scripts/build-models.ts";

/** Encoder shape parameters. */
export interface EncoderShape {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
}

/** The bundled encoder's shape. */
export const ENCODER_SHAPE: EncoderShape = { layers: 4, hidden: 256, heads: 4, ffn: 1024 };

function textInputs(g: GraphBuilder): { ids: string; maskF: string } {
  const ids = g.input("input_ids", "int64", ["batch", BUNDLED_SEQUENCE_LENGTH]);
  const mask = g.input("attention_mask", "int64", ["batch", BUNDLED_SEQUENCE_LENGTH]);
  return { ids, maskF: g.op("Cast", [mask], { to: 1 }) };
}

/** Masked mean over the sequence axis: x [B,S,H], maskF [B,S] -> [B,H]. */
function maskedMean(g: GraphBuilder, x: string, maskF: string): string {
  const axes2 = g.ints("axes_2", [1], [2]);
  const axes1 = g.ints("axes_1", [1], [1]);
  const m3 = g.op("Unsqueeze", [maskF, axes2]);
  const summed = g.op("ReduceSum", [g.op("Mul", [x, m3]), axes1], { keepdims: 0 });
  const count = g.op("Max", [g.op("ReduceSum", [maskF, axes1], { keepdims: 1 }), g.floats("one", [], [1])]);
  return g.op("Div", [summed, count]);
}

/** Builds the `sentiment` classifier for a vocabulary (ids in order). */
export function buildSentimentModel(vocab: readonly string[]): Uint8Array {
  const dim = 16;
  const rand = seededRandom(0x5e471);
  const g = new GraphBuilder("sentiment");
  const { ids, maskF } = textInputs(g);
  const emb = uniform(rand, vocab.length * dim, 0.05);
  const positive = new Set<string>(POSITIVE_WORDS);
  const negative = new Set<string>(NEGATIVE_WORDS);
  vocab.forEach((t, i) => {
    emb[i * dim] = positive.has(t) ? 1 : 0;
    emb[i * dim + 1] = negative.has(t) ? 1 : 0;
  });
  const x = g.op("Gather", [g.floats("embeddings", [vocab.length, dim], emb), ids], { axis: 0 });
  const pooled = maskedMean(g, x, maskF);
  const w = uniform(rand, dim * 2, 0.1);
  w.set([-8, 8], 0);
  w.set([8, -8], 2);
  const logits = g.op(
    "Add",
    [g.op("MatMul", [pooled, g.floats("classifier_w", [dim, 2], w)]), g.floats("classifier_b", [2], [0.25, 0])],
    {},
    "logits",
  );
  g.op("Softmax", [logits], { axis: -1 }, "probabilities");
  g.output("logits", "float32", ["batch", 2]);
  g.output("probabilities", "float32", ["batch", 2]);
  return g.encode(OPSET, PRODUCER);
}

function linear(g: GraphBuilder, rand: () => number, x: string, name: string, inDim: number, outDim: number): string {
  const scale = 1 / Math.sqrt(inDim);
  const w = g.floats(`${name}_w`, [inDim, outDim], uniform(rand, inDim * outDim, scale));
  const b = g.floats(`${name}_b`, [outDim], uniform(rand, outDim, 0.02));
  return g.op("Add", [g.op("MatMul", [x, w]), b]);
}

function layerNorm(g: GraphBuilder, x: string, name: string, hidden: number): string {
  const gamma = g.floats(`${name}_gamma`, [hidden], new Float32Array(hidden).fill(1));
  const beta = g.floats(`${name}_beta`, [hidden], new Float32Array(hidden));
  return g.op("LayerNormalization", [x, gamma, beta], { axis: -1, epsilon: { float: 1e-5 } });
}

/** Builds the `encoder` model (shape `ENCODER_SHAPE`) for a vocabulary. */
export function buildEncoderModel(vocab: readonly string[], shape: EncoderShape = ENCODER_SHAPE): Uint8Array {
  const { layers, hidden, heads, ffn } = shape;
  const headDim = hidden / heads;
  const rand = seededRandom(0xe4c0de);
  const g = new GraphBuilder("encoder");
  const { ids, maskF } = textInputs(g);
  const tok = g.floats("token_embeddings", [vocab.length, hidden], uniform(rand, vocab.length * hidden, 0.5));
  const pos = g.floats(
    "position_embeddings",
    [BUNDLED_SEQUENCE_LENGTH, hidden],
    uniform(rand, BUNDLED_SEQUENCE_LENGTH * hidden, 0.1),
  );
  let x = layerNorm(g, g.op("Add", [g.op("Gather", [tok, ids], { axis: 0 }), pos]), "embeddings_ln", hidden);
  // Additive attention bias [B,1,1,S]: 0 for real tokens, -10000 for padding.
  const bias = g.op("Mul", [g.op("Sub", [g.floats("one_f", [], [1]), maskF]), g.floats("neg_big", [], [-10000])]);
  const bias4 = g.op("Unsqueeze", [bias, g.ints("axes_1_2", [2], [1, 2])]);
  const split = g.ints("shape_split", [4], [0, 0, heads, headDim]);
  const merge = g.ints("shape_merge", [3], [0, 0, hidden]);
  const scale = g.floats("attn_scale", [], [1 / Math.sqrt(headDim)]);
  for (let l = 0; l < layers; l++) {
    const p = `layer${l}`;
    const heads4 = (t: string, perm: number[]) => g.op("Transpose", [g.op("Reshape", [t, split])], { perm });
    const q = heads4(linear(g, rand, x, `${p}_q`, hidden, hidden), [0, 2, 1, 3]);
    const k = heads4(linear(g, rand, x, `${p}_k`, hidden, hidden), [0, 2, 3, 1]);
    const v = heads4(linear(g, rand, x, `${p}_v`, hidden, hidden), [0, 2, 1, 3]);
    const scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias4]);
    const ctx = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), v]);
    const merged = g.op("Reshape", [g.op("Transpose", [ctx], { perm: [0, 2, 1, 3] }), merge]);
    x = layerNorm(g, g.op("Add", [x, linear(g, rand, merged, `${p}_o`, hidden, hidden)]), `${p}_ln1`, hidden);
    const h = linear(g, rand, x, `${p}_ffn1`, hidden, ffn);
    // GELU (erf form): 0.5 * h * (1 + erf(h / sqrt 2)).
    const erf = g.op("Erf", [g.op("Div", [h, g.floats(`${p}_sqrt2`, [], [Math.SQRT2])])]);
    const gelu = g.op("Mul", [
      g.op("Mul", [h, g.op("Add", [erf, g.floats(`${p}_one`, [], [1])])]),
      g.floats(`${p}_half`, [], [0.5]),
    ]);
    x = layerNorm(g, g.op("Add", [x, linear(g, rand, gelu, `${p}_ffn2`, ffn, hidden)]), `${p}_ln2`, hidden);
  }
  g.op("Identity", [maskedMean(g, x, maskF)], {}, "embedding");
  g.output("embedding", "float32", ["batch", hidden]);
  return g.encode(OPSET, PRODUCER);
}
