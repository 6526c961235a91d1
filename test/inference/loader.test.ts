import { createHash, generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  openModelContainer,
  parseContainerHeader,
  sealModelContainer,
} from "../../runtime/inference/model/container.js";
import { containerKeyId, openVerifiedModel, type VerifiedModelInput } from "../../runtime/inference/model/loader.js";
import { createOrtSession } from "../../runtime/inference/model/session.js";
import { parseSignerKey, signModel } from "../../runtime/inference/model/signature.js";
import { bundled } from "../helpers/inference.js";

const registry = generateKeyPairSync("ec", { namedCurve: "P-384" });
const other = generateKeyPairSync("ec", { namedCurve: "P-384" });
const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const key = Buffer.alloc(32, 7);
const nonce = Buffer.from("000102030405060708090a0b", "hex");
const plain = bundled("sentiment.onnx");
const container = sealModelContainer(plain.bytes, key, "default/model/sentiment", nonce);
const signed = { model: "sentiment", sha256: plain.sha256, size: plain.bytes.length };
const signerKey = parseSignerKey(registry.publicKey.export({ type: "spki", format: "pem" }) as string);
let signature: string;
let base: VerifiedModelInput;
beforeAll(async () => {
  signature = await signModel(signed, registry.privateKey);
  base = { modelName: "sentiment", container, signature, dataKey: key, signerKey };
});

const flip = (b: Buffer, i: number) => {
  const c = Buffer.from(b);
  c[i] = c[i]! ^ 0x01;
  return c;
};

describe("model container (AES-256-GCM, version 1)", () => {
  it("lays out the header as documented", () => {
    // magic "CI-MODEL", version 1, alg 1, key id length 23, key id, nonce, plaintext length 19780 (0x4d44)
    const header =
      "43492d4d4f44454c" +
      "01" +
      "01" +
      "0017" +
      Buffer.from("default/model/sentiment").toString("hex") +
      "000102030405060708090a0b" +
      "0000000000004d44";
    expect(container.subarray(0, header.length / 2).toString("hex")).toBe(header);
    expect(container.length).toBe(header.length / 2 + 19780 + 16);
    expect(parseContainerHeader(container)).toEqual({
      version: 1,
      keyId: "default/model/sentiment",
      nonce,
      plaintextLength: 19780,
      headerLength: 55,
    });
    expect(containerKeyId(container)).toBe("default/model/sentiment");
  });

  it("round-trips and uses a fresh random nonce by default", () => {
    expect(Buffer.compare(openModelContainer(container, key).plaintext, Buffer.from(plain.bytes))).toBe(0);
    const a = sealModelContainer(plain.bytes, key, "k");
    const b = sealModelContainer(plain.bytes, key, "k");
    expect(a.subarray(13, 25).equals(b.subarray(13, 25))).toBe(false);
  });

  it("rejects caller misuse with TypeError", () => {
    expect(() => sealModelContainer(plain.bytes, Buffer.alloc(16), "k")).toThrow(TypeError);
    expect(() => sealModelContainer(plain.bytes, key, "")).toThrow(TypeError);
    expect(() => openModelContainer(container, Buffer.alloc(31))).toThrow(TypeError);
  });
});

