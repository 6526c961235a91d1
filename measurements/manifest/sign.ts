/**
 * Signing golden manifests as compact JWS (RFC 7515) with ES384 (RFC 7518 3.4). The signature is
 * produced by a `ManifestSigner`, so the key may live in software or in an HSM: a PKCS#11 signer
 * hashes the signing input with SHA-384 and signs the digest with `CKM_ECDSA`, which returns
 * exactly the raw r||s (2 x 48 bytes) that JWS ES384 expects.
 */
import { sign as nodeSign, type KeyObject, type webcrypto } from "node:crypto";
import { canonicalJson } from "../../core/index.js";
import { canonicalManifestBytes } from "./canonical.js";
import { ManifestError } from "./errors.js";
import { toP384KeyObject } from "./keys.js";
import type { GoldenManifest } from "./types.js";
import { validateManifest } from "./validate.js";

/** JOSE `typ` of a signed golden manifest; verification refuses any other. */
export const MANIFEST_JWS_TYPE = "golden-manifest+jws";
/** Length of an ES384 signature: r and s, 48 bytes each, big-endian. */
export const ES384_SIGNATURE_BYTES = 96;

/** Produces ES384 signatures; the key may be in software or in an HSM. */
export interface ManifestSigner {
  readonly alg: "ES384";
  /** Key id placed in the JWS header (printable, 1..256 characters). */
  readonly kid: string;
  /**
   * Signs the JWS signing input (ASCII `BASE64URL(header) "." BASE64URL(payload)`): SHA-384 of it,
   * then ECDSA P-384. Resolves to the raw signature r||s (96 bytes), not DER.
   */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
}

const KID_PATTERN = /^[\x21-\x7e]{1,256}$/;

/**
 * A signer over a software P-384 private key.
 * @param key - an EC P-384 private key (node KeyObject, or the CryptoKey jose's `importPKCS8` returns).
 * @param kid - key id for the JWS header (e.g. `keyThumbprint(key)`).
 * @throws TypeError when the key is not a P-384 private key or the kid is not printable.
 * @example const signer = softwareSigner(createPrivateKey(pem), await keyThumbprint(pem));
 */
export function softwareSigner(key: KeyObject | webcrypto.CryptoKey, kid: string): ManifestSigner {
  const privateKey = toP384KeyObject(key, "private");
  if (!KID_PATTERN.test(kid)) throw new TypeError("kid must be 1..256 printable ASCII characters without spaces");
  return {
    alg: "ES384",
    kid,
    async sign(signingInput) {
      return new Uint8Array(nodeSign("sha384", signingInput, { key: privateKey, dsaEncoding: "ieee-p1363" }));
    },
  };
}

/**
 * Signs a manifest: validates it, then returns the compact JWS over its canonical bytes with the
 * protected header `{"alg":"ES384","kid":<kid>,"typ":"golden-manifest+jws"}` (canonical JSON).
 * @throws ManifestError `MANIFEST_INVALID` (never signs an invalid manifest) or `MANIFEST_SIGNER_FAILED`.
 * @example const jws = await signManifest(manifest, softwareSigner(privateKey, "release-2026"));
 */
export async function signManifest(manifest: GoldenManifest, signer: ManifestSigner): Promise<string> {
  if (signer.alg !== "ES384") throw new TypeError(`unsupported signer algorithm ${String(signer.alg)} (ES384 only)`);
  if (typeof signer.kid !== "string" || !KID_PATTERN.test(signer.kid))
    throw new TypeError("signer.kid must be 1..256 printable ASCII characters without spaces");
  const problems = validateManifest(manifest);
  if (problems.length > 0)
    throw new ManifestError("MANIFEST_INVALID", "signing golden manifest: the manifest is invalid:", { problems });
  const header = Buffer.from(canonicalJson({ alg: "ES384", kid: signer.kid, typ: MANIFEST_JWS_TYPE })).toString(
    "base64url",
  );
  const payload = Buffer.from(canonicalManifestBytes(manifest)).toString("base64url");
  const signingInput = new TextEncoder().encode(`${header}.${payload}`);
  let signature: Uint8Array;
  try {
    signature = await signer.sign(signingInput);
  } catch (cause) {
    throw new ManifestError("MANIFEST_SIGNER_FAILED", `signing golden manifest: signer ${signer.kid} failed`, {
      cause,
    });
  }
  if (!(signature instanceof Uint8Array) || signature.length !== ES384_SIGNATURE_BYTES) {
    const got = signature instanceof Uint8Array ? `${signature.length} bytes` : typeof signature;
    throw new ManifestError(
      "MANIFEST_SIGNER_FAILED",
      `signing golden manifest: signer ${signer.kid} returned ${got}, expected a raw ES384 signature of ${ES384_SIGNATURE_BYTES} bytes (r||s, not DER)`,
    );
  }
  return `${header}.${payload}.${Buffer.from(signature).toString("base64url")}`;
}
