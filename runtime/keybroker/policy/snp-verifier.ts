/**
 * The EvidenceVerifier port implemented with the real verifier (runtime/attestation): the broker
 * hands over the evidence and the REPORT_DATA it expects, `verifySnpEvidence` authenticates the
 * report (signature, chain to a pinned root, TCB and chip binding), and the typed result is
 * checked for the expected binding and the launch-policy basics. Nothing here parses report bytes.
 *
 * Wire format of `tee-evidence.primary_evidence` for tee `snp` (a deviation from Trustee, whose
 * attester serialises the report structure field by field; ours carries the exact bytes):
 *
 *   { "report": "<base64 of the 1184-byte ATTESTATION_REPORT>",
 *     "cert_chain": "<base64 of the extended-report certificate table (configfs-tsm auxblob)>" }
 *
 * `cert_chain` is optional when the verifier can obtain the VCEK itself (collateral getter).
 */
import { collateralFromCertTable } from "../../attestation/abi/certtable.js";
import { isAttestationError } from "../../attestation/errors.js";
import type { ChainCache } from "../../attestation/verify/chain.js";
import type { CollateralGetter } from "../../attestation/verify/collateral.js";
import type { TrustAnchor } from "../../attestation/verify/trust.js";
import { verifySnpEvidence } from "../../attestation/verify/verify.js";
import { KeyBrokerError } from "../errors.js";
import type { EvidenceVerdict, EvidenceVerifier, VerifierProblem } from "./verifier-port.js";

/** SNP evidence as sent by the guest client. */
export interface SnpWireEvidence {
  readonly report: string;
  readonly cert_chain?: string;
}

/** Options of snpEvidenceVerifier. */
export interface SnpVerifierOptions {
  /** Trusted roots: `amdTrustAnchors()`, plus the simulated anchor only where the stack allows it. */
  readonly anchors: readonly TrustAnchor[];
  /** Source of collateral the evidence does not carry (KDS with a cache, or an offline folder). */
  readonly getter?: CollateralGetter;
  /** Chain cache shared across requests (verification then costs about one ECDSA verify). */
  readonly cache?: ChainCache;
  /** Highest VMPL accepted (default 0). */
  readonly maxVmpl?: number;
  /** Accept POLICY.DEBUG guests (default false; never in prod). */
  readonly allowDebug?: boolean;
  /** Accept POLICY.MIGRATE_MA guests (default false). */
  readonly allowMigrationAgent?: boolean;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decode(value: unknown, path: string, problems: VerifierProblem[]): Buffer | undefined {
  if (typeof value !== "string" || value.length === 0 || value.length % 4 !== 0 || !B64.test(value)) {
    problems.push({ code: "EVIDENCE_MALFORMED", path, message: "must be standard base64" });
    return undefined;
  }
  return Buffer.from(value, "base64");
}

/**
 * An EvidenceVerifier over `verifySnpEvidence`.
 *
 * @example
 * const verifier = snpEvidenceVerifier({ anchors: amdTrustAnchors(), getter: cachedGetter(kdsGetter()), cache: new ChainCache() });
 */
export function snpEvidenceVerifier(o: SnpVerifierOptions): EvidenceVerifier {
  return {
    async verify(req): Promise<EvidenceVerdict> {
      if (req.tee !== "snp") return { authentic: false, problems: [{ code: "EVIDENCE_MALFORMED", path: "tee", message: `tee ${req.tee} is not supported` }] };
      const ev = (typeof req.evidence === "object" && req.evidence !== null ? req.evidence : {}) as Record<string, unknown>;
      const problems: VerifierProblem[] = [];
      const report = decode(ev.report, "tee-evidence.primary_evidence.report", problems);
      const table = ev.cert_chain === undefined ? undefined : decode(ev.cert_chain, "tee-evidence.primary_evidence.cert_chain", problems);
      if (!report || problems.length > 0) return { authentic: false, problems };
      let verified;
      try {
        const collateral = table ? collateralFromCertTable(table) : undefined;
        verified = await verifySnpEvidence({
          report,
          anchors: o.anchors,
          now: req.now,
          ...(collateral ? { collateral } : {}),
          ...(o.getter ? { getter: o.getter } : {}),
          ...(o.cache ? { cache: o.cache } : {}),
        });
      } catch (e) {
        if (isAttestationError(e, "COLLATERAL_UNAVAILABLE")) throw new KeyBrokerError("VERIFIER_UNAVAILABLE", `verifying evidence: ${e.message}`, { cause: e });
        if (isAttestationError(e)) return { authentic: false, problems: [{ code: e.code, path: e.path ?? "report", message: e.message }] };
        throw e;
      }
      const r = verified.report;
      if (!r.reportData.equals(req.expectedReportData)) problems.push({ code: "REPORT_DATA_MISMATCH", path: "report.reportData", message: "REPORT_DATA does not bind this session's nonce and TEE key" });
      if (r.policy.debug && !o.allowDebug) problems.push({ code: "DEBUG_ALLOWED", path: "report.policy.debug", message: "the guest policy allows debugging" });
      if (r.policy.migrateMa && !o.allowMigrationAgent) problems.push({ code: "MIGRATION_AGENT_ALLOWED", path: "report.policy.migrateMa", message: "the guest policy allows a migration agent" });
      if (r.vmpl > (o.maxVmpl ?? 0)) problems.push({ code: "VMPL", path: "report.vmpl", message: `VMPL ${r.vmpl} is above ${o.maxVmpl ?? 0}` });
      if (problems.length > 0) return { authentic: false, problems };
      return { authentic: true, claims: verified.claims };
    },
  };
}
