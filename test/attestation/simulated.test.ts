import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collateralFromCertTable } from "../../runtime/attestation/abi/certtable.js";
import { parseReport } from "../../runtime/attestation/abi/report.js";
import { SimulatedSnp, type SimulatedEvidence } from "../../runtime/simulators/snp/platform.js";
import { amdName, SIMULATED_PRODUCT_NAME } from "../../runtime/simulators/snp/certs.js";
import { SIMULATED_DEFAULT_TCB } from "../../runtime/simulators/snp/report.js";
import { encodeIa5String, encodeInteger, encodeNull, OID, parseCertificate } from "../../core/index.js";
import { AMD_OID } from "../../runtime/attestation/verify/vek.js";
import { amdTrustAnchors, anchorsFor } from "../../runtime/attestation/verify/trust.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";
import { requireTool } from "../helpers/system-tools.js";

const DAY = 86_400_000;
const measurement = "5a".repeat(48);
const reportData = Buffer.alloc(64, 0x11);
/** A time inside every validity window of the evidence's chain. */
const validAt = (ev: SimulatedEvidence) => new Date(parseCertificate(ev.vek).notBefore.getTime() + DAY);

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

describe("certificate defects on simulated chains", () => {
  const tcb = SIMULATED_DEFAULT_TCB.Genoa;
  async function withVek(build: (sim: SimulatedSnp, base: Parameters<SimulatedSnp["signCertificate"]>[0]) => Buffer) {
    const sim = await sharedSimulatedSnp("Genoa");
    const ev = await sim.sign({ measurement });
    const now = validAt(ev);
    const orig = parseCertificate(ev.vek);
    const base = {
      serial: 0n,
      issuer: amdName("SEV-Genoa"),
      subject: amdName("SEV-VCEK"),
      notBefore: orig.notBefore,
      notAfter: orig.notAfter,
      publicKey: await sim.vekPublicKey(tcb),
      extensions: orig.extensions.map((e) => ({ oid: e.oid, value: e.value })),
    };
    const vek = build(sim, base);
    return verifySnpEvidence({ report: ev.report, collateral: { vek }, anchors: [sim.anchor()], now });
  }

  it.each([
    [
      "a rebuilt identical VEK is accepted (control)",
      undefined,
      (s: SimulatedSnp, b: any) => s.signCertificate(b, "ask"),
    ],
    [
      "unknown AMD extension",
      "VEK_EXTENSIONS",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          { ...b, extensions: [...b.extensions, { oid: "1.3.6.1.4.1.3704.1.99", value: encodeInteger(1) }] },
          "ask",
        ),
    ],
    [
      "duplicate extension",
      "VEK_EXTENSIONS",
      (s: SimulatedSnp, b: any) => s.signCertificate({ ...b, extensions: [...b.extensions, b.extensions[0]] }, "ask"),
    ],
    [
      "hwID missing",
      "VEK_EXTENSIONS",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate({ ...b, extensions: b.extensions.filter((e: any) => e.oid !== AMD_OID.hwID) }, "ask"),
    ],
    [
      "hwID of 63 bytes",
      "VEK_EXTENSIONS",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          {
            ...b,
            extensions: b.extensions.map((e: any) =>
              e.oid === AMD_OID.hwID ? { ...e, value: e.value.subarray(1) } : e,
            ),
          },
          "ask",
        ),
    ],
    [
      "blSPL not an INTEGER",
      "VEK_EXTENSIONS",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          {
            ...b,
            extensions: b.extensions.map((e: any) =>
              e.oid === AMD_OID.blSPL ? { ...e, value: encodeIa5String("10") } : e,
            ),
          },
          "ask",
        ),
    ],
    [
      "productName Cookie-B0",
      "VEK_EXTENSIONS",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          {
            ...b,
            extensions: b.extensions.map((e: any) =>
              e.oid === AMD_OID.productName ? { ...e, value: encodeIa5String("Cookie-B0") } : e,
            ),
          },
          "ask",
        ),
    ],
    [
      "cspID on a VCEK",
      "VEK_EXTENSIONS",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          { ...b, extensions: [...b.extensions, { oid: AMD_OID.cspID, value: encodeIa5String("CN=x") }] },
          "ask",
        ),
    ],
    [
      "unknown critical extension",
      "VEK_EXTENSIONS",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          { ...b, extensions: [...b.extensions, { oid: "1.2.3.4", critical: true, value: encodeNull() }] },
          "ask",
        ),
    ],
    [
      "subject CN SEV-XYZ",
      "CERTIFICATE_PROFILE",
      (s: SimulatedSnp, b: any) => s.signCertificate({ ...b, subject: amdName("SEV-XYZ") }, "ask"),
    ],
    [
      "subject country Canada",
      "CERTIFICATE_PROFILE",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          { ...b, subject: amdName("SEV-VCEK").map((a) => (a.oid === OID.country ? { ...a, value: "CA" } : a)) },
          "ask",
        ),
    ],
    [
      "issuer state TX (not the ASK's name)",
      "INTERMEDIATE_MISMATCH",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          { ...b, issuer: amdName("SEV-Genoa").map((a) => (a.oid === OID.state ? { ...a, value: "TX" } : a)) },
          "ask",
        ),
    ],
    [
      "EC P-256 key",
      "CERTIFICATE_PROFILE",
      (s: SimulatedSnp, b: any) =>
        s.signCertificate(
          { ...b, publicKey: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey },
          "ask",
        ),
    ],
    [
      "VCEK signed by the ARK instead of the ASK",
      "CHAIN_SIGNATURE",
      (s: SimulatedSnp, b: any) => s.signCertificate(b, "ark"),
    ],
    ["VCEK signed by the ASVK", "CHAIN_SIGNATURE", (s: SimulatedSnp, b: any) => s.signCertificate(b, "asvk")],
  ] as const)("%s -> %s", async (_name, code, build) => {
    const run = withVek(build);
    if (code === undefined) await expect(run).resolves.toMatchObject({ rootId: "simulated" });
    else await expect(run).rejects.toMatchObject({ code });
  });
});

