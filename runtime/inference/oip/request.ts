/**
 * Strict parsing of an Open Inference Protocol v2 infer request (`POST /v2/models/{m}/infer`, JSON tensors)
 * against a model's public signature. Pure. Every problem is reported at once with its field path; messages
 * never echo client values (input names, strings, numbers), only positions and expectations.
 */
import { InferenceError, type InferenceErrorCode } from "../errors.js";
import { decodeBinaryTensor } from "./binary.js";
import { allocate, elementCount, OIP_DATATYPES, type HostTensor, type OipDatatype } from "./tensors.js";

/** A tensor in a model's public signature; `-1` marks a variable dimension (axis 0 is the batch axis). */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: OipDatatype;
  readonly shape: readonly number[];
}

/** What a request is checked against. */
export interface RequestContract {
  readonly model: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Largest batch (axis 0) one request may carry. */
  readonly maxBatchSize: number;
}

/** A parsed, checked request. */
export interface InferRequest {
  /** Client request id, echoed in the response; absent when not sent. */
  readonly id: string | undefined;
  readonly inputs: ReadonlyMap<string, HostTensor>;
  /** Requested output names; absent means all outputs. */
  readonly outputs: readonly string[] | undefined;
  /** Batch size (axis 0, equal across inputs). */
  readonly rows: number;
  /** Outputs to return as binary data (binary tensor extension); empty when none. */
  readonly binaryOutputs: ReadonlySet<string>;
}

/** The raw bytes after a binary body's JSON header, consumed input by input. */
interface BinaryCursor {
  readonly bytes: Uint8Array;
  offset: number;
}

interface Problem {
  readonly code: InferenceErrorCode;
  readonly message: string;
}

const INT_RANGES: Partial<Record<OipDatatype, [number, number]>> = {
  UINT8: [0, 255],
  INT8: [-128, 127],
  UINT16: [0, 65535],
  INT16: [-32768, 32767],
  UINT32: [0, 4294967295],
  INT32: [-2147483648, 2147483647],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Flattens nested arrays row-major up to `maxDepth` levels; undefined when nesting is deeper. */
function flatten(data: unknown[], maxDepth: number): unknown[] | undefined {
  const out: unknown[] = [];
  const walk = (a: unknown[], depth: number): boolean => {
    for (const v of a) {
      if (Array.isArray(v)) {
        if (depth >= maxDepth || !walk(v, depth + 1)) return false;
      } else out.push(v);
    }
    return true;
  };
  return walk(data, 1) ? out : undefined;
}

function convertElements(
  flat: unknown[],
  datatype: OipDatatype,
  path: string,
  problems: Problem[],
): HostTensor["data"] | undefined {
  const out = allocate(datatype, flat.length);
  const range = INT_RANGES[datatype];
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    const at = `${path}.data[${i}]`;
    if (datatype === "BYTES") {
      if (typeof v !== "string")
        return void problems.push({ code: "DATATYPE_MISMATCH", message: `${at}: expected a string (BYTES)` });
      (out as string[])[i] = v;
    } else if (datatype === "BOOL") {
      if (typeof v !== "boolean")
        return void problems.push({ code: "DATATYPE_MISMATCH", message: `${at}: expected a boolean (BOOL)` });
      (out as Uint8Array)[i] = v ? 1 : 0;
    } else if (range) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1]) {
        return void problems.push({
          code: "DATATYPE_MISMATCH",
          message: `${at}: expected an integer in ${datatype} range`,
        });
      }
      if (out instanceof BigInt64Array || out instanceof BigUint64Array) out[i] = BigInt(v);
      else (out as Int32Array)[i] = v;
    } else if (datatype === "FP32" || datatype === "FP64") {
      if (typeof v !== "number" || !Number.isFinite(v))
        return void problems.push({
          code: "DATATYPE_MISMATCH",
          message: `${at}: expected a finite number (${datatype})`,
        });
      (out as Float32Array)[i] = v;
    } else {
      return void problems.push({
        code: "DATATYPE_MISMATCH",
        message: `${path}.datatype: ${datatype} is not accepted in JSON tensors`,
      });
    }
  }
  return out;
}

