/**
 * The model registry's detached signature: a compact JWS (ES384) whose payload is
 * `{"model": name, "sha256": hex digest of the plaintext bytes, "size": bytes}`, stored beside the encrypted
 * container (e.g. `sentiment.onnx.enc.jws`). A model directory (a `CI-MDIR` bundle, model/bundle.ts) also lists
 * `files`: each file's name, SHA-256 and size, so a reviewer reads what the digest covers. The signer's public key
 * is pinned in config.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { CompactSign, compactVerify } from "jose";
import { InferenceError } from "../errors.js";
import type { BundleEntry } from "./bundle.js";

/** JWS `typ` of a model signature. */
export const MODEL_SIGNATURE_TYP = "ci-model-signature+jws";

/** What the registry signs. */
export interface ModelSignaturePayload {
  /** Model name as served (e.g. `sentiment`). */
  readonly model: string;
  /** Lowercase hex SHA-256 of the plaintext model bytes. */
  readonly sha256: string;
  /** Plaintext size in bytes. */
  readonly size: number;
  /** For a model directory: every file of the bundle, in bundle order. */
  readonly files?: readonly BundleEntry[];
}

/** Signs a payload with the registry's private key (P-384). Registry side; tests and the sandbox use it. */
export async function signModel(payload: ModelSignaturePayload, privateKey: KeyObject): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: "ES384", typ: MODEL_SIGNATURE_TYP })
    .sign(privateKey);
}

function invalid(what: string, cause?: unknown): InferenceError {
  return new InferenceError("MODEL_SIGNATURE_INVALID", `verifying model signature: ${what}`, { cause });
}

/** Parses a pinned signer key (PEM SPKI, P-384). Caller misuse (not a P-384 public key) -> TypeError. */
export function parseSignerKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "secp384r1") {
    throw new TypeError("model signer key must be a P-384 public key");
  }
  return key;
}

/**
 * Verifies a signature with the pinned key and returns its payload. Any failure (format, algorithm, key,
 * payload shape) -> `MODEL_SIGNATURE_INVALID`.
 */
export async function verifyModelSignature(jws: string, signerKey: KeyObject): Promise<ModelSignaturePayload> {
  let payload: Uint8Array;
  try {
    const result = await compactVerify(jws.trim(), signerKey, { algorithms: ["ES384"] });
    if (result.protectedHeader.typ !== MODEL_SIGNATURE_TYP)
      throw invalid(`unexpected typ ${JSON.stringify(result.protectedHeader.typ)}`);
    payload = result.payload;
  } catch (e) {
    if (e instanceof InferenceError) throw e;
    throw invalid("signature does not verify with the pinned signer key", e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(payload));
  } catch (e) {
    throw invalid("payload is not JSON", e);
  }
  const p = parsed as Partial<ModelSignaturePayload> | null;
  const problems: string[] = [];
  if (typeof p?.model !== "string" || p.model.length === 0) problems.push("payload.model must be a non-empty string");
  if (typeof p?.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(p.sha256))
    problems.push("payload.sha256 must be 64 lowercase hex digits");
  if (typeof p?.size !== "number" || !Number.isSafeInteger(p.size) || p.size < 0)
    problems.push("payload.size must be a non-negative integer");
  const files = p?.files;
  if (files !== undefined) {
    if (!Array.isArray(files) || files.length === 0) problems.push("payload.files must be a non-empty list");
    else
      files.forEach((f: Partial<BundleEntry> | null, i) => {
        if (
          typeof f?.name !== "string" ||
          typeof f.sha256 !== "string" ||
          !/^[0-9a-f]{64}$/.test(f.sha256) ||
          typeof f.size !== "number" ||
          !Number.isSafeInteger(f.size) ||
          f.size < 0
        )
          problems.push(`payload.files[${i}] must be { name, sha256 (64 lowercase hex), size }`);
      });
  }
  if (problems.length > 0) throw invalid(problems.join("; "));
  return {
    model: p!.model!,
    sha256: p!.sha256!,
    size: p!.size!,
    ...(files ? { files: files.map((f) => ({ name: f.name, sha256: f.sha256, size: f.size })) } : {}),
  };
}
