/**
 * What the broker needs from the verifier (runtime/attestation). The broker never parses reports
 * (STYLE.md rule 1): it hands over the evidence and the report data it expects, and acts on the
 * typed verdict. `verifier-adapter.ts` implements this port with the real verifier.
 */
import type { EvidenceClaims } from "../../../measurements/drift/types.js";

/** One verification request. */
export interface VerifyEvidenceRequest {
  /** KBS tee name (`snp`). */
  readonly tee: string;
  /** `tee-evidence.primary_evidence` as received (untrusted JSON). */
  readonly evidence: unknown;
  /** The 64-byte REPORT_DATA the evidence must carry (nonce and TEE key binding). */
  readonly expectedReportData: Buffer;
  readonly now: Date;
}

/** One reason evidence was rejected (no secrets: codes, field paths, short messages). */
export interface VerifierProblem {
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

/** The verifier's verdict on authenticity (signature, chain, binding, structure, policy bits). */
export type EvidenceVerdict =
  | { readonly authentic: true; readonly claims: EvidenceClaims }
  | { readonly authentic: false; readonly problems: readonly VerifierProblem[] };

/**
 * Verifies evidence. Resolves with a verdict for any evidence, good or bad; rejects with
 * KeyBrokerError VERIFIER_UNAVAILABLE only when it cannot decide (collateral unavailable), so the
 * broker fails closed with 503.
 */
export interface EvidenceVerifier {
  verify(request: VerifyEvidenceRequest): Promise<EvidenceVerdict>;
}
