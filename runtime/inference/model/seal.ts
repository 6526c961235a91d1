/**
 * The model registry's side of the format: encrypt a plaintext model into a container and sign its digest.
 * Used by `scripts/seal-model.ts`, the sandbox and tests; the runtime only ever opens containers.
 */
import { createHash, type KeyObject } from "node:crypto";
import { bundleEntries, encodeModelBundle } from "./bundle.js";
import { sealModelContainer } from "./container.js";
import { signModel } from "./signature.js";

/** A sealed model: the container bytes, its detached signature and digests. */
export interface SealedModel {
  /** `*.onnx.enc` contents. */
  readonly container: Buffer;
  /** `*.onnx.enc.jws` contents (compact JWS). */
  readonly signature: string;
  /** SHA-256 of the plaintext (what the signature covers and metadata reports). */
  readonly modelSha256: string;
  /** SHA-256 of the container bytes (the stack config's artifact pin). */
  readonly containerSha256: string;
}

/**
 * Encrypts and signs a model.
 *
 * @example
 * const sealed = await sealAndSignModel({ plaintext, modelName: "sentiment", keyId: "default/model/sentiment", dataKey, signerKey });
 */
export async function sealAndSignModel(opts: {
  plaintext: Uint8Array;
  modelName: string;
  /** The key broker resource of the data key, stored in the container header. */
  keyId: string;
  /** AES-256 key (32 bytes). */
  dataKey: Uint8Array;
  /** The registry's P-384 private key. */
  signerKey: KeyObject;
}): Promise<SealedModel> {
  const modelSha256 = createHash("sha256").update(opts.plaintext).digest("hex");
  const container = sealModelContainer(opts.plaintext, opts.dataKey, opts.keyId);
  const signature = await signModel(
    { model: opts.modelName, sha256: modelSha256, size: opts.plaintext.length },
    opts.signerKey,
  );
  return { container, signature, modelSha256, containerSha256: createHash("sha256").update(container).digest("hex") };
}

/**
 * Encrypts and signs a model directory (a decoder model's graph, tokenizer and configs): the files become one
 * `CI-MDIR` bundle, and the signature lists every file with its SHA-256 beside the bundle's digest.
 *
 * @example
 * const sealed = await sealAndSignModelDirectory({ files: readModelDirectory("out/qwen"), modelName: "chat", keyId: "default/model/chat", dataKey, signerKey });
 */
export async function sealAndSignModelDirectory(opts: {
  files: ReadonlyMap<string, Uint8Array>;
  modelName: string;
  keyId: string;
  dataKey: Uint8Array;
  signerKey: KeyObject;
}): Promise<SealedModel> {
  const plaintext = encodeModelBundle(opts.files);
  const modelSha256 = createHash("sha256").update(plaintext).digest("hex");
  const container = sealModelContainer(plaintext, opts.dataKey, opts.keyId);
  const signature = await signModel(
    { model: opts.modelName, sha256: modelSha256, size: plaintext.length, files: bundleEntries(opts.files) },
    opts.signerKey,
  );
  plaintext.fill(0);
  return { container, signature, modelSha256, containerSha256: createHash("sha256").update(container).digest("hex") };
}