describe("openVerifiedModel: decrypt in memory, verify digest and signature", () => {
  it("returns the plaintext, its sha256 and the key id", async () => {
    const m = await openVerifiedModel({
      ...base,
      containerSha256: createHash("sha256").update(container).digest("hex"),
    });
    expect([m.sha256, m.keyId, m.plaintext.length]).toEqual([plain.sha256, "default/model/sentiment", 19780]);
  });

  it.each<[string, () => Promise<Partial<VerifiedModelInput>>, string]>([
    ["a flipped ciphertext byte", async () => ({ container: flip(container, 100) }), "MODEL_DECRYPT_FAILED"],
    ["a flipped tag byte", async () => ({ container: flip(container, container.length - 1) }), "MODEL_DECRYPT_FAILED"],
    [
      "a changed key id (authenticated header)",
      async () => ({ container: flip(container, 20) }),
      "MODEL_DECRYPT_FAILED",
    ],
    ["a changed nonce", async () => ({ container: flip(container, 36) }), "MODEL_DECRYPT_FAILED"],
    ["the wrong data key", async () => ({ dataKey: Buffer.alloc(32, 8) }), "MODEL_DECRYPT_FAILED"],
    ["a truncated container", async () => ({ container: container.subarray(0, 1000) }), "MODEL_CONTAINER_MALFORMED"],
    ["a bad magic", async () => ({ container: flip(container, 0) }), "MODEL_CONTAINER_MALFORMED"],
    ["an unknown version", async () => ({ container: flip(container, 8) }), "MODEL_CONTAINER_MALFORMED"],
    ["an unknown algorithm", async () => ({ container: flip(container, 9) }), "MODEL_CONTAINER_MALFORMED"],
    ["a tiny file", async () => ({ container: Buffer.from("CI-MODEL") }), "MODEL_CONTAINER_MALFORMED"],
    [
      "a signature by another key",
      async () => ({ signature: await signModel(signed, other.privateKey) }),
      "MODEL_SIGNATURE_INVALID",
    ],
    [
      "a signature for another model",
      async () => ({ signature: await signModel({ ...signed, model: "encoder" }, registry.privateKey) }),
      "MODEL_SIGNATURE_INVALID",
    ],
    [
      "a signed digest of other bytes",
      async () => ({ signature: await signModel({ ...signed, sha256: "0".repeat(64) }, registry.privateKey) }),
      "MODEL_DIGEST_MISMATCH",
    ],
    [
      "a signed size that differs",
      async () => ({ signature: await signModel({ ...signed, size: 1 }, registry.privateKey) }),
      "MODEL_DIGEST_MISMATCH",
    ],
    [
      "a signed payload without sha256",
      async () => ({ signature: await signModel({ model: "sentiment", size: 1 } as never, registry.privateKey) }),
      "MODEL_SIGNATURE_INVALID",
    ],
    [
      "a modified signature payload",
      async () => {
        const [h, , s] = signature.split(".");
        return {
          signature: `${h}.${Buffer.from(JSON.stringify({ ...signed, model: "x" })).toString("base64url")}.${s}`,
        };
      },
      "MODEL_SIGNATURE_INVALID",
    ],
    ["garbage instead of a JWS", async () => ({ signature: "not-a-jws" }), "MODEL_SIGNATURE_INVALID"],
    [
      "a container that differs from the pinned sha256",
      async () => ({ containerSha256: "f".repeat(64) }),
      "MODEL_DIGEST_MISMATCH",
    ],
  ])("refuses %s", async (_case, change, code) => {
    await expect(openVerifiedModel({ ...base, ...(await change()) })).rejects.toMatchObject({
      name: "InferenceError",
      code,
    });
  });

  it("refuses a sealed, signed file that is not an ONNX model at load time (MODEL_LOAD_FAILED)", async () => {
    const junk = Buffer.from("this is not a protobuf model");
    const sha256 = createHash("sha256").update(junk).digest("hex");
    const m = await openVerifiedModel({
      ...base,
      container: sealModelContainer(junk, key, "k"),
      signature: await signModel({ model: "sentiment", sha256, size: junk.length }, registry.privateKey),
    });
    await expect(createOrtSession(m.plaintext)).rejects.toMatchObject({ code: "MODEL_LOAD_FAILED" });
  });

  it("pins the signer key type (caller misuse -> TypeError)", () => {
    expect(() => parseSignerKey(p256.publicKey.export({ type: "spki", format: "pem" }) as string)).toThrow(TypeError);
  });
});

describe("scripts/seal-model.ts", () => {
  it("writes a container and signature that the loader opens", async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const { sealModelFiles } = await import("../../scripts/seal-model.js");
    const dir = mkdtempSync(join(tmpdir(), "ci-seal-"));
    try {
      writeFileSync(join(dir, "sentiment.onnx"), plain.bytes);
      writeFileSync(join(dir, "k.bin"), key);
      writeFileSync(join(dir, "signer.pem"), registry.privateKey.export({ type: "pkcs8", format: "pem" }));
      const lines = await sealModelFiles([
        "--model",
        join(dir, "sentiment.onnx"),
        "--name",
        "sentiment",
        "--key-id",
        "default/model/sentiment",
        "--data-key-file",
        join(dir, "k.bin"),
        "--signer-key",
        join(dir, "signer.pem"),
      ]);
      expect(lines[0]).toBe(`model_sha256 ${plain.sha256}`);
      const m = await openVerifiedModel({
        ...base,
        container: readFileSync(join(dir, "sentiment.onnx.enc")),
        signature: readFileSync(join(dir, "sentiment.onnx.enc.jws"), "utf8"),
      });
      expect(m.sha256).toBe(plain.sha256);
      await expect(sealModelFiles(["--model", "x"])).rejects.toThrow(TypeError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
