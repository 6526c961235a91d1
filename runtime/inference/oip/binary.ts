/**
 * The binary tensor data extension of the Open Inference Protocol (as in KServe/Triton): a request body is a JSON
 * header of `Inference-Header-Content-Length` bytes followed by raw tensor bytes for each input whose
 * `parameters.binary_data_size` is set, in input order; outputs asked for with `parameters.binary_data: true`
 * (or request `parameters.binary_data_output: true`) come back the same way. Numbers are little-endian; a BYTES
 * element is a 4-byte little-endian length then its bytes. Pure.
 */
import { InferenceError } from "../errors.js";
import { allocate, type HostTensor, type OipDatatype, type TensorData } from "./tensors.js";

/** Header naming the length of the JSON part of a binary body. */
export const HEADER_LENGTH_HEADER = "inference-header-content-length";

const ELEMENT_BYTES: Partial<Record<OipDatatype, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** Splits a binary body into its parsed JSON header and the raw tensor bytes. */
export function splitBinaryBody(
  body: Buffer,
  headerLength: string | string[] | undefined,
): { json: unknown; binary: Buffer } {
  const n = typeof headerLength === "string" && /^\d{1,10}$/.test(headerLength) ? Number(headerLength) : NaN;
  if (!Number.isSafeInteger(n) || n > body.length) {
    throw new InferenceError(
      "INVALID_REQUEST",
      `${HEADER_LENGTH_HEADER}: must be the byte length of the JSON header (0..${body.length})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(0, n).toString("utf8"));
  } catch {
    throw new InferenceError("MALFORMED_JSON", "body: the JSON header is not valid JSON");
  }
  return { json, binary: body.subarray(n) };
}

/**
 * Decodes `count` elements of `datatype` from raw bytes; undefined (with `problem` set) when the size is wrong
 * or a BYTES element is malformed.
 */
export function decodeBinaryTensor(
  bytes: Uint8Array,
  datatype: OipDatatype,
  count: number,
): { data?: TensorData; problem?: string } {
  const size = ELEMENT_BYTES[datatype];
  if (size !== undefined) {
    if (bytes.length !== count * size)
      return { problem: `has ${bytes.length} bytes, ${count} ${datatype} elements need ${count * size}` };
    const out = allocate(datatype, count) as Exclude<TensorData, string[]>;
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
    return { data: out };
  }
  const out: string[] = [];
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < view.length) {
    if (offset + 4 > view.length) return { problem: `element ${out.length}: truncated length prefix` };
    const len = view.readUInt32LE(offset);
    offset += 4;
    if (offset + len > view.length) return { problem: `element ${out.length}: length ${len} runs past the data` };
    out.push(view.toString("utf8", offset, offset + len));
    offset += len;
  }
  if (out.length !== count) return { problem: `has ${out.length} BYTES elements, the shape needs ${count}` };
  return { data: out };
}

/** Encodes a tensor's data as raw bytes (the inverse of `decodeBinaryTensor`). */
export function encodeBinaryTensor(t: HostTensor): Buffer {
  if (Array.isArray(t.data)) {
    const parts: Buffer[] = [];
    for (const s of t.data) {
      const b = Buffer.from(s, "utf8");
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      parts.push(len, b);
    }
    return Buffer.concat(parts);
  }
  const d = t.data as Exclude<TensorData, string[]>;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}
