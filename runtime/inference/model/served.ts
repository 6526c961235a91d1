/**
 * A served model: the onnxruntime session plus its public OIP signature. Text models take a `BYTES` input that
 * is tokenized here (inside the boundary) into the graph's `input_ids` / `attention_mask` / `token_type_ids`;
 * classifiers can add a `BYTES` label output (argmax of a logits output).
 */
import { InferenceError } from "../errors.js";
import type { InferRequest, RequestContract, TensorSpec } from "../oip/request.js";
import type { HostTensor } from "../oip/tensors.js";
import type { TextTokenizer } from "../tokenizer.js";
import type { ModelSession } from "./session.js";

/** How a model is served (part of the runtime config). */
export interface ServedModelConfig {
  /** Name in the API (`/v2/models/{name}`). */
  readonly name: string;
  /** Version string reported in metadata; absent means "1". */
  readonly version?: string;
  /** Present for text models: names of the public text input and of the graph inputs it feeds. */
  readonly text?: {
    /** Public BYTES input; default `text`. */
    readonly input?: string;
    /** Graph input for token ids; default `input_ids`. */
    readonly idsInput?: string;
    /** Graph input for the attention mask; default `attention_mask` when the graph has it. */
    readonly maskInput?: string;
    /** Graph input for token type ids; default `token_type_ids` when the graph has it. */
    readonly typeIdsInput?: string;
  };
  /** Present for classifiers: adds a BYTES output with the label of the largest value of `from`. */
  readonly labels?: { readonly from: string; readonly names: readonly string[]; readonly output?: string };
}

/** Graph feeds for one request (or one batch), with its row count. */
export interface PreparedFeeds {
  readonly rows: number;
  readonly feeds: Map<string, HostTensor>;
}

/** A model ready to serve. */
export interface ServedModel {
  readonly name: string;
  readonly version: string;
  /** SHA-256 of the plaintext model (as signed by the registry). */
  readonly sha256: string;
  readonly contract: RequestContract;
  /** True when every graph input and output has a variable batch axis, so requests can be merged. */
  readonly batchable: boolean;
  readonly session: ModelSession;
  /** Turns a parsed request into graph feeds (tokenizing text). */
  prepare(req: InferRequest): PreparedFeeds;
  /** Selects and completes the outputs for one request (adds labels). */
  finish(
    outputs: ReadonlyMap<string, HostTensor>,
    requested: readonly string[] | undefined,
  ): Array<[string, HostTensor]>;
  /** OIP model metadata (`GET /v2/models/{name}`). */
  metadata(): Record<string, unknown>;
}

function configError(model: string, what: string): InferenceError {
  return new InferenceError("CONFIG_INVALID", `serving model ${model}: ${what}`);
}

/**
 * Binds a session to its serving config. Inconsistent config (unknown graph names, missing tokenizer) ->
 * `CONFIG_INVALID`.
 */
