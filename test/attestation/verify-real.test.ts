import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SnpProduct } from "../../runtime/attestation/abi/product.js";
import { parseReport } from "../../runtime/attestation/abi/report.js";
import { tcbComponents } from "../../runtime/attestation/abi/tcb.js";
import { ChainCache } from "../../runtime/attestation/verify/chain.js";
import { cachedGetter, kdsVcekPath } from "../../runtime/attestation/verify/collateral.js";
import { directoryGetter, kdsPathToFile } from "../../runtime/attestation/verify/collateral-dir.js";
import { amdTrustAnchors } from "../../runtime/attestation/verify/trust.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { REPORT_ENTRIES, VERIFIABLE, vector } from "../helpers/snp-vectors.js";

const anchors = amdTrustAnchors();

/** An offline KDS directory holding every real VCEK at the path its report's KDS URL names. */
function offlineKds(): string {
  const dir = mkdtempSync(join(tmpdir(), "kds-"));
  for (const e of VERIFIABLE) {
    const url = e.verification?.kds_vcek_url_from_report;
    if (!url || !e.file.includes("vcek")) continue;
    const file = join(dir, kdsPathToFile(new URL(url).pathname + new URL(url).search));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, vector(e.verification?.signing_key_cert as string));
  }
  return dir;
}

describe("verifySnpEvidence on the real reports", () => {
  const cache = new ChainCache();

  it("covers 19 verifiable reports", () => {
    expect(VERIFIABLE.length).toBe(19);
  });

  it.each(VERIFIABLE.map((e) => [e.file, e] as const))(
    "%s is accepted at its valid_at with matching facts",
    async (_f, e) => {
      const v = e.verification!;
      const got = await verifySnpEvidence({
        report: vector(e.file),
        collateral: { vek: vector(v.signing_key_cert!) },
        anchors,
        now: new Date(v.valid_at!),
        cache,
      });
      const f = e.facts;
      expect(got.product).toBe(
        v.chain!.ark.replace(/^amd-roots\/ark-(\w+)\.pem$/, (_m, p: string) => p[0]!.toUpperCase() + p.slice(1)),
      );
      expect(got.rootId).toBe(`amd-${got.product.toLowerCase()}`);
      expect(got.signer).toBe(f.key_info.signing_key.toLowerCase());
      expect(got.vek.productName).toBe(v.vek_product_name);
      expect(got.chipIdBound).toBe(v.chip_id_equals_vcek_hwid === true);
      expect(got.claims).toEqual({
        tee: "sev-snp",
        measurement: f.measurement,
        product: got.product,
        reportedTcb: {
          bootloader: f.reported_tcb.bootloader,
          tee: f.reported_tcb.tee,
          snp: f.reported_tcb.snp,
          microcode: f.reported_tcb.microcode,
          ...(got.product === "Turin" ? { fmc: f.reported_tcb.fmc } : {}),
        },
        chipId: got.chipIdBound ? f.chip_id : "0".repeat(128),
      });
      expect(got.reportSha256).toBe(f.sha256);
      expect(got.revocationChecked).toBe(false);
    },
  );

  it.each(VERIFIABLE.filter((e) => e.file.includes("vcek")).map((e) => [e.file, e] as const))(
    "%s: the KDS path rebuilt from the report equals the manifest's URL",
    (_f, e) => {
      const product = e.verification!.chain!.ark.includes("milan")
        ? "Milan"
        : e.verification!.chain!.ark.includes("genoa")
          ? "Genoa"
          : "Turin";
      const r = parseReport(vector(e.file), { product });
      expect(
        `https://kdsintf.amd.com${kdsVcekPath(product as SnpProduct, r.chipId, tcbComponents(r.reportedTcb))}`,
      ).toBe(e.verification!.kds_vcek_url_from_report);
    },
  );

  it("accepts every VCEK-signed report with the VCEK fetched from an offline KDS directory", async () => {
    const getter = cachedGetter(directoryGetter(offlineKds()));
    for (const e of VERIFIABLE.filter((x) => x.file.includes("vcek"))) {
      const product = e.facts.product_line_assumed_for_tcb as SnpProduct;
      const got = await verifySnpEvidence({
        report: vector(e.file),
        getter,
        anchors,
        product,
        now: new Date(e.verification!.valid_at!),
      });
      expect(got.claims.measurement).toBe(e.facts.measurement);
    }
  });

  it("refuses the report without a published VCEK with COLLATERAL_UNAVAILABLE", async () => {
    const entry = REPORT_ENTRIES.find((e) => e.file.includes("no-vcek"))!;
    const run = verifySnpEvidence({
      report: vector(entry.file),
      getter: directoryGetter(offlineKds()),
      anchors,
      product: "Genoa",
      now: new Date("2026-01-01T00:00:00Z"),
    });
    await expect(run).rejects.toMatchObject({ code: "COLLATERAL_UNAVAILABLE", path: "collateral" });
  });
});
