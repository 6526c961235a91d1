/**
 * KBS attestation protocol messages (confidential-containers/trustee kbs/docs/kbs_attestation_protocol.md,
 * protocol version 0.4.0): Request, Challenge, Attestation and the token response. Parsing reports
 * every problem with its field path. Like Trustee (serde), unknown members are ignored.
 */
import { z } from "zod";

/** The protocol version this broker speaks (Trustee's KBS requires exactly this version). */
export const KBS_PROTOCOL_VERSION = "0.4.0";

/** KBS `tee` values the broker accepts. */
export const SUPPORTED_TEES: readonly string[] = ["snp"];

/**
 * KBS `tee` values the broker refuses with a specific reason (kbs-types `Tee` names): Azure's
 * vTPM-wrapped SNP evidence is a vTPM quote whose report binds the vTPM key, which this broker cannot
 * appraise.
 */
export const REFUSED_TEES: Readonly<Record<string, string>> = {
  "az-snp-vtpm":
    "az-snp-vtpm (Azure CVM: SNP report binding a vTPM, evidence is a TPM quote) is not supported; use tee snp with the SNP report itself",
};

/** Name of the session cookie. */
export const SESSION_COOKIE = "kbs-session-id";

/** `Request` (step 1, body of POST /kbs/v0/auth). */
export const requestSchema = z.object({
  version: z.string(),
  tee: z.string(),
  "extra-params": z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
});
export type KbsRequest = z.infer<typeof requestSchema>;

/**
 * The `extra-params` member by which a Request asks for the runtime certificate with the token
 * (`{"runtime-certificate": true}`; an extension, Trustee leaves the field reserved).
 */
export const CERTIFICATE_PARAM = "runtime-certificate";

/** `Challenge` (step 2, response of /auth). */
export interface KbsChallenge {
  readonly nonce: string;
  readonly "extra-params": Record<string, unknown>;
}

// Loose and untyped beyond `kty`: the key check (tee-key.ts) reads the members of EC and RSA keys,
// and members beyond the TeePubKey fields (a private "d") must reach it to be refused.
const jwkSchema = z.looseObject({ kty: z.string() });

/** `InitData` (kbs-types): Trustee's clients send `null` without initdata, else `{"format":"toml","body":...}`. */
export const initDataSchema = z.object({ format: z.string(), body: z.string() });

/** `Attestation` (step 3, body of POST /kbs/v0/attest). */
export const attestationSchema = z.object({
  "init-data": initDataSchema.nullable().optional(),
  "runtime-data": z.object({ nonce: z.string(), "tee-pubkey": jwkSchema }),
  "tee-evidence": z.object({ primary_evidence: z.unknown(), additional_evidence: z.string().default("") }),
});
export type KbsAttestation = z.infer<typeof attestationSchema>;

/** Response of /attest: the token, plus the runtime certificate when the Request asked for it. */
export interface KbsAttestationToken {
  readonly token: string;
  readonly "runtime-certificate"?: unknown;
}
