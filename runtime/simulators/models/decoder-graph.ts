/**
 * The ONNX graph of a decoder-only transformer in the export layout of Hugging Face Optimum / transformers.js
 * (`text-generation-with-past`): inputs `input_ids`, `attention_mask`, `position_ids`, `past_key_values.N.key|value`;
 * outputs `logits` and `present.N.key|value`. Llama/Qwen2 architecture: RMSNorm, attention with q/k/v biases and
 * grouped-query heads, rotary position embeddings (rotate-half form, applied to the first `rotaryDim` dims of each
 * head as in GPT-NeoX / Phi), a SwiGLU MLP and an untied LM head. Weights come from `decoder-weights.ts`.
 */
import { GraphBuilder } from "./graph.js";

/** Shape of a decoder model. */
export interface DecoderShape {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  readonly kvHeads: number;
  readonly headDim: number;
  /** Leading dims of each head that are rotated (even, <= headDim). */
  readonly rotaryDim: number;
  readonly ropeTheta: number;
  readonly intermediate: number;
  readonly vocab: number;
  /** Longest sequence (prompt + completion) the model is meant for, in tokens. */
  readonly maxPositions: number;
  readonly rmsEps: number;
}

/** Weights of one layer; matrices are row-major [in, out]. */
export interface DecoderLayerWeights {
  readonly inputNorm: Float32Array;
  readonly wq: Float32Array;
  readonly bq: Float32Array;
  readonly wk: Float32Array;
  readonly bk: Float32Array;
  readonly wv: Float32Array;
  readonly bv: Float32Array;
  readonly wo: Float32Array;
  readonly postNorm: Float32Array;
  readonly wGate: Float32Array;
  readonly wUp: Float32Array;
  readonly wDown: Float32Array;
}

/** All weights of a decoder model. */
export interface DecoderWeights {
  /** [vocab, hidden] */
  readonly embed: Float32Array;
  readonly layers: readonly DecoderLayerWeights[];
  readonly finalNorm: Float32Array;
  /** [hidden, vocab] */
  readonly lmHead: Float32Array;
}

/** Inverse frequencies of the rotary planes: theta^(-2p/rotaryDim). */
export function ropeInverseFrequencies(shape: DecoderShape): number[] {
  return Array.from({ length: shape.rotaryDim / 2 }, (_, p) => Math.pow(shape.ropeTheta, (-2 * p) / shape.rotaryDim));
}

const OPSET = 15;
const PRODUCER = "confidential-inference scripts/build-models.ts";

