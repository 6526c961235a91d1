/**
 * A text model's pooled output as an embeddings model (`/v1/embeddings`): which output, its width, and how texts
 * become feeds. Checked once at boot; a config that names a missing or non-vector output is `CONFIG_INVALID`.
 */
import { InferenceError } from "../errors.js";
import type { EmbeddingSpec } from "../server/routes.js";
import type { ServedModel } from "./served.js";

/**
 * Builds the spec for `model`'s output `output` (shape `[batch, dimensions]`, a fixed width).
 *
 * @example
 * const spec = embeddingSpec(served, "embedding"); // { output: "embedding", dimensions: 256, prepare }
 */
export function embeddingSpec(model: ServedModel, output: string): EmbeddingSpec {
  const spec = model.contract.outputs.find((o) => o.name === output);
  const text = model.contract.inputs.length === 1 ? model.contract.inputs[0] : undefined;
  const problem = (message: string) =>
    new InferenceError("CONFIG_INVALID", `serving model ${model.name}: embeddings.output: ${message}`, {
      problems: [{ path: "embeddings.output", message }],
    });
  if (spec === undefined) throw problem(`the graph has no output ${output}`);
  if (spec.datatype !== "FP32" || spec.shape.length !== 2 || !(spec.shape[1]! > 0))
    throw problem(`output ${output} must be FP32 [batch, dimensions] with a fixed width`);
  if (text === undefined || text.datatype !== "BYTES") throw problem("the model must take one text input");
  const dimensions = spec.shape[1]!;
  return {
    output,
    dimensions,
    prepare(texts) {
      const prepared = model.prepare({
        id: undefined,
        inputs: new Map([[text.name, { datatype: "BYTES", shape: [texts.length], data: [...texts] }]]),
        outputs: [output],
        rows: texts.length,
        binaryOutputs: new Set(),
      });
      let tokens = 0;
      const mask = prepared.feeds.get("attention_mask");
      if (mask !== undefined) {
        const data = mask.data as ArrayLike<bigint | number>;
        for (let i = 0; i < data.length; i++) tokens += Number(data[i]);
      }
      return { ...prepared, tokens };
    },
  };
}
