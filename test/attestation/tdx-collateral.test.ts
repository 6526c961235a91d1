/**
 * TDX collateral (Intel PCS): signatures over the exact bytes, validity windows, CRLs, and the TCB level with Intel's
 * convergence, checked against the facts an independent verifier derived for the real quotes.
 */
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  evaluateTdxTcb,
  INTEL_SGX_ROOT_CA_SHA256,
  parseTdQeIdentity,
  parseTdxQuote,
  parseTdxTcbInfo,
  readTdxCollateralDir,
  type TdxCollateral,
  verifyPckChain,
  verifyTdxQuote,
} from "../../runtime/attestation/index.js";
import { memberSpan } from "../../runtime/attestation/tdx/collateral.js";
import { TDX_VECTORS, tdxVector, quote4Collateral } from "../helpers/tdx-vectors.js";

const Q4 = tdxVector("quotes/v4-trustee-tdx_quote_4.bin");
const AT = new Date("2023-07-01T01:00:00Z");
const FULL: TdxCollateral = quote4Collateral();

/** The pure evaluation of a quote against (unverified) collateral files. */
function evaluate(quote: string, tcbInfo: string, qeIdentity: string) {
  const q = parseTdxQuote(tdxVector(quote));
  const chain = verifyPckChain(q.pckChainPem, new Set([INTEL_SGX_ROOT_CA_SHA256]));
  return evaluateTdxTcb(
    q,
    chain.extensions,
    parseTdxTcbInfo(tdxVector(tcbInfo)).info,
    parseTdQeIdentity(tdxVector(qeIdentity)).identity,
  );
}

describe("TDX collateral: end to end with every piece (Trustee's quote 4, 2023 collateral)", () => {
  it("verifies TCB info, QE identity, both CRLs and evaluates UpToDate", () => {
    const v = verifyTdxQuote({ quote: Q4, now: AT, collateral: FULL });
    expect(v.collateral).toEqual({
      tcb: {
        status: "UpToDate",
        platform: { status: "UpToDate", date: "2023-02-15T00:00:00.000Z", advisoryIds: [] },
        qe: { status: "UpToDate", date: "2023-02-15T00:00:00.000Z", advisoryIds: [] },
        advisoryIds: [],
        tcbEvaluationDataNumber: 15,
      },
      revocationChecked: true,
      tcbInfoIssueDate: new Date("2023-06-18T08:42:58Z"),
    });
  });

  it("signs the exact bytes of the inner value (no re-serialisation)", () => {
    const text = FULL.tcbInfo.toString();
    const [a, b] = memberSpan(text, "tcbInfo")!;
    expect([text.slice(0, a), text.slice(b, b + 14)]).toEqual(['{"tcbInfo":', ',"signature":"']);
    const spaced = Buffer.from(text.replace('"version":3', '"version": 3'));
    expect(() => verifyTdxQuote({ quote: Q4, now: AT, collateral: { ...FULL, tcbInfo: spaced } })).toThrow(
      expect.objectContaining({ code: "COLLATERAL_INVALID", path: "collateral.tcbInfo" }),
    );
  });

  const change = (b: Uint8Array, from: string, to: string) => Buffer.from(Buffer.from(b).toString().replace(from, to));
  it.each([
    [
      "a TCB level's SVN changed",
      { tcbInfo: change(FULL.tcbInfo, '"pcesvn":11', '"pcesvn":10') },
      AT,
      "COLLATERAL_INVALID",
    ],
    [
      "the QE identity's ISVSVN changed",
      { qeIdentity: change(FULL.qeIdentity, '"isvsvn":4', '"isvsvn":3') },
      AT,
      "COLLATERAL_INVALID",
    ],
    ["TCB info that is not JSON", { tcbInfo: Buffer.from("<html>") }, AT, "COLLATERAL_INVALID"],
    ["the QE identity given as TCB info", { tcbInfo: FULL.qeIdentity }, AT, "COLLATERAL_INVALID"],
    [
      "the PCK chain given as the TCB Signing chain",
      { tcbSigningChain: parseTdxQuote(Q4).pckChainPem },
      AT,
      "COLLATERAL_INVALID",
    ],
    ["after the TCB info's nextUpdate", {}, new Date("2023-07-19T00:00:00Z"), "COLLATERAL_EXPIRED"],
    ["before the TCB info's issueDate", {}, new Date("2023-06-10T00:00:00Z"), "COLLATERAL_EXPIRED"],
    ["the PCK CRL given as the root CRL", { rootCrl: FULL.pckCrl }, AT, "CRL_INVALID"],
    ["a root CRL byte changed", { rootCrl: Buffer.from(FULL.rootCrl!).fill(0x41, 60, 61) }, AT, "CRL_INVALID"],
    ["the TCB Signing certificate expired (2025-05-21)", {}, new Date("2025-06-01T00:00:00Z"), "CERTIFICATE_EXPIRED"],
  ] as const)("%s -> %s", (_, patch, now, code) => {
    expect(() => verifyTdxQuote({ quote: Q4, now, collateral: { ...FULL, ...patch } })).toThrow(
      expect.objectContaining({ code }),
    );
  });
});

