/**
 * The simulated TDX platform: its quotes have Intel's exact layout (the real parser reads back every field), verify
 * with the real verifier under the simulated root and its collateral (UpToDate), are refused under Intel's pinned
 * root, and appraise to the right drift classes (a matching TD, a debug TD, another MRTD, a revoked PCK).
 */
import { describe, expect, it } from "vitest";
import { appraiseTdxQuote, parseTdxPolicy, parseTdxQuote, verifyTdxQuote } from "../../runtime/attestation/index.js";
import {
  createSimulatedTdxPki,
  newAttestationKey,
  SIMULATED_TDX_FACTS,
  simulatedCollateral,
  simulatedTdxQuote,
} from "../../runtime/simulators/index.js";

const now = new Date("2026-12-01T00:00:00Z");
const f = SIMULATED_TDX_FACTS;
const pki = createSimulatedTdxPki(f, now);
const key = newAttestationKey();
const MRTD = "a1".repeat(48);
const reportData = Buffer.alloc(64, 0x42);
const collateral = simulatedCollateral(pki, f, now);
const roots = [pki.rootSha256];
const policy = parseTdxPolicy({ mrTd: [MRTD] });

describe("simulated TDX quotes", () => {
  it.each([4, 5] as const)("v%i: the real parser reads back every field", (version) => {
    const rtmrs = ["01", "02", "03", "04"].map((b) => b.repeat(48)) as [string, string, string, string];
    const q = parseTdxQuote(
      simulatedTdxQuote(pki, f, key, { mrTd: MRTD, rtmrs, reportData, mrConfigId: "cc".repeat(48), version }),
    );
    expect([q.version, q.bodyType, q.body.mrTd.toString("hex"), q.body.rtmrs.map((r) => r.toString("hex"))]).toEqual([
      version,
      version === 5 ? "td15" : "td10",
      MRTD,
      rtmrs,
    ]);
    expect([q.body.reportData.equals(reportData), q.body.mrConfigId.toString("hex"), q.extraBytes]).toEqual([
      true,
      "cc".repeat(48),
      0,
    ]);
  });

  it("verifies with the real verifier under the simulated root, with collateral: UpToDate, CRLs checked", () => {
    const v = verifyTdxQuote({
      quote: simulatedTdxQuote(pki, f, key, { mrTd: MRTD, reportData }),
      now,
      roots,
      collateral,
    });
    expect([v.pck.fmspc.toString("hex"), v.collateral?.tcb.status, v.collateral?.revocationChecked]).toEqual([
      f.fmspc,
      "UpToDate",
      true,
    ]);
  });

  it("is refused where only Intel's root is pinned (UNTRUSTED_ROOT)", () => {
    expect(() => verifyTdxQuote({ quote: simulatedTdxQuote(pki, f, key, { mrTd: MRTD, reportData }), now })).toThrow(
      expect.objectContaining({ code: "UNTRUSTED_ROOT" }),
    );
  });

  it.each([
    ["a matching TD", { mrTd: MRTD, reportData }, collateral, "ok"],
    ["a debug TD", { mrTd: MRTD, reportData, tdAttributes: (1n << 28n) | 1n }, collateral, "invalid-evidence"],
    ["another MRTD", { mrTd: "b2".repeat(48), reportData }, collateral, "unknown-measurement"],
    [
      "another REPORT_DATA (not the broker's nonce binding)",
      { mrTd: MRTD, reportData: Buffer.alloc(64, 1) },
      collateral,
      "invalid-evidence",
    ],
    [
      "a revoked PCK certificate",
      { mrTd: MRTD, reportData },
      simulatedCollateral(pki, f, now, [parseTdxQuoteSerial()]),
      "invalid-evidence",
    ],
  ] as const)("appraisal of %s -> %s", (_, td, c, driftClass) => {
    const v = appraiseTdxQuote({
      quote: simulatedTdxQuote(pki, f, key, td),
      now,
      roots,
      collateral: c,
      policy,
      expectedReportData: reportData,
    });
    expect([v.driftClass, v.releasable]).toEqual([driftClass, driftClass === "ok"]);
  });
});

function parseTdxQuoteSerial(): bigint {
  return verifyTdxQuote({ quote: simulatedTdxQuote(pki, f, key, { mrTd: MRTD, reportData }), now, roots }).chain.leaf
    .serial;
}
