/** `attestctl verify tdx`: real quotes accepted at their time, tampered and expired ones rejected with exact codes. */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, spawnCli } from "../helpers/cli.js";
import { TDX_VECTORS } from "../helpers/tdx-vectors.js";

const Q4 = join(TDX_VECTORS, "quotes/v4-trustee-tdx_quote_4.bin");
const Q5 = join(TDX_VECTORS, "quotes/v5-tdx15-trustee-tdx_quote_5.bin");

describe("attestctl verify tdx", () => {
  it("accepts a real v4 quote and prints its measurements (a debug TD is shown as such)", async () => {
    const r = await runCli(["verify", "tdx", "--quote", Q4, "--at", "2023-07-01T01:00:00Z"]);
    const lines = r.stdout.split("\n");
    expect([r.code, lines[0], lines[1], lines[7]]).toEqual([
      0,
      "accepted: TDX quote v4 (TD 1.0 body), PCK chain (platform CA) to the Intel SGX Root CA, FMSPC 50806f000000; authenticity and structure only (no --collateral)",
      "mrtd: 705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031",
      "td attributes: 0x10000001 DEBUG SEPT_VE_DISABLE  xfam: 0x642e7",
    ]);
  });

  it("--json: a v5 / TD 1.5 quote's claims, without its report data", async () => {
    const r = await runCli(["verify", "tdx", "--quote", Q5, "--at", "2026-02-03T01:00:00Z", "--json"]);
    const j = JSON.parse(r.stdout);
    expect([r.code, j.tee, j.accepted, j.quote.version, j.quote.bodyType, j.pck.fmspc, j.pck.pceSvn]).toEqual([
      0,
      "tdx",
      true,
      5,
      "td15",
      "90c06f000000",
      13,
    ]);
    expect(j.quote.tdAttributes).toEqual({
      raw: "0000001000000000",
      debug: false,
      septVeDisable: true,
      pks: false,
      kl: false,
      perfmon: false,
    });
    expect(r.stdout).not.toContain("reportData");
  });

  it("rejects a changed body byte (exit 1, QUOTE_SIGNATURE) and an expired chain (CERTIFICATE_EXPIRED), as a process", () => {
    const d = mkdtempSync(join(tmpdir(), "ci-verify-tdx-"));
    const bad = Buffer.from(readFileSync(Q4));
    bad[0x3c] = 0x32;
    writeFileSync(join(d, "bad.bin"), bad);
    const tampered = spawnCli(["verify", "tdx", "--quote", join(d, "bad.bin"), "--at", "2023-07-01T01:00:00Z"]);
    const expired = spawnCli(["verify", "tdx", "--quote", Q4, "--at", "2031-01-01T00:00:00Z", "--json"]);
    expect([tampered.code, tampered.stderr.split("\n")[0]]).toEqual([
      1,
      "rejected: QUOTE_SIGNATURE: verifying the TDX quote: the quote signature does not verify with the attestation key",
    ]);
    expect([expired.code, JSON.parse(expired.stdout).failures[0].code]).toEqual([1, "CERTIFICATE_EXPIRED"]);
  });

  it("--collateral DIR: verifies Intel's collateral and prints the TCB level; a missing file is COLLATERAL_UNAVAILABLE", async () => {
    const d = mkdtempSync(join(tmpdir(), "ci-verify-tdx-collateral-"));
    const put = (from: string, to: string) => copyFileSync(join(TDX_VECTORS, from), join(d, to));
    put("collateral/tcbinfo-tdx-fmspc-50806f000000-issued-2023-06-18.json", "tcbinfo-50806f000000.json");
    const missing = await runCli(["verify", "tdx", "--quote", Q4, "--collateral", d, "--at", "2023-07-01T01:00:00Z"]);
    expect([missing.code, missing.stderr.split(":")[1]]).toEqual([1, " COLLATERAL_UNAVAILABLE"]);
    put("collateral/qe-identity-td_qe-issued-2023-06-08.json", "qe-identity.json");
    put("certs/intel-sgx-tcb-signing-chain-2018.pem", "tcb-signing-chain.pem");
    put("collateral/pck-crl-platform-ca-2023-06-08.der", "pck-crl-platform.der");
    put("collateral/root-ca-crl-2023-04-03.der", "root-ca-crl.der");
    const r = await runCli(["verify", "tdx", "--quote", Q4, "--collateral", d, "--at", "2023-07-01T01:00:00Z"]);
    expect([r.code, ...r.stdout.split("\n").slice(0, 3)]).toEqual([
      0,
      "accepted: TDX quote v4 (TD 1.0 body), PCK chain (platform CA) to the Intel SGX Root CA, FMSPC 50806f000000; collateral verified",
      "tcb: UpToDate (platform UpToDate 2023-02-15, QE UpToDate; TCB evaluation data number 15; CRLs checked)",
      "advisories: none",
    ]);
    const late = await runCli([
      "verify",
      "tdx",
      "--quote",
      Q4,
      "--collateral",
      d,
      "--at",
      "2023-07-20T00:00:00Z",
      "--json",
    ]);
    expect([late.code, JSON.parse(late.stdout).failures[0].code]).toEqual([1, "COLLATERAL_EXPIRED"]);
  });
});