describe("revocation with simulated CRLs", () => {
  it.each([
    [
      "a current CRL that lists nothing is accepted",
      undefined,
      (s: SimulatedSnp, now: Date) =>
        s.crl({ thisUpdate: new Date(now.getTime() - DAY), nextUpdate: new Date(now.getTime() + DAY) }),
    ],
    [
      "the ASK is revoked",
      "CERTIFICATE_REVOKED",
      (s: SimulatedSnp, now: Date) =>
        s.crl({
          revoked: [parseCertificate(s.roots.ask).serial],
          thisUpdate: new Date(now.getTime() - DAY),
          nextUpdate: new Date(now.getTime() + DAY),
        }),
    ],
    [
      "the CRL is stale",
      "CRL_INVALID",
      (s: SimulatedSnp, now: Date) =>
        s.crl({ thisUpdate: new Date(now.getTime() - 3 * DAY), nextUpdate: new Date(now.getTime() - DAY) }),
    ],
    [
      "the CRL is from the future",
      "CRL_INVALID",
      (s: SimulatedSnp, now: Date) =>
        s.crl({ thisUpdate: new Date(now.getTime() + DAY), nextUpdate: new Date(now.getTime() + 2 * DAY) }),
    ],
    [
      "the CRL signature is broken",
      "CRL_INVALID",
      (s: SimulatedSnp, now: Date) => {
        const c = s.crl({ thisUpdate: new Date(now.getTime() - DAY), nextUpdate: new Date(now.getTime() + DAY) });
        c[c.length - 1] = (c[c.length - 1] as number) ^ 1;
        return c;
      },
    ],
  ] as const)("%s -> %s", async (_name, code, makeCrl) => {
    const sim = await sharedSimulatedSnp("Genoa");
    const ev = await sim.sign({ measurement });
    const now = validAt(ev);
    const run = verifySnpEvidence({
      report: ev.report,
      collateral: { ...ev.collateral, crl: makeCrl(sim, now) },
      anchors: [sim.anchor()],
      now,
    });
    if (code === undefined) await expect(run).resolves.toMatchObject({ revocationChecked: true });
    else await expect(run).rejects.toMatchObject({ code });
  });

  it("a CRL signed by another ARK is CRL_INVALID", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const other = await sharedSimulatedSnp("Milan");
    const ev = await sim.sign({ measurement });
    const now = validAt(ev);
    const crl = other.crl({ thisUpdate: new Date(now.getTime() - DAY), nextUpdate: new Date(now.getTime() + DAY) });
    await expect(
      verifySnpEvidence({ report: ev.report, collateral: { ...ev.collateral, crl }, anchors: [sim.anchor()], now }),
    ).rejects.toMatchObject({ code: "CRL_INVALID" });
  });

  it("checkRevocation fetches the CRL through the getter", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const ev = await sim.sign({ measurement });
    const now = validAt(ev);
    const crl = sim.crl({ thisUpdate: new Date(now.getTime() - DAY), nextUpdate: new Date(now.getTime() + DAY) });
    const paths: string[] = [];
    const getter = { get: async (p: string) => (paths.push(p), crl) };
    await expect(
      verifySnpEvidence({
        report: ev.report,
        collateral: ev.collateral,
        getter,
        checkRevocation: true,
        anchors: [sim.anchor()],
        now,
      }),
    ).resolves.toMatchObject({ revocationChecked: true });
    expect(paths).toEqual(["/vcek/v1/Genoa/crl"]);
  });
});
