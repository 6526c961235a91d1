/**
 * Tensors as the server handles them (`HostTensor`), the Open Inference Protocol datatypes, and helpers to
 * concatenate and split along the batch axis. Pure.
 */

/** Open Inference Protocol v2 tensor datatypes. */
export type OipDatatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BYTES";

/** Every `OipDatatype`. */
export const OIP_DATATYPES: readonly OipDatatype[] = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "FP32",
  "FP64",
  "BYTES",
];

/** Element storage for a datatype: numeric typed arrays, `bigint` arrays for 64-bit integers, strings for BYTES. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/** A tensor in host memory. `shape` is row-major; `data.length` equals the product of `shape`. */
export interface HostTensor {
  readonly datatype: OipDatatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** onnxruntime tensor type names by OIP datatype (FP16 is carried as raw uint16 bits). */
export const ORT_TYPE: Readonly<Record<OipDatatype, string>> = {
  BOOL: "bool",
  UINT8: "uint8",
  UINT16: "uint16",
  UINT32: "uint32",
  UINT64: "uint64",
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
  BYTES: "string",
};

/** The OIP datatype for an onnxruntime type name; absent for types the server does not serve. */
export function oipDatatypeOf(ortType: string): OipDatatype | undefined {
  return (Object.keys(ORT_TYPE) as OipDatatype[]).find((d) => ORT_TYPE[d] === ortType);
}

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Allocates zeroed storage for `n` elements of `datatype`. */
export function allocate(datatype: OipDatatype, n: number): TensorData {
  switch (datatype) {
    case "BOOL":
    case "UINT8":
      return new Uint8Array(n);
    case "INT8":
      return new Int8Array(n);
    case "UINT16":
    case "FP16":
      return new Uint16Array(n);
    case "INT16":
      return new Int16Array(n);
    case "UINT32":
      return new Uint32Array(n);
    case "INT32":
      return new Int32Array(n);
    case "UINT64":
      return new BigUint64Array(n);
    case "INT64":
      return new BigInt64Array(n);
    case "FP32":
      return new Float32Array(n);
    case "FP64":
      return new Float64Array(n);
    case "BYTES":
      return new Array<string>(n).fill("");
  }
}

/** Concatenates tensors of equal datatype and trailing dims along axis 0. Caller misuse -> TypeError. */
export function concatBatch(parts: readonly HostTensor[]): HostTensor {
  const first = parts[0];
  if (!first) throw new TypeError("concatBatch needs at least one tensor");
  if (parts.length === 1) return first;
  const rest = first.shape.slice(1);
  let rows = 0;
  for (const p of parts) {
    if (
      p.datatype !== first.datatype ||
      p.shape.length !== first.shape.length ||
      p.shape.slice(1).some((d, i) => d !== rest[i])
    ) {
      throw new TypeError("concatBatch: tensors differ in datatype or trailing dims");
    }
    rows += p.shape[0] ?? 0;
  }
  const shape = [rows, ...rest];
  const out = allocate(first.datatype, elementCount(shape));
  let offset = 0;
  for (const p of parts) {
    if (Array.isArray(out)) {
      const src = p.data as string[];
      for (let i = 0; i < src.length; i++) out[offset + i] = src[i] ?? "";
    } else {
      (out as Float32Array).set(p.data as Float32Array, offset);
    }
    offset += p.data.length;
  }
  return { datatype: first.datatype, shape, data: out };
}

/** Splits a tensor along axis 0 into pieces of `rows[i]` rows (the inverse of `concatBatch`). */
export function splitBatch(t: HostTensor, rows: readonly number[]): HostTensor[] {
  const total = rows.reduce((a, b) => a + b, 0);
  if (t.shape[0] !== total) throw new TypeError(`splitBatch: tensor has ${t.shape[0]} rows, expected ${total}`);
  const rowSize = elementCount(t.shape.slice(1));
  const out: HostTensor[] = [];
  let start = 0;
  for (const r of rows) {
    const end = start + r * rowSize;
    const data = Array.isArray(t.data) ? t.data.slice(start, end) : (t.data as Float32Array).slice(start, end);
    out.push({ datatype: t.datatype, shape: [r, ...t.shape.slice(1)], data });
    start = end;
  }
  return out;
}

/** Plain JSON values for a tensor's data (bigint -> number; BYTES stay strings). */
export function toJsonData(t: HostTensor): Array<number | string | boolean> {
  if (Array.isArray(t.data)) return t.data.slice();
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Array.from(t.data, (v) => Number(v));
  if (t.datatype === "BOOL") return Array.from(t.data as Uint8Array, (v) => v !== 0);
  return Array.from(t.data as Float32Array);
}
