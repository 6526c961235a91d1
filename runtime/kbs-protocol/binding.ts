/**
 * How evidence binds the KBS nonce and the TEE public key (Trustee's exact binding, KBS protocol
 * 0.4.0): the attester hashes the runtime data
 *
 *   { "additional-evidence": <tee-evidence.additional_evidence>, "nonce": <challenge nonce>,
 *     "tee-pubkey": <JWK {alg, crv, kty, x, y} or {alg, e, kty, n}> }
 *
 * serialised as canonical JSON (RFC 8785 JCS: keys sorted, no whitespace) with SHA-384, and puts
 * the 48-byte digest, zero-padded to 64 bytes, in the SNP report's REPORT_DATA. The broker rebuilds
 * the same bytes from the Attestation message and hands them to the verifier as the expected
 * report data. Shared by the broker and the guest client, so both sides hash the same bytes.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../core/index.js";
import { teePublicJwk, type TeePublicJwk } from "./tee-key.js";

/** Bytes of REPORT_DATA in an SNP report (AMD SEV-SNP ABI, Table 22, offset 0x50). */
export const REPORT_DATA_BYTES = 64;

/** The TEE public key as it enters the binding: exactly the kbs-types `TeePubKey` members (EC or RSA). */
export type BindingJwk = TeePublicJwk;

/** The runtime-data object of the binding (TEE key reduced to the TeePubKey fields). */
export function runtimeData(nonce: string, teePubkey: BindingJwk, additionalEvidence: string): Record<string, unknown> {
  return { "tee-pubkey": teePublicJwk(teePubkey), nonce, "additional-evidence": additionalEvidence };
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