describe("attestctl verify tdx --policy", () => {
  it("prints the drift class: ok for an allowed MRTD, unknown-measurement otherwise (exit 1)", async () => {
    const d = mkdtempSync(join(tmpdir(), "ci-verify-tdx-policy-"));
    const mrTd = "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031";
    writeFileSync(join(d, "ok.json"), JSON.stringify({ mrTd: [mrTd], allowDebug: true, requireCollateral: false }));
    writeFileSync(
      join(d, "other.json"),
      JSON.stringify({ mrTd: ["00".repeat(48)], allowDebug: true, requireCollateral: false }),
    );
    writeFileSync(join(d, "bad.json"), JSON.stringify({ mrTd: "x" }));
    const at = ["--at", "2023-07-01T01:00:00Z"];
    const ok = await runCli(["verify", "tdx", "--quote", Q4, "--policy", join(d, "ok.json"), ...at]);
    expect([ok.code, ok.stdout.split("\n")[1], ok.stdout.split("\n").at(-2)]).toEqual([
      0,
      "drift class: ok (authentic, and every measurement and the TCB level are allowed)",
      "warning: no collateral: the TCB level was not checked",
    ]);
    const other = await runCli(["verify", "tdx", "--quote", Q4, "--policy", join(d, "other.json"), ...at]);
    expect([other.code, other.stderr.split("\n")[0], other.stderr.split("\n")[1]]).toEqual([
      1,
      `rejected: MEASUREMENT_NOT_ALLOWED: MRTD ${mrTd} is not allowed`,
      "drift class: unknown-measurement (MRTD or an RTMR is not an allowed value)",
    ]);
    const bad = await runCli(["verify", "tdx", "--quote", Q4, "--policy", join(d, "bad.json")]);
    expect([bad.code, bad.stderr.split("\n")[0]]).toEqual([
      2,
      `attestctl verify: --policy ${join(d, "bad.json")}: invalid TDX policy (1 problem):`,
    ]);
  });
});

describe("attestctl verify tdx: collateral sources", () => {
  it.each([
    [["--pcs", "ftp://pcs"], 'attestctl verify: --pcs "ftp://pcs" is not an http(s) URL'],
    [
      ["--pcs", "https://pcs", "--collateral", "/tmp"],
      "attestctl verify: --collateral and --pcs are alternatives: give one",
    ],
  ])("%j -> usage error", async (extra, message) => {
    const r = await runCli(["verify", "tdx", "--quote", Q4, ...extra]);
    expect([r.code, r.stderr.split("\n")[0]]).toEqual([2, message]);
  });

  it("--pcs: an unreachable PCS is COLLATERAL_UNAVAILABLE (exit 1)", async () => {
    const r = await runCli([
      "verify",
      "tdx",
      "--quote",
      Q4,
      "--pcs",
      "http://127.0.0.1:9",
      "--at",
      "2023-07-01T01:00:00Z",
    ]);
    expect([r.code, r.stderr.split(":")[1]]).toEqual([1, " COLLATERAL_UNAVAILABLE"]);
  });
});