export function createServedModel(opts: {
  config: ServedModelConfig;
  session: ModelSession;
  sha256: string;
  maxBatchSize: number;
  tokenizer?: TextTokenizer;
}): ServedModel {
  const { config, session, sha256, maxBatchSize, tokenizer } = opts;
  const name = config.name;
  const graphInput = (n: string) => session.inputs.find((s) => s.name === n);
  const graphOutput = (n: string) => session.outputs.find((s) => s.name === n);
  let inputs: TensorSpec[] = [...session.inputs];
  let text: { input: string; ids: string; mask?: string; typeIds?: string } | undefined;
  if (config.text) {
    if (!tokenizer) throw configError(name, "a text model needs a tokenizer");
    const ids = config.text.idsInput ?? "input_ids";
    const mask = config.text.maskInput ?? (graphInput("attention_mask") ? "attention_mask" : undefined);
    const typeIds = config.text.typeIdsInput ?? (graphInput("token_type_ids") ? "token_type_ids" : undefined);
    const fed = [ids, mask, typeIds].filter((n): n is string => n !== undefined);
    for (const n of fed) {
      const spec = graphInput(n);
      if (!spec) throw configError(name, `the graph has no input ${n}`);
      if (spec.datatype !== "INT64" || spec.shape.length !== 2)
        throw configError(name, `graph input ${n} must be INT64 [batch, sequence]`);
      if (spec.shape[1] !== -1 && spec.shape[1] !== tokenizer.sequenceLength)
        throw configError(
          name,
          `graph input ${n} has sequence length ${spec.shape[1]}, tokenizer pads to ${tokenizer.sequenceLength}`,
        );
    }
    const other = session.inputs.filter((s) => !fed.includes(s.name));
    if (other.length > 0)
      throw configError(name, `graph inputs not fed from text: ${other.map((s) => s.name).join(", ")}`);
    text = { input: config.text.input ?? "text", ids, ...(mask ? { mask } : {}), ...(typeIds ? { typeIds } : {}) };
    inputs = [{ name: text.input, datatype: "BYTES", shape: [-1] }];
  }
  const outputs: TensorSpec[] = [...session.outputs];
  const labels = config.labels;
  const labelOutput = labels ? (labels.output ?? "label") : undefined;
  if (labels) {
    const from = graphOutput(labels.from);
    if (!from) throw configError(name, `labels.from: the graph has no output ${labels.from}`);
    if (from.shape.length !== 2 || (from.shape[1] !== -1 && from.shape[1] !== labels.names.length)) {
      throw configError(
        name,
        `labels.names: ${labels.names.length} labels for output ${labels.from} of shape [${from.shape.join(", ")}]`,
      );
    }
    outputs.push({ name: labelOutput!, datatype: "BYTES", shape: [-1] });
  }
  const batchable = [...session.inputs, ...session.outputs].every((s) => s.shape[0] === -1);
  const contract: RequestContract = { model: name, inputs, outputs, maxBatchSize };
  const version = config.version ?? "1";
  const seqLen = tokenizer?.sequenceLength;

  return {
    name,
    version,
    sha256,
    contract,
    batchable,
    session,
    prepare(req) {
      if (!text) return { rows: req.rows, feeds: new Map(req.inputs) };
      const t = req.inputs.get(text.input)!;
      const enc = tokenizer!.encodeBatch(t.data as string[], `input ${text.input}`);
      const shape = [enc.rows, enc.sequenceLength];
      const feeds = new Map<string, HostTensor>([[text.ids, { datatype: "INT64", shape, data: enc.inputIds }]]);
      if (text.mask) feeds.set(text.mask, { datatype: "INT64", shape, data: enc.attentionMask });
      if (text.typeIds) feeds.set(text.typeIds, { datatype: "INT64", shape, data: enc.tokenTypeIds });
      return { rows: enc.rows, feeds };
    },
    finish(results, requested) {
      const names = requested ?? outputs.map((o) => o.name);
      return names.map((n): [string, HostTensor] => {
        if (n === labelOutput && labels) {
          const scores = results.get(labels.from)!;
          const width = scores.shape[1] ?? 1;
          const rows = scores.shape[0] ?? 0;
          const data: string[] = [];
          for (let r = 0; r < rows; r++) {
            let best = 0;
            for (let k = 1; k < width; k++)
              if (Number(scores.data[r * width + k]) > Number(scores.data[r * width + best])) best = k;
            data.push(labels.names[best] ?? String(best));
          }
          return [n, { datatype: "BYTES", shape: [rows], data }];
        }
        return [n, results.get(n)!];
      });
    },
    metadata() {
      return {
        name,
        versions: [version],
        platform: "onnxruntime_onnx",
        inputs: inputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
        outputs: outputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
        parameters: {
          model_sha256: sha256,
          max_batch_size: maxBatchSize,
          ...(seqLen !== undefined ? { max_tokens: seqLen } : {}),
          ...(labels ? { labels: [...labels.names] } : {}),
        },
      };
    },
  };
}
