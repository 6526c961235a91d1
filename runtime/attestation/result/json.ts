/**
 * Plain-JSON views of reports, evidence and verdicts (CLI `--json`, audit logs): bytes as lower-case
 * hex, u64 words as `0x` hex strings, dates as ISO 8601. REPORT_DATA appears only as its SHA-256
 * (house rule: report data never reaches logs), the signature not at all.
 */
import { createHash } from "node:crypto";
import type { SnpReport } from "../abi/report.js";
import type { TcbVersion } from "../abi/tcb.js";
import type { SnpVerdict } from "../appraise.js";
import type { VerifiedSnpEvidence } from "../verify/verify.js";

const hx = (b: Buffer) => b.toString("hex");
const word = (v: bigint) => `0x${v.toString(16)}`;
const tcb = (t: TcbVersion) => ({
  raw: word(t.raw),
  bootloader: t.bootloader,
  tee: t.tee,
  snp: t.snp,
  microcode: t.microcode,
  ...(t.fmc === undefined ? {} : { fmc: t.fmc }),
});
const version = (v: SnpReport["currentVersion"]) => `${v.major}.${v.minor}.${v.build}`;

/** A report as JSON (no REPORT_DATA, no signature). */
export function reportToJson(r: SnpReport): Record<string, unknown> {
  const { raw: policyRaw, ...policyBits } = r.policy;
  const { raw: piRaw, unknownBits, ...piBits } = r.platformInfo;
  return {
    version: r.version,
    product: r.product ?? null,
    guestSvn: r.guestSvn,
    policy: { raw: word(policyRaw), ...policyBits },
    familyId: hx(r.familyId),
    imageId: hx(r.imageId),
    vmpl: r.vmpl,
    signatureAlgo: r.signatureAlgo,
    currentTcb: tcb(r.currentTcb),
    platformInfo: { raw: word(piRaw), ...piBits, unknownBits: word(unknownBits) },
    keyInfo: {
      raw: `0x${r.keyInfo.raw.toString(16)}`,
      authorKeyEn: r.keyInfo.authorKeyEn,
      maskChipKey: r.keyInfo.maskChipKey,
      signingKey: r.keyInfo.signingKey,
    },
    reportDataSha256: createHash("sha256").update(r.reportData).digest("hex"),
    measurement: hx(r.measurement),
    hostData: hx(r.hostData),
    idKeyDigest: hx(r.idKeyDigest),
    authorKeyDigest: hx(r.authorKeyDigest),
    reportId: hx(r.reportId),
    reportIdMa: hx(r.reportIdMa),
    reportedTcb: tcb(r.reportedTcb),
    cpuid: r.cpuid ?? null,
    chipId: hx(r.chipId),
    committedTcb: tcb(r.committedTcb),
    currentVersion: version(r.currentVersion),
    committedVersion: version(r.committedVersion),
    launchTcb: tcb(r.launchTcb),
    launchMitVector: r.launchMitVector === undefined ? null : word(r.launchMitVector),
    currentMitVector: r.currentMitVector === undefined ? null : word(r.currentMitVector),
  };
}

/** Verified evidence as JSON. */
export function evidenceToJson(e: VerifiedSnpEvidence): Record<string, unknown> {
  const { hwId, ...vek } = e.vek;
  return {
    tee: e.tee,
    product: e.product,
    signer: e.signer,
    rootId: e.rootId,
    chipIdBound: e.chipIdBound,
    revocationChecked: e.revocationChecked,
    reportSha256: e.reportSha256,
    vek: {
      ...vek,
      hwId: hwId ? hx(hwId) : null,
      notBefore: vek.notBefore.toISOString(),
      notAfter: vek.notAfter.toISOString(),
    },
    claims: e.claims,
    report: reportToJson(e.report),
  };
}

/** A verdict as JSON. */
export function verdictToJson(v: SnpVerdict): Record<string, unknown> {
  return {
    tee: v.tee,
    accepted: v.accepted,
    releasable: v.releasable,
    driftClass: v.driftClass,
    driftReason: v.driftReason,
    release: v.release ?? null,
    failures: v.failures,
    warnings: v.warnings,
    claims: v.claims ?? null,
    evidence: v.evidence ? evidenceToJson(v.evidence) : null,
  };
}
