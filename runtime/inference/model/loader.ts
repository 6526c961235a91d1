/**
 * The model loader's verification pipeline: check the signature with the pinned registry key, decrypt the
 * container in memory with the released data key, and compare the plaintext's SHA-256, size and name with the
 * signed payload. Pure (bytes in, bytes out); any mismatch throws a typed `InferenceError` and nothing is served.
 */
import { createHash, type KeyObject } from "node:crypto";
import { InferenceError } from "../errors.js";
import { bundleEntries, decodeModelBundle, isModelBundle } from "./bundle.js";
import { openModelContainer, parseContainerHeader } from "./container.js";
import { verifyModelSignature } from "./signature.js";
import type { BundleEntry } from "./bundle.js";

/** Inputs of `openVerifiedModel`. */
export interface VerifiedModelInput {
  /** Served model name; must equal the signed `model`. */
  readonly modelName: string;
  /** The encrypted container bytes. */
  readonly container: Uint8Array;
  /** The registry's compact JWS (detached signature file contents). */
  readonly signature: string;
  /** The AES-256 data key released by the key broker (32 bytes). */
  readonly dataKey: Uint8Array;
  /** The pinned registry signer key (P-384). */
  readonly signerKey: KeyObject;
  /** SHA-256 of the container bytes pinned in the stack config; absent means not pinned. */
  readonly containerSha256?: string;
}

/** A decrypted, verified model. */
export interface VerifiedModel {
  readonly plaintext: Buffer;
  /** Lowercase hex SHA-256 of the plaintext (reported in model metadata). */
  readonly sha256: string;
  /** Key id from the container header (the broker resource of the data key). */
  readonly keyId: string;
  /** For a model directory (a `CI-MDIR` bundle): its files, views into `plaintext`. */
  readonly files?: ReadonlyMap<string, Uint8Array>;
}

const sha256Hex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Reads the key id of a container without decrypting (to know which key to ask the broker for). */
export function containerKeyId(container: Uint8Array): string {
  return parseContainerHeader(container).keyId;
}

/**
 * Verifies and decrypts a model.
 *
 * @example
 * const { plaintext, sha256 } = await openVerifiedModel({ modelName: "sentiment", container, signature, dataKey, signerKey });
 */
export async function openVerifiedModel(input: VerifiedModelInput): Promise<VerifiedModel> {
  if (input.containerSha256 !== undefined) {
    const actual = sha256Hex(input.container);
    if (actual !== input.containerSha256.toLowerCase()) {
      throw new InferenceError(
        "MODEL_DIGEST_MISMATCH",
        `checking model container: sha256 ${actual} differs from the pinned ${input.containerSha256}`,
      );
    }
  }
  const signed = await verifyModelSignature(input.signature, input.signerKey);
  if (signed.model !== input.modelName) {
    throw new InferenceError(
      "MODEL_SIGNATURE_INVALID",
      `verifying model signature: signed for model ${JSON.stringify(signed.model)}, serving ${JSON.stringify(input.modelName)}`,
    );
  }
  const { header, plaintext } = openModelContainer(input.container, input.dataKey);
  const sha256 = sha256Hex(plaintext);
  if (sha256 !== signed.sha256 || plaintext.length !== signed.size) {
    plaintext.fill(0);
    throw new InferenceError(
      "MODEL_DIGEST_MISMATCH",
      `checking decrypted model: sha256 ${sha256} (${header.plaintextLength} bytes) differs from the signed ${signed.sha256} (${signed.size} bytes)`,
    );
  }
  let files: Map<string, Uint8Array> | undefined;
  try {
    files = checkFiles(plaintext, signed.files);
  } catch (e) {
    plaintext.fill(0);
    throw e;
  }
  return { plaintext, sha256, keyId: header.keyId, ...(files ? { files } : {}) };
}

/** A bundle's files, checked against the signed list; a single file must not claim a list. */
function checkFiles(
  plaintext: Buffer,
  signed: readonly BundleEntry[] | undefined,
): Map<string, Uint8Array> | undefined {
  if (!isModelBundle(plaintext)) {
    if (signed !== undefined)
      throw new InferenceError("MODEL_DIGEST_MISMATCH", "checking decrypted model: signed as a directory, not one");
    return undefined;
  }
  const files = decodeModelBundle(plaintext);
  const actual = JSON.stringify(bundleEntries(files));
  if (signed === undefined || actual !== JSON.stringify(signed))
    throw new InferenceError(
      "MODEL_DIGEST_MISMATCH",
      "checking decrypted model directory: its files differ from the signed file list",
    );
  return files;
}