/** Takes this input's binary slice (binary extension), or reports why it cannot. */
function binarySlice(
  raw: Record<string, unknown>,
  path: string,
  cursor: BinaryCursor | undefined,
  problems: Problem[],
): Uint8Array | undefined {
  const size = isObject(raw.parameters) ? raw.parameters.binary_data_size : undefined;
  if (size === undefined) return undefined;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    problems.push({
      code: "INVALID_REQUEST",
      message: `${path}.parameters.binary_data_size: must be a non-negative integer`,
    });
    return undefined;
  }
  if (!cursor) {
    problems.push({
      code: "INVALID_REQUEST",
      message: `${path}.parameters.binary_data_size: binary data needs a binary body (${"Inference-Header-Content-Length"})`,
    });
    return undefined;
  }
  if (raw.data !== undefined)
    problems.push({ code: "INVALID_REQUEST", message: `${path}: has both data and binary_data_size` });
  const slice = cursor.bytes.subarray(cursor.offset, cursor.offset + size);
  cursor.offset += size;
  if (slice.length !== size)
    problems.push({
      code: "DATA_SIZE_MISMATCH",
      message: `${path}.parameters.binary_data_size: ${size} bytes, but only ${slice.length} remain in the body`,
    });
  return slice;
}

function parseInput(
  raw: unknown,
  i: number,
  contract: RequestContract,
  problems: Problem[],
  cursor: BinaryCursor | undefined,
): [string, HostTensor] | undefined {
  const path = `inputs[${i}]`;
  if (!isObject(raw)) return void problems.push({ code: "INVALID_REQUEST", message: `${path}: must be an object` });
  const before = problems.length;
  const bin = binarySlice(raw, path, cursor, problems);
  const { name, datatype, shape, data } = raw;
  const spec = typeof name === "string" ? contract.inputs.find((s) => s.name === name) : undefined;
  if (typeof name !== "string") problems.push({ code: "INVALID_REQUEST", message: `${path}.name: must be a string` });
  else if (!spec)
    problems.push({
      code: "UNKNOWN_INPUT",
      message: `${path}.name: not an input of model ${contract.model} (inputs: ${contract.inputs.map((s) => s.name).join(", ")})`,
    });
  if (typeof datatype !== "string" || !OIP_DATATYPES.includes(datatype as OipDatatype)) {
    problems.push({ code: "INVALID_REQUEST", message: `${path}.datatype: must be one of ${OIP_DATATYPES.join(", ")}` });
  } else if (spec && datatype !== spec.datatype) {
    problems.push({
      code: "DATATYPE_MISMATCH",
      message: `${path}.datatype: input ${spec.name} takes ${spec.datatype}`,
    });
  }
  const shapeOk =
    Array.isArray(shape) &&
    shape.length <= 8 &&
    shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0);
  if (!shapeOk)
    problems.push({
      code: "INVALID_REQUEST",
      message: `${path}.shape: must be an array of at most 8 non-negative integers`,
    });
  else if (spec) {
    const s = shape as number[];
    const fits = s.length === spec.shape.length && spec.shape.every((d, k) => d === -1 || d === s[k]);
    if (!fits)
      problems.push({
        code: "SHAPE_MISMATCH",
        message: `${path}.shape: input ${spec.name} takes shape [${spec.shape.join(", ")}] (-1 = any), got rank ${s.length} [${s.join(", ")}]`,
      });
    else if ((s[0] ?? 0) < 1)
      problems.push({ code: "SHAPE_MISMATCH", message: `${path}.shape[0]: batch size must be at least 1` });
    else if ((s[0] ?? 0) > contract.maxBatchSize)
      problems.push({
        code: "BATCH_TOO_LARGE",
        message: `${path}.shape[0]: batch size ${s[0]} exceeds the limit ${contract.maxBatchSize}`,
      });
  }
  if (!bin && !Array.isArray(data))
    problems.push({ code: "INVALID_REQUEST", message: `${path}.data: must be an array` });
  if (problems.length > before || !spec) return undefined;
  const dims = shape as number[];
  if (bin) {
    const decoded = decodeBinaryTensor(bin, spec.datatype, elementCount(dims));
    if (!decoded.data)
      return void problems.push({ code: "DATA_SIZE_MISMATCH", message: `${path}: binary data ${decoded.problem}` });
    return [spec.name, { datatype: spec.datatype, shape: dims, data: decoded.data }];
  }
  const flat = flatten(data as unknown[], Math.max(1, dims.length));
  if (!flat)
    return void problems.push({
      code: "DATA_SIZE_MISMATCH",
      message: `${path}.data: nested deeper than the shape's rank ${dims.length}`,
    });
  if (flat.length !== elementCount(dims)) {
    return void problems.push({
      code: "DATA_SIZE_MISMATCH",
      message: `${path}.data: has ${flat.length} elements, shape [${dims.join(", ")}] needs ${elementCount(dims)}`,
    });
  }
  const converted = convertElements(flat, spec.datatype, path, problems);
  return converted ? [spec.name, { datatype: spec.datatype, shape: dims, data: converted }] : undefined;
}

