/**
 * The EvidenceVerifier port implemented with the real verifier: `appraiseSnpEvidence` parses and
 * authenticates the report (signature, chain to a pinned root, TCB and chip binding), validates it
 * against the SNP policy, the golden manifests and the expected REPORT_DATA (with a replay guard),
 * and classifies the drift. Nothing here reads report bytes.
 *
 * Wire formats of `tee-evidence.primary_evidence` for tee `snp`:
 *
 * - ours, the exact bytes: `{ "report": "<base64 of the 1184-byte ATTESTATION_REPORT>",
 *   "cert_chain": "<base64 of the extended-report certificate table (configfs-tsm auxblob)>" }`;
 * - Trustee's SNP attester's, the report field by field (`{ "attestation_report": {...},
 *   "cert_chain": [...] | null }`), re-serialised to the exact bytes by kbs-protocol
 *   (`snpReportFromTrusteeJson`) before the verifier sees them.
 *
 * `cert_chain` is optional when the verifier can obtain the VCEK itself (collateral getter). When
 * the Attestation carried init-data, the verified report's HOST_DATA must equal its digest.
 */
import {
  collateralFromCertTable,
  appraiseSnpEvidence,
  type SnpAttestationPolicy,
  memoryReplayGuard,
  type ReplayGuard,
  type ChainCache,
  type CollateralGetter,
  type TrustAnchor,
} from "../../attestation/index.js";
import { isTrusteeSnpEvidence, snpReportFromTrusteeJson } from "../../kbs-protocol/index.js";
import { KeyBrokerError } from "../errors.js";
import type { EvidenceVerdict, EvidenceVerifier, VerifierProblem } from "./verifier-port.js";

/** Options of snpEvidenceVerifier. */
export interface SnpVerifierOptions {
  /** Trusted roots: `anchorsFor(policy.allowedRoots, simulatedAnchors)`. */
  readonly anchors: readonly TrustAnchor[];
  /** The SNP appraisal policy (`parseAttestationPolicy`). */
  readonly policy: SnpAttestationPolicy;
  /** Source of collateral the evidence does not carry (KDS with a cache, or an offline folder). */
  readonly getter?: CollateralGetter;
  /** Chain cache shared across requests (verification then costs about one ECDSA verify). */
  readonly cache?: ChainCache;
  /** Single-use REPORT_DATA bindings (default: in memory for 10 minutes). */
  readonly replay?: ReplayGuard;
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
 * An EvidenceVerifier over `appraiseSnpEvidence`.
 *
 * @example
 * const policy = parseAttestationPolicy(config.attestation);
 * const verifier = snpEvidenceVerifier({ anchors: anchorsFor(policy.allowedRoots), policy, getter: cachedGetter(kdsGetter()), cache: new ChainCache() });
 */
export function snpEvidenceVerifier(o: SnpVerifierOptions): EvidenceVerifier {
  const replay = o.replay ?? memoryReplayGuard({ ttlMs: 600_000 });
  return {
    async verify(req): Promise<EvidenceVerdict> {
      const malformed = (failures: VerifierProblem[]): EvidenceVerdict => ({
        accepted: false,
        driftClass: "invalid-evidence",
        reason: "evidence is malformed",
        failures,
      });
      if (req.tee !== "snp")
        return malformed([{ code: "EVIDENCE_MALFORMED", path: "tee", message: `tee ${req.tee} is not supported` }]);
      const ev = (typeof req.evidence === "object" && req.evidence !== null ? req.evidence : {}) as Record<
        string,
        unknown
      >;
      const problems: VerifierProblem[] = [];
      let report: Buffer | undefined;
      let table: Buffer | undefined;
      if (isTrusteeSnpEvidence(ev)) {
        const r = snpReportFromTrusteeJson(ev, "tee-evidence.primary_evidence");
        if (!r.ok) return malformed(r.problems.map((x) => ({ code: "EVIDENCE_MALFORMED", ...x })));
        report = r.report;
        table = r.certTable;
      } else {
        report = decode(ev.report, "tee-evidence.primary_evidence.report", problems);
        table =
          ev.cert_chain === undefined
            ? undefined
            : decode(ev.cert_chain, "tee-evidence.primary_evidence.cert_chain", problems);
      }
      if (!report || problems.length > 0) return malformed(problems);
      let collateral;
      try {
        collateral = table ? collateralFromCertTable(table) : undefined;
      } catch (e) {
        return malformed([
          {
            code: "EVIDENCE_MALFORMED",
            path: "tee-evidence.primary_evidence.cert_chain",
            message: (e as Error).message.slice(0, 200),
          },
        ]);
      }
      const v = await appraiseSnpEvidence({
        report,
        anchors: o.anchors,
        now: req.now,
        policy: o.policy,
        manifests: req.manifests,
        expectedReportData: req.expectedReportData,
        replay,
        ...(req.inventory ? { inventory: req.inventory } : {}),
        ...(collateral ? { collateral } : {}),
        ...(o.getter ? { getter: o.getter } : {}),
        ...(o.cache ? { cache: o.cache } : {}),
      });
      if (v.failures[0]?.code === "COLLATERAL_UNAVAILABLE")
        throw new KeyBrokerError("VERIFIER_UNAVAILABLE", `appraising evidence: ${v.failures[0].message}`);
      const failures: VerifierProblem[] = v.failures.map((f) => ({ code: f.code, path: f.path, message: f.message }));
      const host = v.evidence?.report.hostData;
      if (req.expectedHostData && host && !host.equals(req.expectedHostData)) {
        // Trustee's initdata rule: authentic evidence from a guest launched with other initdata.
        failures.push({
          code: "INIT_DATA_MISMATCH",
          path: "report.hostData",
          message: "HOST_DATA is not the digest of the Attestation's init-data",
        });
        return {
          accepted: false,
          driftClass: "invalid-evidence",
          reason: "authentic, but HOST_DATA does not bind the init-data",
          failures,
          ...(v.claims ? { claims: v.claims } : {}),
        };
      }
      return {
        accepted: v.accepted,
        driftClass: v.driftClass,
        reason: v.driftReason,
        failures,
        ...(v.claims ? { claims: v.claims } : {}),
      };
    },
  };
}
