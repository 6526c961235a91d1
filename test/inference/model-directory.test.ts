/**
 * Sealed model directories: the `CI-MDIR` bundle (known bytes, order independence, every malformation refused),
 * sealing and opening with the signed file list, and the boot path for decoder and embedding models.
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bootModels } from "../../runtime/inference/boot.js";
import { parseRuntimeConfig } from "../../runtime/inference/config.js";
import { bundleEntries, decodeModelBundle, encodeModelBundle } from "../../runtime/inference/model/bundle.js";
import { openVerifiedModel } from "../../runtime/inference/model/loader.js";
import { sealAndSignModelDirectory } from "../../runtime/inference/model/seal.js";
import { signModel } from "../../runtime/inference/model/signature.js";
import { sealModelContainer } from "../../runtime/inference/model/container.js";
import { chatModelFiles } from "../helpers/generation.js";
import { TEST_BATCHING } from "../helpers/inference.js";
import { createTestPki, fakeKeyRelease, sealBundled, sealChatModel } from "../helpers/runtime.js";

const enc = (s: string) => new TextEncoder().encode(s);
const registry = generateKeyPairSync("ec", { namedCurve: "P-384" });

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
  return "none";
};

describe("model directory bundle (CI-MDIR v1)", () => {
  it("encodes to known bytes, sorted by name whatever the insertion order", () => {
    const a = encodeModelBundle(
      new Map([
        ["b.txt", enc("hi")],
        ["a/c", enc("")],
      ]),
    );
    const b = encodeModelBundle(
      new Map([
        ["a/c", enc("")],
        ["b.txt", enc("hi")],
      ]),
    );
    expect(a.toString("hex")).toBe(
      "43492d4d44495200" +
        "01" +
        "0002" +
        "0003" +
        "612f63" +
        "0000000000000000" +
        "0005" +
        "622e747874" +
        "0000000000000002" +
        "6869",
    );
    expect(b.equals(a)).toBe(true);
    expect([...decodeModelBundle(a)].map(([n, v]) => [n, Buffer.from(v).toString()])).toEqual([
      ["a/c", ""],
      ["b.txt", "hi"],
    ]);
  });

  it("refuses malformed bundles with MODEL_CONTAINER_MALFORMED", () => {
    const good = encodeModelBundle(new Map([["a", enc("x")]]));
    const swapped = Buffer.concat([
      Buffer.from("43492d4d444952000100020001620000000000000000" + "0001610000000000000000", "hex"),
    ]);
    const dup = Buffer.from("43492d4d444952000100020001610000000000000000" + "0001610000000000000000", "hex");
    const dotdot = Buffer.from("43492d4d4449520001000100046" + "12f2e2e0000000000000000", "hex");
    for (const bad of [
      Buffer.from("CI-MODEL"),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.concat([good.subarray(0, 8), Buffer.from([2]), good.subarray(9)]),
      swapped,
      dup,
      dotdot,
    ])
      expect(code(() => decodeModelBundle(bad))).toBe("MODEL_CONTAINER_MALFORMED");
    expect(code(() => encodeModelBundle(new Map([["../etc/passwd", enc("x")]])))).toBe("TypeError");
    expect(code(() => encodeModelBundle(new Map()))).toBe("TypeError");
  });
});

describe("sealing a model directory", () => {
  it("signs the bundle digest and every file; opening gives the files back", async () => {
    const files = chatModelFiles();
    const dataKey = randomBytes(32);
    const sealed = await sealAndSignModelDirectory({
      files,
      modelName: "chat",
      keyId: "default/model/chat",
      dataKey,
      signerKey: registry.privateKey,
    });
    const payload = JSON.parse(Buffer.from(sealed.signature.split(".")[1]!, "base64url").toString());
    expect(payload.files.map((f: { name: string }) => f.name)).toEqual([
      "config.json",
      "generation_config.json",
      "model.onnx",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    expect(payload.files[2].sha256).toBe(createHash("sha256").update(files.get("model.onnx")!).digest("hex"));
    expect(payload.sha256).toBe(createHash("sha256").update(encodeModelBundle(files)).digest("hex"));
    const opened = await openVerifiedModel({
      modelName: "chat",
      container: sealed.container,
      signature: sealed.signature,
      dataKey,
      signerKey: registry.publicKey,
    });
    expect(Buffer.from(opened.files!.get("tokenizer.json")!).equals(Buffer.from(files.get("tokenizer.json")!))).toBe(
      true,
    );
  });

  it("refuses a file list that does not match, and a single file signed as a directory", async () => {
    const files = new Map([["model.onnx", enc("graph")]]);
    const plaintext = encodeModelBundle(files);
    const dataKey = randomBytes(32);
    const container = sealModelContainer(plaintext, dataKey, "k");
    const sha256 = createHash("sha256").update(plaintext).digest("hex");
    const listed = bundleEntries(new Map([["model.onnx", enc("other")]]));
    const signature = await signModel(
      { model: "m", sha256, size: plaintext.length, files: listed },
      registry.privateKey,
    );
    const open = (c: Buffer, s: string) =>
      openVerifiedModel({ modelName: "m", container: c, signature: s, dataKey, signerKey: registry.publicKey });
    await expect(open(container, signature)).rejects.toMatchObject({ code: "MODEL_DIGEST_MISMATCH" });
    const single = enc("onnx bytes");
    const one = sealModelContainer(single, dataKey, "k");
    const claim = await signModel(
      { model: "m", sha256: createHash("sha256").update(single).digest("hex"), size: single.length, files: listed },
      registry.privateKey,
    );
    await expect(open(one, claim)).rejects.toMatchObject({ code: "MODEL_DIGEST_MISMATCH" });
  });
});

describe("boot with decoder and embedding models", () => {
  const pki = createTestPki();

  it("loads a sealed chat directory into an engine and an encoder with its embeddings output", async () => {
    const bundle = await sealBundled(["encoder"]);
    const chat = await sealChatModel(bundle.signerPrivateKey, chatModelFiles());
    const keys = new Map([...bundle.keys, [chat.keyId, chat.dataKey]]);
    const encoder = { ...bundle.artifacts[0]!, embeddings: { output: "embedding" } };
    const booted = await bootModels({
      artifacts: [encoder, chat.artifact],
      keyRelease: fakeKeyRelease(pki, keys),
      signerKey: bundle.signerKey,
      batching: TEST_BATCHING,
      ort: { intraOpThreads: 1 },
    });
    const g = booted.generators.get("chat")!;
    const prompt = g.model.tokenizer.encode(g.model.chatTemplate!.render([{ role: "user", content: "Hi there" }]));
    expect((await g.engine.generate({ promptIds: prompt, temperature: 0 }).result).text).toBe("Hi there");
    expect(g.sha256).toBe(createHash("sha256").update(encodeModelBundle(chatModelFiles())).digest("hex"));
    expect(booted.models.get("encoder")!.embeddings!.dimensions).toBe(256);
    g.engine.close();
    await g.model.release();
    await booted.models.get("encoder")!.model.session.release();
  });

  it("refuses a decoder that is one file, a tensor model that is a directory, and a missing embeddings output", async () => {
    const bundle = await sealBundled(["encoder"]);
    const chat = await sealChatModel(bundle.signerPrivateKey, chatModelFiles());
    const keys = new Map([...bundle.keys, [chat.keyId, chat.dataKey]]);
    const boot = (artifacts: Parameters<typeof bootModels>[0]["artifacts"]) =>
      bootModels({
        artifacts,
        keyRelease: fakeKeyRelease(pki, keys),
        signerKey: bundle.signerKey,
        batching: TEST_BATCHING,
      });
    await expect(boot([{ ...bundle.artifacts[0]!, kind: "decoder" }])).rejects.toMatchObject({
      code: "MODEL_LOAD_FAILED",
      message: expect.stringContaining("must be a sealed model directory"),
    });
    await expect(boot([{ ...chat.artifact, kind: "tensor" }])).rejects.toMatchObject({ code: "MODEL_LOAD_FAILED" });
    await expect(boot([{ ...bundle.artifacts[0]!, embeddings: { output: "logits" } }])).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("embeddings.output: the graph has no output logits"),
    });
  });

  it("config: decoder models take no tokenizer or text settings; embeddings need a text model", () => {
    const base = { signerPublicKeyFile: "s.pem", gatewayCaFile: "g.pem", keyBroker: {} };
    const model = { container: "m.enc", signature: "m.jws" };
    try {
      parseRuntimeConfig({
        ...base,
        models: [
          { ...model, name: "chat", kind: "decoder", tokenizer: "t.json", text: {} },
          { ...model, name: "enc", embeddings: { output: "embedding" }, contextLength: 64 },
        ],
      });
      throw new Error("accepted");
    } catch (e) {
      expect((e as { problems: Array<{ path: string }> }).problems.map((p) => p.path)).toEqual([
        "models[0].tokenizer",
        "models[0].text",
        "models[1].embeddings",
        "models[1].contextLength",
      ]);
    }
    const ok = parseRuntimeConfig({
      ...base,
      models: [{ ...model, name: "chat", kind: "decoder", contextLength: 256 }],
    });
    expect([ok.models[0]!.kind, ok.generation]).toEqual(["decoder", { maxBatch: 8, maxQueued: 64, prefillChunk: 256 }]);
  });
});

describe("scripts/seal-model.ts --dir", () => {
  it("seals a model directory that the boot path opens, files listed; refuses a directory without a graph", async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const { sealModelFiles } = await import("../../scripts/seal-model.js");
    const dir = mkdtempSync(join(tmpdir(), "ci-seal-dir-"));
    try {
      for (const [name, bytes] of chatModelFiles()) writeFileSync(join(dir, name), bytes);
      const key = randomBytes(32);
      writeFileSync(join(dir, "k.bin"), key);
      writeFileSync(join(dir, "signer.pem"), registry.privateKey.export({ type: "pkcs8", format: "pem" }));
      const args = [
        "--name",
        "chat",
        "--key-id",
        "default/model/chat",
        "--data-key-file",
        join(dir, "k.bin"),
        "--signer-key",
        join(dir, "signer.pem"),
      ];
      const lines = await sealModelFiles(["--dir", dir, ...args]);
      expect(lines[0]).toBe(
        `model_sha256 ${createHash("sha256").update(encodeModelBundle(chatModelFiles())).digest("hex")}`,
      );
      const opened = await openVerifiedModel({
        modelName: "chat",
        container: readFileSync(join(dir, "chat.enc")),
        signature: readFileSync(join(dir, "chat.enc.jws"), "utf8"),
        dataKey: key,
        signerKey: registry.publicKey,
      });
      expect([...opened.files!.keys()]).toEqual([
        "config.json",
        "generation_config.json",
        "model.onnx",
        "tokenizer.json",
        "tokenizer_config.json",
      ]);
      const empty = mkdtempSync(join(tmpdir(), "ci-seal-empty-"));
      await expect(sealModelFiles(["--dir", empty, ...args])).rejects.toThrow(/no ONNX graph/);
      await expect(sealModelFiles(["--dir", dir, "--model", "x", ...args])).rejects.toThrow(TypeError);
      rmSync(empty, { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