/**
 * Parses and checks a request body. Throws one `InferenceError` carrying the first problem's code and
 * every problem in its message.
 *
 * @example
 * parseInferRequest({ inputs: [{ name: "text", shape: [1], datatype: "BYTES", data: ["hello"] }] }, contract)
 */
export function parseInferRequest(body: unknown, contract: RequestContract, binary?: Uint8Array): InferRequest {
  const problems: Problem[] = [];
  const cursor: BinaryCursor | undefined = binary ? { bytes: binary, offset: 0 } : undefined;
  if (!isObject(body)) throw new InferenceError("INVALID_REQUEST", "body: must be a JSON object");
  const { id, inputs, outputs } = body;
  if (id !== undefined && typeof id !== "string")
    problems.push({ code: "INVALID_REQUEST", message: "id: must be a string" });
  if (body.parameters !== undefined && !isObject(body.parameters))
    problems.push({ code: "INVALID_REQUEST", message: "parameters: must be an object" });
  const parsed = new Map<string, HostTensor>();
  if (!Array.isArray(inputs) || inputs.length === 0)
    problems.push({ code: "INVALID_REQUEST", message: "inputs: must be a non-empty array" });
  else {
    inputs.forEach((raw, i) => {
      const r = parseInput(raw, i, contract, problems, cursor);
      if (!r) return;
      if (parsed.has(r[0]))
        problems.push({ code: "INVALID_REQUEST", message: `inputs[${i}].name: input ${r[0]} given twice` });
      else parsed.set(r[0], r[1]);
    });
  }
  if (cursor && problems.length === 0 && cursor.offset !== cursor.bytes.length) {
    problems.push({
      code: "DATA_SIZE_MISMATCH",
      message: `body: ${cursor.bytes.length - cursor.offset} binary bytes beyond the inputs' binary_data_size`,
    });
  }
  const allBinary = isObject(body.parameters) && body.parameters.binary_data_output === true;
  const binaryOutputs = new Set<string>();
  let requested: string[] | undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) problems.push({ code: "INVALID_REQUEST", message: "outputs: must be an array" });
    else {
      requested = [];
      outputs.forEach((o, i) => {
        const name = isObject(o) ? o.name : undefined;
        if (typeof name !== "string")
          problems.push({ code: "INVALID_REQUEST", message: `outputs[${i}].name: must be a string` });
        else if (!contract.outputs.some((s) => s.name === name))
          problems.push({
            code: "UNKNOWN_OUTPUT",
            message: `outputs[${i}].name: not an output of model ${contract.model} (outputs: ${contract.outputs.map((s) => s.name).join(", ")})`,
          });
        else {
          requested!.push(name);
          if (allBinary || (isObject(o) && isObject(o.parameters) && o.parameters.binary_data === true))
            binaryOutputs.add(name);
        }
      });
    }
  }
  if (problems.length === 0) {
    for (const spec of contract.inputs) {
      if (!parsed.has(spec.name))
        problems.push({ code: "MISSING_INPUT", message: `inputs: input ${spec.name} is required` });
    }
  }
  const batch = [...parsed.values()].map((t) => t.shape[0] ?? 0);
  if (problems.length === 0 && batch.some((b) => b !== batch[0])) {
    problems.push({
      code: "SHAPE_MISMATCH",
      message: `inputs: batch sizes (shape[0]) differ between inputs: ${batch.join(", ")}`,
    });
  }
  const first = problems[0];
  if (first) {
    throw new InferenceError(
      first.code,
      problems.length === 1
        ? first.message
        : `${problems.length} problems: ${problems.map((p) => p.message).join("; ")}`,
    );
  }
  if (allBinary && !requested) contract.outputs.forEach((o) => binaryOutputs.add(o.name));
  return { id: id as string | undefined, inputs: parsed, outputs: requested, rows: batch[0] ?? 0, binaryOutputs };
}
