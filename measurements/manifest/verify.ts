/**
 * Verification of signed golden manifests against a pinned public key. The function that verifies
 * says so in its name; nothing here fetches keys or trusts keys carried in the JWS.
 */
import { compactVerify } from "jose";
import { canonicalManifestBytes } from "./canonical.js";
import { ManifestError } from "./errors.js";
import { toP384KeyObject, type ManifestKey } from "./keys.js";
import { MANIFEST_JWS_TYPE } from "./sign.js";
import type { GoldenManifest } from "./types.js";
import { parseManifest } from "./validate.js";

/** Options of `verifySignedManifest`. */
export interface VerifyManifestOptions {
  /** Require this `kid` in the header; absent: any kid (the key alone decides). */
  readonly kid?: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const HEADER_KEYS = ["alg", "kid", "typ"];

function invalid(message: string, cause?: unknown): ManifestError {
  return new ManifestError("MANIFEST_SIGNATURE_INVALID", `verifying signed golden manifest: ${message}`, { cause });
}

/** Checks the protected header before any cryptography: exactly alg ES384, typ ours, a kid. */
function checkHeader(encoded: string, options: VerifyManifestOptions): void {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(encoded, "base64url")));
  } catch (cause) {
    throw invalid("the protected header is not base64url JSON", cause);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header))
    throw invalid("the protected header is not a JSON object");
  const h = header as Record<string, unknown>;
  const extra = Object.keys(h)
    .filter((k) => !HEADER_KEYS.includes(k))
    .sort();
  if (extra.length > 0)
    throw invalid(`unexpected header parameter${extra.length === 1 ? "" : "s"} ${extra.join(", ")}`);
  if (h.alg !== "ES384") throw invalid(`algorithm ${JSON.stringify(h.alg)} is not allowed (ES384 only)`);
  if (h.typ !== MANIFEST_JWS_TYPE) throw invalid(`typ ${JSON.stringify(h.typ)} is not "${MANIFEST_JWS_TYPE}"`);
  if (typeof h.kid !== "string" || h.kid.length === 0) throw invalid("the header has no kid");
  if (options.kid !== undefined && h.kid !== options.kid)
    throw invalid(`kid ${JSON.stringify(h.kid)} is not the expected ${JSON.stringify(options.kid)}`);
}

/**
 * Verifies a compact JWS golden manifest with a pinned ES384 public key and returns the manifest.
 *
 * Checks, in order: compact form; protected header exactly `alg` ES384, `typ`
 * `golden-manifest+jws` and `kid` (no `jwk`, `x5c`, `jku`, `crit`, `b64`: keys are never taken from
 * the token); the signature (jose `compactVerify`, ES384 only); the payload parses strictly as a
 * valid manifest; and the payload is byte-for-byte the manifest's canonical serialisation (so one
 * manifest has one signed form, and duplicate JSON keys or reformatting are refused).
 *
 * @param jws - compact serialisation `header.payload.signature`.
 * @param key - the pinned EC P-384 public key (KeyObject, CryptoKey or public JWK).
 * @throws ManifestError `MANIFEST_SIGNATURE_INVALID`, `MANIFEST_MALFORMED`, `MANIFEST_INVALID` or
 *   `MANIFEST_NOT_CANONICAL`; TypeError when `key` is not a P-384 public key.
 * @example const manifest = await verifySignedManifest(jws, createPublicKey(pinnedPem));
 */
export async function verifySignedManifest(
  jws: string,
  key: ManifestKey,
  options: VerifyManifestOptions = {},
): Promise<GoldenManifest> {
  if (typeof jws !== "string") throw new TypeError("jws must be a string");
  const publicKey = toP384KeyObject(key, "public");
  const parts = jws.split(".");
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)))
    throw invalid("not a compact JWS (three non-empty base64url parts)");
  checkHeader(parts[0] as string, options);
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(jws, publicKey, { algorithms: ["ES384"] }));
  } catch (cause) {
    throw invalid(`signature check failed (${(cause as Error).message})`, cause);
  }
  const manifest = parseManifest(payload);
  if (!Buffer.from(canonicalManifestBytes(manifest)).equals(payload)) {
    throw new ManifestError(
      "MANIFEST_NOT_CANONICAL",
      "verifying signed golden manifest: the signed payload is not the canonical serialisation of its manifest",
    );
  }
  return manifest;
}
