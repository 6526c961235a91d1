/**
 * KV-cache bookkeeping for batched decoding. A sequence's cache is either its own batch-1 tensors
 * ([1, kvHeads, length, headDim] per past input) or a row of a cohort: the batch that decoded together last step,
 * left-padded to a common width, whose `present.*` outputs feed the next step's `past_key_values.*` inputs without a
 * copy. Rows are copied only when the cohort's membership changes.
 */
import * as ort from "onnxruntime-node";
import type { DecoderLayout } from "./model.js";

/** Names of the past inputs, in a fixed order (layer 0 key, layer 0 value, layer 1 key, ...). */
export function pastNames(layout: DecoderLayout): string[] {
  return Array.from({ length: layout.layers }, (_, l) => [
    `past_key_values.${l}.key`,
    `past_key_values.${l}.value`,
  ]).flat();
}

/** Output name feeding each past input (`past_key_values.3.key` <- `present.3.key`). */
export function presentName(past: string): string {
  return past.replace("past_key_values.", "present.");
}

/** Zero-length caches for a batch (the first step of a sequence). */
export function emptyPast(layout: DecoderLayout, batch: number): ort.Tensor[] {
  return pastNames(layout).map(
    () => new ort.Tensor("float32", new Float32Array(0), [batch, layout.kvHeads, 0, layout.headDim]),
  );
}

/** A cache row: the tensors that hold it, which batch row, and where its real positions start. */
export interface CacheRow {
  readonly tensors: readonly ort.Tensor[];
  readonly row: number;
  /** Left padding of this row (real positions are `pad .. width-1`). */
  readonly pad: number;
}

/** Copies one row (without its padding) into new batch-1 tensors. */
export function extractRow(source: CacheRow, layout: DecoderLayout): ort.Tensor[] {
  const { kvHeads: kv, headDim: hd } = layout;
  return source.tensors.map((t) => {
    const width = t.dims[2]!;
    const len = width - source.pad;
    const data = t.data as Float32Array;
    const out = new Float32Array(kv * len * hd);
    for (let h = 0; h < kv; h++) {
      const from = ((source.row * kv + h) * width + source.pad) * hd;
      out.set(data.subarray(from, from + len * hd), h * len * hd);
    }
    return new ort.Tensor("float32", out, [1, kv, len, hd]);
  });
}

/**
 * Packs rows of possibly different lengths into one batch, right-aligned (left padding with zeros, which the
 * attention mask hides). Returns the tensors, the common width and each row's padding.
 */
export function packRows(
  rows: readonly CacheRow[],
  lengths: readonly number[],
  layout: DecoderLayout,
): { tensors: ort.Tensor[]; width: number; pads: number[] } {
  const { kvHeads: kv, headDim: hd } = layout;
  const B = rows.length;
  const width = Math.max(...lengths);
  const pads = lengths.map((n) => width - n);
  const tensors = pastNames(layout).map((_, i) => {
    const out = new Float32Array(B * kv * width * hd);
    rows.forEach((src, b) => {
      const t = src.tensors[i]!;
      const srcWidth = t.dims[2]!;
      const data = t.data as Float32Array;
      const len = lengths[b]!;
      for (let h = 0; h < kv; h++) {
        const from = ((src.row * kv + h) * srcWidth + src.pad) * hd;
        out.set(data.subarray(from, from + len * hd), ((b * kv + h) * width + pads[b]!) * hd);
      }
    });
    return new ort.Tensor("float32", out, [B, kv, width, hd]);
  });
  return { tensors, width, pads };
}
