import { describe, expect, it } from "vitest";
import { loadDecoderModel } from "../../runtime/inference/generation/model.js";
import { buildBundledModels } from "../../runtime/simulators/models/index.js";
import { chatModelFiles } from "../helpers/generation.js";

const without = (name: string) => {
  const files = chatModelFiles();
  files.delete(name);
  return files;
};

describe("loadDecoderModel", () => {
  it.each([
    ["config.json missing", without("config.json"), "loading model: config.json is missing"],
    ["tokenizer.json missing", without("tokenizer.json"), "loading model: tokenizer.json is missing"],
    [
      "no graph",
      without("model.onnx"),
      "loading model: none of model.onnx, decoder_model_merged.onnx, onnx/model.onnx, onnx/model_quantized.onnx, " +
        "onnx/decoder_model_merged.onnx found",
    ],
    [
      "config.json not JSON",
      new Map([...chatModelFiles(), ["config.json", new TextEncoder().encode("{oops")]]),
      "loading model: config.json is not JSON",
    ],
  ])("rejects a directory with %s (MODEL_LAYOUT_INVALID)", async (_, files, message) => {
    await expect(loadDecoderModel(files)).rejects.toMatchObject({ code: "MODEL_LAYOUT_INVALID", message });
  });

  it("rejects an encoder graph that is not in the decoder layout, naming what is missing", async () => {
    const sentiment = buildBundledModels().find((f) => f.name === "sentiment.onnx")!.bytes;
    const files = new Map([...chatModelFiles(), ["model.onnx", sentiment]]);
    await expect(loadDecoderModel(files)).rejects.toMatchObject({
      code: "MODEL_LAYOUT_INVALID",
      message: "loading model: no past_key_values.N.key/value inputs (export with -with-past)",
    });
  });

  it("loads from transformers.js's onnx/ folder as well", async () => {
    const files = chatModelFiles();
    files.set("onnx/model.onnx", files.get("model.onnx")!);
    files.delete("model.onnx");
    const m = await loadDecoderModel(files);
    expect(m.layout.layers).toBe(2);
    await m.release();
  });
});

describe("readModelDirectory", () => {
  it("reads an exported directory from disk so it loads with no code change", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { readModelDirectory } = await import("../../runtime/inference/generation/directory.js");
    const dir = mkdtempSync(join(tmpdir(), "chat-model-"));
    try {
      mkdirSync(join(dir, "onnx"));
      for (const [name, bytes] of chatModelFiles())
        writeFileSync(join(dir, name === "model.onnx" ? "onnx/model.onnx" : name), bytes);
      const files = readModelDirectory(dir);
      expect([...files.keys()]).toEqual([
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "onnx/model.onnx",
      ]);
      const m = await loadDecoderModel(files);
      expect(m.contextLength).toBe(512);
      await m.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
