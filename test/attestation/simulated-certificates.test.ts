/** The real verifier on VEK certificates the simulated platform re-signs with one defect each. */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import { amdName } from "../../runtime/simulators/snp/certs.js";
import { SIMULATED_DEFAULT_TCB } from "../../runtime/simulators/snp/report.js";
import { encodeIa5String, encodeInteger, encodeNull, OID, parseCertificate } from "../../core/index.js";
import { AMD_OID } from "../../runtime/attestation/verify/vek.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { measurement, validAt } from "../helpers/simulated-evidence.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

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