describe("TDX TCB levels of the real quotes (the manifest's facts)", () => {
  it("quote 6: platform OutOfDate (PCESVN 11 < 13), TDX_03 module UpToDate, converged OutOfDate as Intel's QVL does", () => {
    const t = evaluate(
      "quotes/v4-trustee-tdx_quote_6-zero-padded.bin",
      "collateral/tcbinfo-tdx-fmspc-00a06d080000-issued-2025-10-27.json",
      "collateral/qe-identity-td_qe-issued-2025-10-28.json",
    );
    expect([t.status, t.platform.status, t.platform.date, t.module, t.qe.status]).toEqual([
      "OutOfDate",
      "OutOfDate",
      "2018-01-04T00:00:00.000Z",
      { id: "TDX_03", status: "UpToDate", date: "2024-03-13T00:00:00.000Z", advisoryIds: [] },
      "UpToDate",
    ]);
  });

  it("go-tdx-guest's v5 sample: UpToDate with module TDX_01", () => {
    const t = evaluate(
      "quotes/v5-tdx15-go-tdx-guest-sample.bin",
      "collateral/tcbinfo-tdx-fmspc-90c06f000000-issued-2026-02-01.json",
      "collateral/qe-identity-td_qe-issued-2025-10-28.json",
    );
    expect([t.status, t.platform.date, t.module?.id, t.module?.status]).toEqual([
      "UpToDate",
      "2024-11-13T00:00:00.000Z",
      "TDX_01",
      "UpToDate",
    ]);
  });

  it.each([
    ["quotes/v5-tdx15-trustee-tdx_quote_5.bin", "collateral/tcbinfo-tdx-fmspc-90c06f000000-issued-2026-02-01.json"],
    [
      "quotes/v4-spr-e4-go-tdx-guest-plus-39-trailing-bytes.bin",
      "collateral/tcbinfo-tdx-fmspc-50806f000000-issued-2023-06-18.json",
    ],
  ])("%s matches no TCB level (TCB_LEVEL_UNKNOWN, as go-tdx-guest)", (quote, tcbInfo) => {
    expect(() => evaluate(quote, tcbInfo, "collateral/qe-identity-td_qe-issued-2023-06-08.json")).toThrow(
      expect.objectContaining({ code: "TCB_LEVEL_UNKNOWN" }),
    );
  });

  it("collateral for another platform is COLLATERAL_MISMATCH naming the FMSPC", () => {
    expect(() =>
      evaluate(
        "quotes/v4-trustee-tdx_quote_4.bin",
        "collateral/tcbinfo-tdx-fmspc-90c06f000000-issued-2026-02-01.json",
        "collateral/qe-identity-td_qe-issued-2023-06-08.json",
      ),
    ).toThrow(expect.objectContaining({ code: "COLLATERAL_MISMATCH", path: "collateral.tcbInfo.fmspc" }));
  });
});

describe("TDX collateral directory", () => {
  it("reads the layout by FMSPC and CA; a missing file is COLLATERAL_UNAVAILABLE", () => {
    const d = mkdtempSync(join(tmpdir(), "ci-tdx-collateral-"));
    copyFileSync(
      join(TDX_VECTORS, "collateral/tcbinfo-tdx-fmspc-50806f000000-issued-2023-06-18.json"),
      join(d, "tcbinfo-50806f000000.json"),
    );
    expect(() => readTdxCollateralDir(d, "50806F000000", "platform")).toThrow(
      expect.objectContaining({ code: "COLLATERAL_UNAVAILABLE", path: "collateral.qe-identity.json" }),
    );
    copyFileSync(join(TDX_VECTORS, "collateral/qe-identity-td_qe-issued-2023-06-08.json"), join(d, "qe-identity.json"));
    copyFileSync(join(TDX_VECTORS, "certs/intel-sgx-tcb-signing-chain-2018.pem"), join(d, "tcb-signing-chain.pem"));
    const c = readTdxCollateralDir(d, "50806F000000", "platform");
    expect([c.pckCrl, c.rootCrl]).toEqual([undefined, undefined]);
    expect(verifyTdxQuote({ quote: Q4, now: AT, collateral: c }).collateral?.revocationChecked).toBe(false);
  });
});
