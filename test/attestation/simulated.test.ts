import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collateralFromCertTable } from "../../runtime/attestation/abi/certtable.js";
import { parseReport } from "../../runtime/attestation/abi/report.js";
import { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import { SIMULATED_PRODUCT_NAME } from "../../runtime/simulators/snp/certs.js";
import { SIMULATED_DEFAULT_TCB } from "../../runtime/simulators/snp/report.js";
import { amdTrustAnchors, anchorsFor } from "../../runtime/attestation/verify/trust.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { measurement, reportData, validAt } from "../helpers/simulated-evidence.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";
import { requireTool } from "../helpers/system-tools.js";

describe("simulated SNP signer", () => {
  it.each(["Milan", "Genoa", "Turin"] as const)(
    "%s: signs byte-exact reports the real verifier accepts with the simulated anchor",
    async (product) => {
      const sim = await sharedSimulatedSnp(product);
      const ev = await sim.sign({
        measurement,
        reportData,
        policy: { smt: true },
        vmpl: 0,
        hostData: "77".repeat(32),
        guestSvn: 3,
      });
      expect(ev.report.length).toBe(1184);
      const got = await verifySnpEvidence({
        report: ev.report,
        collateral: ev.collateral,
        anchors: [sim.anchor()],
        now: validAt(ev),
      });
      expect(got.rootId).toBe("simulated");
      expect(got.product).toBe(product);
      expect(got.vek.productName).toBe(SIMULATED_PRODUCT_NAME[product]);
      expect(got.claims).toEqual({
        tee: "sev-snp",
        measurement,
        product,
        reportedTcb: SIMULATED_DEFAULT_TCB[product],
        chipId: sim.chipId.toString("hex"),
      });
      const r = got.report;
      expect([
        r.version,
        r.guestSvn,
        r.vmpl,
        r.policy.raw,
        r.hostData.toString("hex"),
        r.reportData.equals(reportData),
      ]).toEqual([5, 3, 0, 0x30000n, "77".repeat(32), true]);
      expect(r.reportIdMa.toString("hex")).toBe("ff".repeat(32));
    },
  );

  it("produces every field it is given, parsed back exactly", async () => {
    const sim = await sharedSimulatedSnp("Milan");
    const tcb = { bootloader: 3, tee: 1, snp: 20, microcode: 200 };
    const ev = await sim.sign({
      measurement,
      reportData: "ab".repeat(32),
      policy: { smt: false, singleSocket: true, abiMajor: 1, abiMinor: 51 },
      vmpl: 2,
      reportedTcb: tcb,
      currentTcb: { ...tcb, snp: 21 },
      committedTcb: tcb,
      launchTcb: { ...tcb, microcode: 199 },
      idKeyDigest: "01".repeat(48),
      authorKeyDigest: "02".repeat(48),
      authorKeyEn: true,
      familyId: "03".repeat(16),
      imageId: "04".repeat(16),
      platformInfo: 0x3n,
      version: 3,
      firmware: { major: 1, minor: 55, build: 40 },
      committedFirmware: { major: 1, minor: 55, build: 39 },
    });
    const r = parseReport(ev.report);
    expect(r.policy).toMatchObject({
      raw: 0x133n | (1n << 17n) | (1n << 20n),
      smt: false,
      singleSocket: true,
      abiMajor: 1,
      abiMinor: 51,
    });
    expect([
      r.version,
      r.vmpl,
      r.reportData.toString("hex"),
      r.idKeyDigest.toString("hex"),
      r.authorKeyDigest.toString("hex"),
      r.keyInfo.authorKeyEn,
    ]).toEqual([3, 2, "ab".repeat(32) + "00".repeat(32), "01".repeat(48), "02".repeat(48), true]);
    expect([r.familyId.toString("hex"), r.imageId.toString("hex"), r.platformInfo.raw]).toEqual([
      "03".repeat(16),
      "04".repeat(16),
      3n,
    ]);
    expect([r.reportedTcb.snp, r.currentTcb.snp, r.committedTcb.snp, r.launchTcb.microcode]).toEqual([20, 21, 20, 199]);
    expect([r.currentVersion, r.committedVersion]).toEqual([
      { major: 1, minor: 55, build: 40 },
      { major: 1, minor: 55, build: 39 },
    ]);
    expect(r.cpuid).toEqual({ family: 0x19, model: 0x01, stepping: 1 });
    await expect(
      verifySnpEvidence({ report: ev.report, collateral: ev.collateral, anchors: [sim.anchor()], now: validAt(ev) }),
    ).resolves.toMatchObject({ signer: "vcek" });
  });

  it("is refused by production roots: UNTRUSTED_ROOT with its own ARK, CHAIN_SIGNATURE without", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const ev = await sim.sign({ measurement });
    const now = validAt(ev);
    await expect(
      verifySnpEvidence({ report: ev.report, collateral: ev.collateral, anchors: amdTrustAnchors(), now }),
    ).rejects.toMatchObject({ code: "UNTRUSTED_ROOT" });
    await expect(
      verifySnpEvidence({ report: ev.report, collateral: { vek: ev.vek }, anchors: amdTrustAnchors(), now }),
    ).rejects.toMatchObject({ code: "CHAIN_SIGNATURE" });
    await expect(
      verifySnpEvidence({
        report: ev.report,
        collateral: { vek: ev.vek, intermediate: ev.collateral.intermediate },
        anchors: anchorsFor(["amd-milan", "amd-genoa", "amd-turin"]),
        now,
      }),
    ).rejects.toMatchObject({ code: "CHAIN_SIGNATURE" });
  });

  it("is accepted only when allowedRoots lists the simulated root, which needs the simulated anchor", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const ev = await sim.sign({ measurement });
    const anchors = anchorsFor(["amd-genoa", "simulated"], [sim.anchor()]);
    await expect(
      verifySnpEvidence({ report: ev.report, collateral: ev.collateral, anchors, now: validAt(ev) }),
    ).resolves.toMatchObject({ rootId: "simulated" });
    expect(() => anchorsFor(["simulated"])).toThrow(TypeError);
  });

  it("signs VLEK reports (VMPL 1) verified through the ASVK", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const ev = await sim.sign({ measurement, signer: "vlek", vmpl: 1 });
    const got = await verifySnpEvidence({
      report: ev.report,
      collateral: ev.collateral,
      anchors: [sim.anchor()],
      now: validAt(ev),
    });
    expect([got.signer, got.chipIdBound, got.vek.cspId, got.report.vmpl, got.claims.chipId]).toEqual([
      "vlek",
      false,
      "CN=sandbox.local",
      1,
      "0".repeat(128),
    ]);
  });

  it("puts VEK, ASK and ARK in the extended-report certificate table", async () => {
    const sim = await sharedSimulatedSnp("Turin");
    const ev = await sim.sign({ measurement });
    const c = collateralFromCertTable(ev.certTable);
    expect([c.vek?.equals(ev.vek), c.intermediate?.equals(sim.roots.ask), c.ark?.equals(sim.roots.ark)]).toEqual([
      true,
      true,
      true,
    ]);
    await expect(
      verifySnpEvidence({ report: ev.report, collateral: c, anchors: [sim.anchor()], now: validAt(ev) }),
    ).resolves.toMatchObject({ product: "Turin" });
  });

  it("serves its VCEKs and chains as an offline KDS directory", async () => {
    const sim = await sharedSimulatedSnp("Milan");
    const ev = await sim.sign({ measurement, reportedTcb: { bootloader: 4, tee: 0, snp: 23, microcode: 210 } });
    await expect(
      verifySnpEvidence({ report: ev.report, getter: sim.getter(), anchors: [sim.anchor()], now: validAt(ev) }),
    ).resolves.toMatchObject({ claims: { reportedTcb: { snp: 23, microcode: 210 } } });
  });

  it("writes a chain that OpenSSL verifies independently", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const ev = await sim.sign({ measurement });
    requireTool("openssl");
    const dir = mkdtempSync(join(tmpdir(), "sim-openssl-"));
    writeFileSync(join(dir, "vcek.der"), ev.vek);
    execFileSync("openssl", ["x509", "-inform", "der", "-in", join(dir, "vcek.der"), "-out", join(dir, "vcek.pem")]);
    const out = execFileSync(
      "openssl",
      [
        "verify",
        "-attime",
        String(Math.floor(validAt(ev).getTime() / 1000)),
        "-CAfile",
        join(sim.dir, "ark.pem"),
        "-untrusted",
        join(sim.dir, "ask.pem"),
        join(dir, "vcek.pem"),
      ],
      { encoding: "utf8" },
    );
    expect(out.trim()).toBe(`${join(dir, "vcek.pem")}: OK`);
  });

  it("keeps its chip and roots across re-opening the directory", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const again = await SimulatedSnp.open({ dir: sim.dir });
    expect([again.product, again.chipId.equals(sim.chipId), again.roots.ark.equals(sim.roots.ark)]).toEqual([
      "Genoa",
      true,
      true,
    ]);
    await expect(SimulatedSnp.open({ dir: sim.dir, product: "Milan" })).rejects.toThrow(TypeError);
  });
});
