/**
 * Fixtures of the policy-validation tests (validateSnpReport): simulated Milan evidence bound to a
 * fixed REPORT_DATA, real reports, and the failures of a validation as `CODE path` lines.
 */
import { createHash } from "node:crypto";
import {
  parseAttestationPolicy,
  type SnpAttestationPolicyInput,
} from "../../runtime/attestation/validate/attestation-policy.js";
import { validateSnpReport } from "../../runtime/attestation/validate/validate.js";
import type { SimulatedReportInput } from "../../runtime/simulators/snp/report.js";
import { amdTrustAnchors } from "../../runtime/attestation/verify/trust.js";
import { verifySnpEvidence, type VerifiedSnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { parseCertificate } from "../../core/index.js";
import type { GoldenManifest } from "../../measurements/manifest/index.js";
import { A02_MEASUREMENT } from "./golden.js";
import { sharedSimulatedSnp } from "./simulated-snp.js";
import { realCase } from "./snp-vectors.js";

/** The validation time of every case. */
export const NOW = new Date("2030-01-01T00:00:00Z");
/** The REPORT_DATA the simulated evidence carries and the cases expect. */
export const BINDING = createHash("sha512").update("nonce||thumbprint").digest();

/** Simulated Milan evidence (dev manifest floors: Milan bl=4 tee=0 snp=24 ucode=219), verified. */
export async function simulated(input: Partial<SimulatedReportInput> = {}): Promise<VerifiedSnpEvidence> {
  const sim = await sharedSimulatedSnp("Milan");
  const ev = await sim.sign({ measurement: A02_MEASUREMENT, reportData: BINDING, ...input });
  const now = new Date(parseCertificate(ev.vek).notBefore.getTime() + 86_400_000);
  return verifySnpEvidence({ report: ev.report, collateral: ev.collateral, anchors: [sim.anchor()], now });
}

/** A real report of test/vectors (by name fragment), verified against the AMD roots at its valid time. */
export async function real(fragment: string): Promise<VerifiedSnpEvidence> {
  const c = realCase(fragment);
  return verifySnpEvidence({ report: c.report, collateral: { vek: c.vek }, anchors: amdTrustAnchors(), now: c.now });
}

/** A parsed attestation policy. */
export const policy = (p: SnpAttestationPolicyInput = {}) => parseAttestationPolicy(p);
/** The failures of validating `ev` under policy `p`, as `CODE path` lines. */
export const codes = (
  ev: VerifiedSnpEvidence,
  p: SnpAttestationPolicyInput,
  extra: { manifests?: readonly GoldenManifest[]; expectedReportData?: Uint8Array } = {},
) =>
  validateSnpReport({ evidence: ev, policy: policy(p), now: NOW, expectedReportData: BINDING, ...extra }).failures.map(
    (f) => `${f.code} ${f.path}`,
  );