/** Builds the ONNX model bytes (IR 8, opset 15). */
export function buildDecoderGraph(shape: DecoderShape, w: DecoderWeights): Uint8Array {
  const { hidden: H, heads, kvHeads, headDim: hd, rotaryDim: rot, vocab: V } = shape;
  const g = new GraphBuilder("decoder");
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  const mask = g.input("attention_mask", "int64", ["batch_size", "total_sequence_length"]);
  const positions = g.input("position_ids", "int64", ["batch_size", "sequence_length"]);
  const kvDims = ["batch_size", kvHeads, "past_sequence_length", hd];
  for (let l = 0; l < shape.layers; l++) {
    g.input(`past_key_values.${l}.key`, "float32", kvDims);
    g.input(`past_key_values.${l}.value`, "float32", kvDims);
  }
  const c = {
    ax0: g.ints("axes_0", [1], [0]),
    ax1: g.ints("axes_1", [1], [1]),
    ax2: g.ints("axes_2", [1], [2]),
    ax12: g.ints("axes_1_2", [2], [1, 2]),
    zero: g.ints("zero", [], [0]),
    one: g.ints("one", [], [1]),
    oneF: g.floats("one_f", [], [1]),
    negBig: g.floats("neg_big", [], [1e9]),
    eps: g.floats("rms_eps", [], [shape.rmsEps]),
    scale: g.floats("attn_scale", [], [1 / Math.sqrt(hd)]),
  };
  // Additive attention bias [B,1,S,T]: 0 where key t is visible to query s (causal and not padding), else -1e9.
  // A finite bias keeps fully masked rows (padding queries) finite instead of NaN.
  const S = g.op("Squeeze", [g.op("Shape", [ids], { start: 1, end: 2 }), c.ax0]);
  const T = g.op("Squeeze", [g.op("Shape", [mask], { start: 1, end: 2 }), c.ax0]);
  const keyIdx = g.op("Unsqueeze", [g.op("Range", [c.zero, T, c.one]), c.ax0]);
  const queryIdx = g.op("Add", [g.op("Range", [c.zero, S, c.one]), g.op("Sub", [T, S])]);
  const causal = g.op("Cast", [g.op("LessOrEqual", [keyIdx, g.op("Unsqueeze", [queryIdx, c.ax1])])], { to: 1 });
  const padding = g.op("Unsqueeze", [g.op("Cast", [mask], { to: 1 }), c.ax12]);
  const bias = g.op("Mul", [g.op("Sub", [g.op("Mul", [causal, padding]), c.oneF]), c.negBig]);
  // Rotary tables [B,1,S,rot] from position_ids (computed in the graph, so any position works).
  const invFreq = g.floats("rope_inv_freq", [rot / 2], ropeInverseFrequencies(shape));
  const angles = g.op("Mul", [g.op("Unsqueeze", [g.op("Cast", [positions], { to: 1 }), c.ax2]), invFreq]);
  const angles2 = g.op("Unsqueeze", [g.op("Concat", [angles, angles], { axis: -1 }), c.ax1]);
  const cos = g.op("Cos", [angles2]);
  const sin = g.op("Sin", [angles2]);
  const consts = new Map<string, string>();
  const int1 = (v: number) => {
    const name = `const_${v}`;
    if (!consts.has(name)) consts.set(name, g.ints(name, [1], [v]));
    return consts.get(name)!;
  };
  const slice = (t: string, from: number, to: number) => g.op("Slice", [t, int1(from), int1(to), int1(3)]);
  const rope = (t: string) => {
    const r = slice(t, 0, rot);
    const rotated = g.op("Concat", [g.op("Neg", [slice(r, rot / 2, rot)]), slice(r, 0, rot / 2)], { axis: 3 });
    const out = g.op("Add", [g.op("Mul", [r, cos]), g.op("Mul", [rotated, sin])]);
    return rot === hd ? out : g.op("Concat", [out, slice(t, rot, hd)], { axis: 3 });
  };
  const rmsNorm = (x: string, weight: Float32Array, name: string) => {
    const ms = g.op("ReduceMean", [g.op("Mul", [x, x])], { axes: [-1], keepdims: 1 });
    const inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [ms, c.eps])])]);
    return g.op("Mul", [g.op("Mul", [x, inv]), g.floats(name, [H], weight)]);
  };
  const splitHeads = (t: string, n: number, name: string) =>
    g.op("Transpose", [g.op("Reshape", [t, g.ints(`${name}_shape`, [4], [0, 0, n, hd])])], { perm: [0, 2, 1, 3] });
  const rep = heads / kvHeads;
  // Grouped-query attention without copying keys/values: query head h reads key/value head floor(h / rep), so the
  // rep query heads of a group are stacked along the query axis, [B, kv, rep * S, hd], and attend to their shared
  // [B, kv, T, hd] keys and values; the [B, 1, S, T] bias is tiled to [B, 1, rep * S, T] to match.
  const groupQ = g.ints("group_q", [4], [0, kvHeads, -1, hd]);
  const ungroup = g.ints("ungroup", [4], [0, heads, -1, hd]);
  const groupBias = rep === 1 ? bias : g.op("Tile", [bias, g.ints("bias_tile", [4], [1, 1, rep, 1])]);

  g.output("logits", "float32", ["batch_size", "sequence_length", V]);
  let x = g.op("Gather", [g.floats("embed_tokens", [V, H], w.embed), ids], { axis: 0 });
  w.layers.forEach((lw, l) => {
    const p = `layers.${l}`;
    const h = rmsNorm(x, lw.inputNorm, `${p}.input_norm`);
    const proj = (wt: Float32Array, b: Float32Array, n: number, name: string) =>
      g.op("Add", [g.op("MatMul", [h, g.floats(`${p}.${name}.weight`, [H, n * hd], wt)]), g.floats(`${p}.${name}.bias`, [n * hd], b)]);
    const q = rope(splitHeads(proj(lw.wq, lw.bq, heads, "q_proj"), heads, `${p}.q`));
    const k = rope(splitHeads(proj(lw.wk, lw.bk, kvHeads, "k_proj"), kvHeads, `${p}.k`));
    const v = splitHeads(proj(lw.wv, lw.bv, kvHeads, "v_proj"), kvHeads, `${p}.v`);
    const keys = g.op("Concat", [`past_key_values.${l}.key`, k], { axis: 2 }, `present.${l}.key`);
    const values = g.op("Concat", [`past_key_values.${l}.value`, v], { axis: 2 }, `present.${l}.value`);
    g.output(`present.${l}.key`, "float32", ["batch_size", kvHeads, "total_sequence_length", hd]);
    g.output(`present.${l}.value`, "float32", ["batch_size", kvHeads, "total_sequence_length", hd]);
    const kT = g.op("Transpose", [keys], { perm: [0, 1, 3, 2] });
    const qGrouped = rep === 1 ? q : g.op("Reshape", [q, groupQ]);
    const scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [qGrouped, kT]), c.scale]), groupBias]);
    const grouped = g.op("MatMul", [g.op("Softmax", [scores], { axis: -1 }), values]);
    const ctx = rep === 1 ? grouped : g.op("Reshape", [grouped, ungroup]);
    const merged = g.op("Reshape", [
      g.op("Transpose", [ctx], { perm: [0, 2, 1, 3] }),
      g.ints(`${p}.merge_shape`, [3], [0, 0, heads * hd]),
    ]);
    x = g.op("Add", [x, g.op("MatMul", [merged, g.floats(`${p}.o_proj.weight`, [heads * hd, H], lw.wo)])]);
    const h2 = rmsNorm(x, lw.postNorm, `${p}.post_norm`);
    const gate = g.op("MatMul", [h2, g.floats(`${p}.gate_proj.weight`, [H, shape.intermediate], lw.wGate)]);
    const up = g.op("MatMul", [h2, g.floats(`${p}.up_proj.weight`, [H, shape.intermediate], lw.wUp)]);
    const act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up]);
    x = g.op("Add", [x, g.op("MatMul", [act, g.floats(`${p}.down_proj.weight`, [shape.intermediate, H], lw.wDown)])]);
  });
  const normed = rmsNorm(x, w.finalNorm, "final_norm");
  g.op("MatMul", [normed, g.floats("lm_head.weight", [H, V], w.lmHead)], {}, "logits");
  return g.encode(OPSET, PRODUCER);
}
