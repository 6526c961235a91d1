/**
 * How evidence binds the KBS nonce and the TEE public key (Trustee's exact binding, KBS protocol
 * 0.4.0): the attester hashes the runtime data
 *
 *   { "additional-evidence": <tee-evidence.additional_evidence>, "nonce": <challenge nonce>,
 *     "tee-pubkey": <JWK {alg, crv, kty, x, y}> }
 *
 * serialised as canonical JSON (RFC 8785 JCS: keys sorted, no whitespace) with SHA-384, and puts
 * the 48-byte digest, zero-padded to 64 bytes, in the SNP report's REPORT_DATA. The broker rebuilds
 * the same bytes from the Attestation message and hands them to the verifier as the expected
 * report data. Shared by the broker and the guest client, so both sides hash the same bytes.
 */
import { createHash } from "node:crypto";

/** Bytes of REPORT_DATA in an SNP report (AMD SEV-SNP ABI, Table 22, offset 0x50). */
export const REPORT_DATA_BYTES = 64;

/** The TEE public key as it enters the binding: exactly the KBS `TeePubKey::EC` fields. */
export interface BindingJwk {
  readonly kty: string;
  readonly crv: string;
  readonly alg: string;
  readonly x: string;
  readonly y: string;
}

/** Canonical JSON (RFC 8785) for values made of objects, arrays, strings, booleans, null and safe integers. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("canonicalJson: only safe integers are supported");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    // Default sort compares UTF-16 code units, as RFC 8785 3.2.3 requires.
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  throw new TypeError(`canonicalJson: unsupported ${typeof value}`);
}

/** The runtime-data object of the binding (TEE key reduced to the TeePubKey fields). */
export function runtimeData(nonce: string, teePubkey: BindingJwk, additionalEvidence: string): Record<string, unknown> {
  const { kty, crv, alg, x, y } = teePubkey;
  return { "tee-pubkey": { kty, crv, alg, x, y }, nonce, "additional-evidence": additionalEvidence };
}

/**
 * The 64-byte REPORT_DATA an attester must put in its evidence for this nonce and key.
 *
 * @example expectedReportData(challenge.nonce, jwk, "") // Buffer(64): SHA-384 digest then 16 zero bytes
 */
export function expectedReportData(nonce: string, teePubkey: BindingJwk, additionalEvidence = ""): Buffer {
  const digest = createHash("sha384")
    .update(canonicalJson(runtimeData(nonce, teePubkey, additionalEvidence)), "utf8")
    .digest();
  const out = Buffer.alloc(REPORT_DATA_BYTES);
  digest.copy(out);
  return out;
}
