/**
 * TDX policy and appraisal: measurements, debug, module, XFAM, TEE_TCB_SVN, REPORT_DATA, collateral TCB status,
 * mapped onto the SNP drift classes (one runbook table), on Trustee's real quote 4 with its real 2023 collateral.
 */
import { describe, expect, it } from "vitest";
import {
  appraiseTdxQuote,
  parseTdxPolicy,
  parseTdxQuote,
  type TdxCollateral,
} from "../../runtime/attestation/index.js";
import { tdxVector, quote4Collateral } from "../helpers/tdx-vectors.js";

const quote = tdxVector("quotes/v4-trustee-tdx_quote_4.bin");
const body = parseTdxQuote(quote).body;
const now = new Date("2023-07-01T01:00:00Z");
const collateral: TdxCollateral = quote4Collateral();
const MRTD = body.mrTd.toString("hex");
const base = { mrTd: [MRTD], allowDebug: true };
const appraise = (policy: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  appraiseTdxQuote({ quote, now, collateral, policy: parseTdxPolicy(policy), ...extra });
const summary = (v: ReturnType<typeof appraise>) => ({
  accepted: v.accepted,
  releasable: v.releasable,
  driftClass: v.driftClass,
  codes: v.failures.map((f) => `${f.code} ${f.path}`),
});

describe("TDX appraisal (policy + drift class)", () => {
  it("accepts the quote when its MRTD is allowed, its TCB is UpToDate and debug is allowed", () => {
    expect(summary(appraise(base))).toEqual({ accepted: true, releasable: true, driftClass: "ok", codes: [] });
  });

  it.each([
    [
      "a debug TD under the default policy",
      { mrTd: [MRTD] },
      {},
      "invalid-evidence",
      ["DEBUG_ALLOWED quote.body.tdAttributes.debug"],
    ],
    [
      "another MRTD",
      { ...base, mrTd: ["00".repeat(48)] },
      {},
      "unknown-measurement",
      ["MEASUREMENT_NOT_ALLOWED quote.body.mrTd"],
    ],
    [
      "an RTMR1 not in the list",
      { ...base, rtmrs: { "1": ["11".repeat(48)] } },
      {},
      "unknown-measurement",
      ["MEASUREMENT_NOT_ALLOWED quote.body.rtmr1"],
    ],
    [
      "a TCB status the policy does not accept",
      { ...base, tcbStatuses: ["SWHardeningNeeded"] },
      {},
      "tcb-below-floor",
      ["TCB_BELOW_FLOOR collateral.tcb.status"],
    ],
    [
      "TEE_TCB_SVN below the minimum",
      { ...base, minTeeTcbSvn: "04".repeat(16) },
      {},
      "tcb-below-floor",
      ["TCB_BELOW_FLOOR quote.body.teeTcbSvn[0]"],
    ],
    [
      "MRCONFIGID not the initdata digest",
      { ...base, mrConfigId: ["ab".repeat(48)] },
      {},
      "invalid-evidence",
      ["HOST_DATA_MISMATCH quote.body.mrConfigId"],
    ],
    [
      "another TDX module",
      { ...base, mrSeam: ["cd".repeat(48)] },
      {},
      "invalid-evidence",
      ["FIELD_MISMATCH quote.body.mrSeam"],
    ],
    [
      "another XFAM",
      { ...base, xfam: ["0300000000000000"] },
      {},
      "invalid-evidence",
      ["FIELD_MISMATCH quote.body.xfam"],
    ],
    [
      "a REPORT_DATA that is not the broker's binding",
      base,
      { expectedReportData: Buffer.alloc(64, 7) },
      "invalid-evidence",
      ["REPORT_DATA_MISMATCH quote.body.reportData"],
    ],
    [
      "no collateral when the policy requires it",
      base,
      { collateral: undefined },
      "invalid-evidence",
      ["COLLATERAL_UNAVAILABLE collateral"],
    ],
  ] as const)("%s -> %s", (_, policy, extra, driftClass, codes) => {
    expect(summary(appraise(policy, extra))).toEqual({ accepted: false, releasable: false, driftClass, codes });
  });

  it("without collateral and requireCollateral false: accepted with a warning", () => {
    const v = appraise({ ...base, requireCollateral: false }, { collateral: undefined });
    expect([v.accepted, v.warnings]).toEqual([true, ["no collateral: the TCB level was not checked"]]);
  });

  it("a forged quote is invalid-evidence with the verifier's code", () => {
    const forged = Buffer.from(quote);
    forged[0x30 + 136] = (forged[0x30 + 136] as number) ^ 1;
    const v = appraiseTdxQuote({ quote: forged, now, collateral, policy: parseTdxPolicy(base) });
    expect([v.driftClass, v.failures[0]?.code, v.evidence]).toEqual(["invalid-evidence", "QUOTE_SIGNATURE", undefined]);
  });

  it("refuses a policy document with every problem listed (POLICY_INVALID)", () => {
    try {
      parseTdxPolicy({ mrTd: [], allowDebug: "no", rtmrs: { "4": [] }, extra: 1 });
      throw new Error("accepted");
    } catch (e) {
      expect((e as { code: string }).code).toBe("POLICY_INVALID");
      expect((e as { problems: Array<{ path: string }> }).problems.map((p) => p.path).sort()).toEqual([
        "policy.allowDebug",
        "policy.extra",
        "policy.mrTd",
        "policy.rtmrs.4",
      ]);
    }
  });
});
