/**
 * What the broker needs from the verifier (runtime/attestation). The broker never parses reports
 * (STYLE.md rule 1): it hands over the evidence, the REPORT_DATA it expects and the golden
 * manifests with their effective status, and acts on the typed verdict (accepted, drift class,
 * failures). `snp-verifier.ts` implements this port with `appraiseSnpEvidence`.
 */
import type { DriftClass, EvidenceClaims, PlatformInventory } from "../../../measurements/drift/index.js";
import type { GoldenManifest } from "../../../measurements/manifest/index.js";

/** One appraisal request. */
export interface VerifyEvidenceRequest {
  /** KBS tee name (`snp`). */
  readonly tee: string;
  /** `tee-evidence.primary_evidence` as received (untrusted JSON). */
  readonly evidence: unknown;
  /** The 64-byte REPORT_DATA the evidence must carry (nonce and TEE key binding). */
  readonly expectedReportData: Buffer;
  /**
   * The 32-byte HOST_DATA the evidence must carry when the Attestation sent init-data (Trustee's
   * rule: the initdata digest, truncated or padded); absent: not checked here (the policy may).
   */
  readonly expectedHostData?: Buffer;
  /** Every verified golden manifest with the broker's effective status. */
  readonly manifests: readonly GoldenManifest[];
  /** Nodes the broker has seen, for `platform-updated`. */
  readonly inventory?: PlatformInventory;
  readonly now: Date;
}

/** One reason evidence was refused (no secrets: codes, field paths, short messages). */
export interface VerifierProblem {
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

/** The verifier's verdict. */
export interface EvidenceVerdict {
  /** Authentic and no policy check failed. */
  readonly accepted: boolean;
  readonly driftClass: DriftClass;
  /** One line on why this drift class (no secrets). */
  readonly reason: string;
  /** Every failure, with codes and field paths (empty when accepted). */
  readonly failures: readonly VerifierProblem[];
  /** Claims of authentic evidence; undefined when authenticity failed. */
  readonly claims?: EvidenceClaims;
}

/**
 * Appraises evidence. Resolves with a verdict for any evidence, good or bad; rejects with
 * KeyBrokerError VERIFIER_UNAVAILABLE only when it cannot decide (collateral unavailable), so the
 * broker fails closed with 503.
 */
export interface EvidenceVerifier {
  verify(request: VerifyEvidenceRequest): Promise<EvidenceVerdict>;
}
