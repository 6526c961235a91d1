import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PlatformInventory } from "../../measurements/drift/index.js";
import { appraiseSnpEvidence, type AppraiseSnpOptions } from "../../runtime/attestation/appraise.js";
import type { SimulatedReportInput } from "../../runtime/simulators/snp/report.js";
import { parseAttestationPolicy } from "../../runtime/attestation/validate/attestation-policy.js";
import { memoryReplayGuard } from "../../runtime/attestation/validate/replay.js";
import { mapGetter } from "../../runtime/attestation/verify/collateral.js";
import { amdTrustAnchors, anchorsFor } from "../../runtime/attestation/verify/trust.js";
import { parseCertificate } from "../../core/index.js";
import { A02_MEASUREMENT, devManifest, withEdit } from "../helpers/golden.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";
import { realCase } from "../helpers/snp-vectors.js";

const BINDING = createHash("sha512").update("kbs nonce || tee key").digest();
const active = devManifest();
const pending = withEdit((m) => {
  m.release = "2026.12.0-dev";
  m.status = "pending";
  m.launchShapes["runtime-small"].measurement = "22".repeat(48);
});
const retired = withEdit((m) => {
  m.release = "2026.10.0-dev";
  m.status = "retired";
  m.launchShapes["runtime-small"].measurement = "33".repeat(48);
});
const manifests = [active, pending, retired];
const policy = parseAttestationPolicy({ allowedRoots: ["simulated"] });

async function appraise(input: Partial<SimulatedReportInput> = {}, extra: Partial<AppraiseSnpOptions> = {}) {
  const sim = await sharedSimulatedSnp("Milan");
  const ev = await sim.sign({ measurement: A02_MEASUREMENT, reportData: BINDING, ...input });
  const now = new Date(parseCertificate(ev.vek).notBefore.getTime() + 86_400_000);
  return appraiseSnpEvidence({
    report: ev.report,
    collateral: ev.collateral,
    anchors: anchorsFor(policy.allowedRoots, [sim.anchor()]),
    now,
    policy,
    manifests,
    expectedReportData: BINDING,
    ...extra,
  });
}

