/** The real verifier's revocation checks on CRLs the simulated platform signs. */
import { describe, expect, it } from "vitest";
import type { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import { parseCertificate } from "../../core/index.js";
import { verifySnpEvidence } from "../../runtime/attestation/verify/verify.js";
import { DAY, measurement, validAt } from "../helpers/simulated-evidence.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

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
