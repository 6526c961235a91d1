/**
 * A minimal ONNX graph builder over `onnx-proto` (protobufjs classes for ONNX 1.10). Used only by the
 * bundled-model generator; the output is byte-reproducible because every field is written in a fixed
 * order and tensors are serialized little-endian through a DataView.
 */
import { onnx } from "onnx-proto";

/** Tensor element types used by the bundled models (subset of `onnx.TensorProto.DataType`). */
export type ElemType = "float32" | "int64";

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
};

/** A dimension: a fixed size or a symbolic name (e.g. "batch"). */
export type Dim = number | string;

type AttrValue = number | number[] | string | { float: number };

/** Accumulates nodes, initializers and graph inputs/outputs; `encode()` returns the ModelProto bytes. */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  /** Declares a graph input. */
  input(name: string, elem: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /** Declares a graph output (the value must be produced by a node). */
  output(name: string, elem: ElemType, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** Adds a float32 initializer. */
  floats(name: string, dims: number[], values: Float32Array | number[]): string {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] ?? 0, true);
    this.initializers.push({ name, dims, dataType: ELEM.float32, rawData: data });
    return name;
  }

  /** Adds an int64 initializer. */
  ints(name: string, dims: number[], values: number[]): string {
    const data = new Uint8Array(values.length * 8);
    const view = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i] ?? 0), true);
    this.initializers.push({ name, dims, dataType: ELEM.int64, rawData: data });
    return name;
  }

  /** Adds a node; returns its first output name (a fresh name unless `out` is given). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const output = out ?? `${opType.toLowerCase()}_${this.counter++}`;
    const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push({ opType, input: inputs, output: [output], name: `${output}_node`, attribute });
    return output;
  }

  /** Serializes the model (IR 8, the given default-domain opset). */
  encode(opset: number, producer: string): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: 8,
      producerName: producer,
      producerVersion: "1",
      opsetImport: [{ domain: "", version: opset }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

function valueInfo(name: string, elem: ElemType, dims: Dim[]): onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: ELEM[elem], shape: { dim } } } };
}

function attr(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === "number") return { name, type: T.INT, i: v };
  if (typeof v === "string") return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return { name, type: T.FLOAT, f: v.float };
}

/** Deterministic PRNG (mulberry32): the same seed always yields the same weights. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` weights uniform in [-scale, scale) drawn from `rand`, rounded through float32. */
export function uniform(rand: () => number, n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}
