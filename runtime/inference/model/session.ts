/**
 * The onnxruntime-node adapter: a session created from bytes in memory (the decrypted model is never
 * written to disk), with inputs/outputs described as OIP tensor specs. Thin; everything else takes the
 * `ModelSession` interface so tests can inject fakes.
 */
import * as ort from "onnxruntime-node";
import { InferenceError } from "../errors.js";
import { ORT_TYPE, oipDatatypeOf, type HostTensor, type TensorData } from "../oip/tensors.js";
import type { TensorSpec } from "../oip/request.js";

/** A loaded model that runs batches. */
export interface ModelSession {
  /** Graph inputs; symbolic or unknown dims are -1. */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Runs the graph on complete feeds (every input). */
  run(feeds: ReadonlyMap<string, HostTensor>): Promise<Map<string, HostTensor>>;
  /** Frees native memory; the session is unusable afterwards. */
  release(): Promise<void>;
}

/** onnxruntime options the runtime exposes. */
export interface OrtOptions {
  /** Threads for one operator; absent means onnxruntime's default (one per physical core). */
  readonly intraOpThreads?: number;
}

function specOf(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) throw new InferenceError("MODEL_LOAD_FAILED", `loading model: ${meta.name} is not a tensor`);
  const datatype = oipDatatypeOf(meta.type);
  if (!datatype || datatype === "FP16")
    throw new InferenceError(
      "MODEL_LOAD_FAILED",
      `loading model: ${meta.name} has unsupported element type ${meta.type}`,
    );
  return { name: meta.name, datatype, shape: meta.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1)) };
}

/**
 * Creates a session from the plaintext model bytes. Invalid ONNX or unsupported types -> `MODEL_LOAD_FAILED`.
 *
 * @example
 * const session = await createOrtSession(plaintext, { intraOpThreads: 2 });
 */
export async function createOrtSession(model: Uint8Array, options: OrtOptions = {}): Promise<ModelSession> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: "all",
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      logSeverityLevel: 3,
    });
  } catch (cause) {
    throw new InferenceError("MODEL_LOAD_FAILED", "loading model into onnxruntime: not a loadable ONNX model", {
      cause,
    });
  }
  const inputs = session.inputMetadata.map(specOf);
  const outputs = session.outputMetadata.map(specOf);
  return {
    inputs,
    outputs,
    async run(feeds) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of feeds) {
        ortFeeds[name] = new ort.Tensor(ORT_TYPE[t.datatype] as "float32", t.data as Float32Array, t.shape as number[]);
      }
      let results: ort.InferenceSession.ReturnType;
      try {
        results = await session.run(ortFeeds);
      } catch (cause) {
        throw new InferenceError("INFERENCE_FAILED", "running the model failed", { cause });
      }
      const out = new Map<string, HostTensor>();
      for (const spec of outputs) {
        const r = results[spec.name];
        if (r) out.set(spec.name, { datatype: spec.datatype, shape: r.dims.slice(), data: r.data as TensorData });
      }
      return out;
    },
    release: () => session.release(),
  };
}