describe("appraiseSnpEvidence: verdicts and drift classes (golden manifests, measurements/drift classifier)", () => {
  it("ok: active measurement, TCB at the floor; releasable, names the release", async () => {
    const v = await appraise();
    expect([v.accepted, v.releasable, v.driftClass, v.release, v.failures]).toEqual([
      true,
      true,
      "ok",
      "2026.11.0-dev",
      [],
    ]);
    expect(v.claims?.measurement).toBe(A02_MEASUREMENT);
  });

  it("platform-updated: TCB above the floor and above the inventory; releasable", async () => {
    const sim = await sharedSimulatedSnp("Milan");
    const inventory: PlatformInventory = {
      [sim.chipId.toString("hex")]: {
        product: "Milan",
        reportedTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
      },
    };
    const v = await appraise({ reportedTcb: { bootloader: 4, tee: 0, snp: 25, microcode: 219 } }, { inventory });
    expect([v.accepted, v.releasable, v.driftClass]).toEqual([true, true, "platform-updated"]);
  });

  it.each([
    ["pending-release", { measurement: "22".repeat(48) }, ["MEASUREMENT_NOT_ALLOWED"]],
    ["retired-release", { measurement: "33".repeat(48) }, ["MEASUREMENT_NOT_ALLOWED"]],
    ["unknown-measurement", { measurement: "44".repeat(48) }, ["MEASUREMENT_NOT_ALLOWED"]],
    ["tcb-below-floor", { reportedTcb: { bootloader: 4, tee: 0, snp: 23, microcode: 219 } }, ["TCB_BELOW_FLOOR"]],
    ["invalid-evidence", { reportData: Buffer.alloc(64, 1) }, ["REPORT_DATA_MISMATCH"]],
  ] as const)("%s: not accepted, not releasable", async (driftClass, input, failures) => {
    const v = await appraise(input);
    expect([v.accepted, v.releasable, v.driftClass, v.failures.map((f) => f.code)]).toEqual([
      false,
      false,
      driftClass,
      failures,
    ]);
  });

  it("a debug guest with an active measurement: drift ok, but not accepted", async () => {
    const v = await appraise({ policy: { smt: true, debug: true } });
    expect([v.accepted, v.releasable, v.driftClass, v.driftReason, v.failures.map((f) => f.code)]).toEqual([
      false,
      false,
      "invalid-evidence",
      "authentic, but outside the attestation policy (DEBUG_ALLOWED, GUEST_POLICY)",
      ["DEBUG_ALLOWED", "GUEST_POLICY"],
    ]);
  });

  it("replay: the second appraisal of the same evidence is invalid-evidence", async () => {
    const sim = await sharedSimulatedSnp("Milan");
    const ev = await sim.sign({ measurement: A02_MEASUREMENT, reportData: BINDING });
    const now = new Date(parseCertificate(ev.vek).notBefore.getTime() + 86_400_000);
    const replay = memoryReplayGuard({ ttlMs: 300_000 });
    const opts = {
      report: ev.report,
      collateral: ev.collateral,
      anchors: [sim.anchor()],
      now,
      policy,
      manifests,
      expectedReportData: BINDING,
      replay,
    };
    expect((await appraiseSnpEvidence(opts)).releasable).toBe(true);
    const again = await appraiseSnpEvidence(opts);
    expect([again.accepted, again.driftClass, again.failures.map((f) => f.code)]).toEqual([
      false,
      "invalid-evidence",
      ["REPORT_DATA_REPLAYED"],
    ]);
  });

  it("forged evidence gives a verdict, not a throw: invalid-evidence with the verifier's code", async () => {
    const sim = await sharedSimulatedSnp("Milan");
    const ev = await sim.sign({ measurement: A02_MEASUREMENT, reportData: BINDING });
    ev.report[0x90] = (ev.report[0x90] as number) ^ 1;
    const v = await appraiseSnpEvidence({
      report: ev.report,
      collateral: ev.collateral,
      anchors: [sim.anchor()],
      now: new Date(parseCertificate(ev.vek).notBefore.getTime() + 86_400_000),
      policy,
      manifests,
    });
    expect(v).toMatchObject({
      accepted: false,
      releasable: false,
      driftClass: "invalid-evidence",
      claims: undefined,
      failures: [{ code: "REPORT_SIGNATURE", path: "report.signature" }],
    });
  });

  it("a production policy refuses simulated evidence (UNTRUSTED_ROOT)", async () => {
    const prod = parseAttestationPolicy({});
    const v = await appraise({}, { anchors: anchorsFor(prod.allowedRoots), policy: prod });
    expect([v.accepted, v.driftClass, v.failures.map((f) => f.code)]).toEqual([
      false,
      "invalid-evidence",
      ["UNTRUSTED_ROOT"],
    ]);
  });

  it("collateral unavailable is a distinct failure code", async () => {
    const c = realCase("genoa-v3-vcek-routex");
    const v = await appraiseSnpEvidence({
      report: c.report,
      getter: mapGetter({}),
      anchors: amdTrustAnchors(),
      now: c.now,
      policy: parseAttestationPolicy({}),
    });
    expect([v.accepted, v.driftReason, v.failures.map((f) => f.code)]).toEqual([
      false,
      "no verdict: collateral unavailable",
      ["COLLATERAL_UNAVAILABLE"],
    ]);
  });

  it("without manifests the class follows the policy checks", async () => {
    const v = await appraise(
      { measurement: "44".repeat(48) },
      {
        manifests: undefined,
        policy: parseAttestationPolicy({ allowedRoots: ["simulated"], measurements: [A02_MEASUREMENT] }),
      },
    );
    expect([v.driftClass, v.failures.map((f) => f.code), v.release]).toEqual([
      "unknown-measurement",
      ["MEASUREMENT_NOT_ALLOWED"],
      undefined,
    ]);
  });
});
