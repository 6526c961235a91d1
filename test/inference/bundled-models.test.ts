import { describe, expect, it } from "vitest";
import { buildBundledModels } from "../../runtime/simulators/models/index.js";
import { createOrtSession } from "../../runtime/inference/model/session.js";
import { bundled, servedBundled } from "../helpers/inference.js";

// Pinned digests of `npx tsx scripts/build-models.ts` (the script prints the same lines).
const PINNED: Record<string, [string, number]> = {
  "tokenizer.json": ["6b7e78659722cc13d8f359ade80be687029661e412ae5be4c2f7118a61efa90f", 6650],
  "sentiment.onnx": ["5f18545ee98f109e3c4daafb0040172cdcd13138dc577ab67ba82ae6672530bf", 19780],
  "encoder.onnx": ["ba04ea8c727d61cad434f1c5e692d8ee03574e8b61f01cc40a5b6c0c9a04408a", 13014337],
};

describe("bundled models", () => {
  it("builds byte-identical files with the pinned sha256 on every run", () => {
    const a = buildBundledModels();
    const b = buildBundledModels();
    expect(a.map((f) => [f.name, f.sha256, f.bytes.length])).toEqual(
      Object.entries(PINNED).map(([n, [h, s]]) => [n, h, s]),
    );
    a.forEach((f, i) => expect(Buffer.compare(Buffer.from(f.bytes), Buffer.from(b[i]!.bytes))).toBe(0));
  });

  it("loads in onnxruntime with the documented inputs and outputs", async () => {
    const s = await createOrtSession(bundled("sentiment.onnx").bytes);
    expect(s.inputs).toEqual([
      { name: "input_ids", datatype: "INT64", shape: [-1, 64] },
      { name: "attention_mask", datatype: "INT64", shape: [-1, 64] },
    ]);
    expect(s.outputs).toEqual([
      { name: "logits", datatype: "FP32", shape: [-1, 2] },
      { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
    ]);
    const e = await createOrtSession(bundled("encoder.onnx").bytes);
    expect(e.outputs).toEqual([{ name: "embedding", datatype: "FP32", shape: [-1, 256] }]);
    await s.release();
    await e.release();
  });

  it("classifies sentiment with known outputs (real onnxruntime run)", async () => {
    const { model, batcher } = await servedBundled("sentiment");
    const texts = ["I loved this great movie", "terrible service, the worst food", "the phone"];
    const prepared = model.prepare({
      id: undefined,
      binaryOutputs: new Set(),
      rows: 3,
      outputs: undefined,
      inputs: new Map([["text", { datatype: "BYTES", shape: [3], data: texts }]]),
    });
    const out = model.finish(await batcher.submit(prepared.rows, prepared.feeds), undefined);
    expect(out.map(([n]) => n)).toEqual(["logits", "probabilities", "label"]);
    expect(out[2]![1].data).toEqual(["positive", "negative", "negative"]);
    const probs = Array.from(out[1]![1].data as Float32Array).map((v) => Number(v.toFixed(5)));
    expect(probs).toEqual([0.01303, 0.98697, 0.98589, 0.01411, 0.56036, 0.43964]);
  });

  it("embeds text with the encoder with known outputs (real onnxruntime run)", async () => {
    const { model, batcher } = await servedBundled("encoder");
    const prepared = model.prepare({
      id: undefined,
      binaryOutputs: new Set(),
      rows: 1,
      outputs: undefined,
      inputs: new Map([["text", { datatype: "BYTES", shape: [1], data: ["I loved this great movie"] }]]),
    });
    const out = model.finish(await batcher.submit(prepared.rows, prepared.feeds), undefined);
    const [name, t] = out[0]!;
    expect(name).toBe("embedding");
    expect(t.shape).toEqual([1, 256]);
    expect(Array.from((t.data as Float32Array).slice(0, 6), (v) => Number(v.toFixed(4)))).toEqual([
      0.0448, 0.718, 0.2293, 0.4833, -0.4293, 0.7006,
    ]);
  });
});
