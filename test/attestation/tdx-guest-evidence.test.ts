/**
 * The guest side of TDX evidence: a quote through configfs-tsm (provider `tdx_guest`; a fake kernel tree answering
 * with a simulated platform's byte-exact quote for the written REPORTDATA), and Trustee's TDX evidence JSON
 * (`{ cc_eventlog?, quote }`, standard base64) both ways, with the real quotes.
 */
import { describe, expect, it } from "vitest";
import { configfsTsmTdxQuote, type TsmFs } from "../../runtime/attester/evidence/configfs-tsm.js";
import { tdxQuoteFromTrusteeJson, trusteeTdxEvidenceJson } from "../../runtime/kbs-protocol/index.js";
import { verifyTdxQuote } from "../../runtime/attestation/index.js";
import {
  createSimulatedTdxPki,
  newAttestationKey,
  SIMULATED_TDX_FACTS,
  simulatedTdxQuote,
} from "../../runtime/simulators/index.js";
import { tdxVector } from "../helpers/tdx-vectors.js";

const now = new Date("2026-12-01T00:00:00Z");
const pki = createSimulatedTdxPki(SIMULATED_TDX_FACTS, now);
const key = newAttestationKey();

/** A configfs-tsm tree in memory: `provider`, `generation`, and an outblob made from the written inblob. */
function fakeTsm(o: { provider?: string; outblob?: (inblob: Buffer) => Buffer; bumpGeneration?: boolean } = {}) {
  const files = new Map<string, Buffer>();
  let generation = 1;
  const log: string[] = [];
  const fs: TsmFs = {
    mkdir: async (p) =>
      log.push(
        `mkdir ${p
          .split("/")
          .pop()!
          .replace(/-\d+-[0-9a-f]+$/, "-*")}`,
      ),
    rmdir: async () => void log.push("rmdir"),
    writeFile: async (p, d) => {
      files.set(p.split("/").pop()!, Buffer.from(d));
      log.push(`write ${p.split("/").pop()}`);
    },
    readFile: async (p) => {
      const name = p.split("/").pop()!;
      if (name === "provider") return Buffer.from(`${o.provider ?? "tdx_guest"}\n`);
      if (name === "generation") return Buffer.from(`${o.bumpGeneration ? generation++ : generation}\n`);
      if (name === "outblob")
        return (
          o.outblob ??
          ((rd) => simulatedTdxQuote(pki, SIMULATED_TDX_FACTS, key, { mrTd: "a1".repeat(48), reportData: rd }))
        )(files.get("inblob")!);
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    },
  };
  return { fs, log };
}

const reportData = Buffer.alloc(64, 0x5c);

describe("TDX quotes through configfs-tsm", () => {
  it("writes REPORTDATA, returns the quote that carries it (it verifies under the simulated root), removes the entry", async () => {
    const t = fakeTsm();
    const quote = await configfsTsmTdxQuote({ root: "/tsm", fs: t.fs }).getQuote(reportData);
    expect(t.log).toEqual(["mkdir confidential-inference-*", "write inblob", "rmdir"]);
    const v = verifyTdxQuote({ quote, now, roots: [pki.rootSha256] });
    expect(v.quote.body.reportData.equals(reportData)).toBe(true);
  });

  it.each([
    ["another provider (an SEV guest)", { provider: "sev_guest" }, "EVIDENCE_UNAVAILABLE"],
    ["the entry changing while read", { bumpGeneration: true }, "EVIDENCE_UNAVAILABLE"],
    ["an outblob that is not a quote", { outblob: () => Buffer.from("not a quote") }, "EVIDENCE_MALFORMED"],
    [
      "a quote for other REPORTDATA",
      { outblob: () => tdxVector("quotes/v4-trustee-tdx_quote_4.bin") },
      "EVIDENCE_MALFORMED",
    ],
  ] as const)("refuses %s (%s)", async (_, o, code) => {
    const t = fakeTsm(o);
    await expect(configfsTsmTdxQuote({ root: "/tsm", fs: t.fs }).getQuote(reportData)).rejects.toMatchObject({ code });
    expect(t.log.at(-1)).toBe("rmdir");
  });
});

describe("Trustee's TDX evidence JSON", () => {
  const quote = tdxVector("quotes/v4-azure-td-quote-trustee.bin");

  it("encodes as Trustee's attester does and decodes back to the same bytes", () => {
    const json = trusteeTdxEvidenceJson(quote, Buffer.from("ccel"));
    expect(Object.keys(json)).toEqual(["cc_eventlog", "quote"]);
    expect(json.quote.slice(0, 12)).toBe(quote.subarray(0, 9).toString("base64"));
    const text = JSON.stringify(json); // what travels in tee-evidence.primary_evidence
    const r = tdxQuoteFromTrusteeJson(JSON.parse(text), "tee-evidence.primary_evidence");
    expect(r.ok && [r.quote.equals(quote), r.ccEventLog?.toString()]).toEqual([true, "ccel"]);
    expect(Object.keys(trusteeTdxEvidenceJson(quote))).toEqual(["quote"]);
  });

  it("reports every bad field with its path", () => {
    const r = tdxQuoteFromTrusteeJson({ quote: "not base64!", cc_eventlog: 7, extra: 1 }, "e");
    expect(r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "e.extra: unknown field",
      "e.quote: must be standard base64",
      "e.cc_eventlog: must be standard base64",
    ]);
    expect(tdxQuoteFromTrusteeJson({}, "e")).toEqual({
      ok: false,
      problems: [{ path: "e.quote", message: "is required" }],
    });
    expect(tdxQuoteFromTrusteeJson("x", "e")).toEqual({
      ok: false,
      problems: [{ path: "e", message: "must be an object" }],
    });
  });
});
