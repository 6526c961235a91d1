/**
 * `verifyBundle`: every refusal has its own code, decided before anything is sent. Bundles come
 * from the shared simulated SNP platform (byte-exact reports; the real verifier runs on them).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type KeyObject } from "node:crypto";
import { verifyBundle, type ClientTrust } from "../../runtime/client/index.js";
import { encodeKeyConfig, generateServerKey } from "../../runtime/ohttp/index.js";
import { SIMULATED_DEFAULT_TCB } from "../../runtime/simulators/index.js";
import type { SimulatedSnp } from "../../runtime/simulators/index.js";
import {
  foreignSimulatedSnp,
  issueBundle,
  releaseKeyPair,
  signedDevManifest,
  trustFor,
  type IssueOptions,
} from "../helpers/confidential.js";
import { A02_MEASUREMENT } from "../helpers/golden.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

let sim: SimulatedSnp;
let foreign: SimulatedSnp;
let release: { privateKey: KeyObject; publicKey: KeyObject };
let manifest: string;
let trust: ClientTrust;

beforeAll(async () => {
  [sim, foreign] = await Promise.all([sharedSimulatedSnp("Genoa"), foreignSimulatedSnp()]);
  release = releaseKeyPair();
  manifest = await signedDevManifest(release.privateKey);
  trust = trustFor(sim, release.publicKey);
}, 120_000);

const genoa = SIMULATED_DEFAULT_TCB.Genoa;
const outcome = async (o: IssueOptions, options: { now?: Date; nonce?: Uint8Array; trust?: ClientTrust } = {}) => {
  const { json } = await issueBundle({ sim, manifest, ...o });
  try {
    const v = await verifyBundle(json, {
      trust: options.trust ?? trust,
      now: options.now ?? new Date(),
      ...(options.nonce ? { nonce: options.nonce } : {}),
    });
    return ["accepted", v.measurement, v.release];
  } catch (e: any) {
    return [e.code, (e.details?.failures ?? []).map((f: any) => f.code)];
  }
};

describe("verifyBundle", () => {
  it("accepts a genuine bundle: measurement in the active manifest, release named", async () => {
    expect(await outcome({})).toEqual(["accepted", A02_MEASUREMENT, "2026.11.0-dev"]);
  });

  it.each<[string, () => IssueOptions | Promise<IssueOptions>, unknown[]]>([
    [
      "an unknown measurement",
      () => ({ report: { measurement: "ab".repeat(48) } }),
      ["MEASUREMENT_UNKNOWN", ["MEASUREMENT_NOT_ALLOWED"]],
    ],
    [
      "a debug policy",
      () => ({ report: { measurement: A02_MEASUREMENT, policy: { smt: true, debug: true } } }),
      ["DEBUG_POLICY", ["DEBUG_ALLOWED", "GUEST_POLICY"]],
    ],
    [
      "a TCB below the floor",
      () => ({ report: { measurement: A02_MEASUREMENT, reportedTcb: { ...genoa, snp: genoa.snp - 1 } } }),
      ["TCB_BELOW_FLOOR", ["TCB_BELOW_FLOOR"]],
    ],
    [
      "a key configuration not bound in REPORT_DATA",
      async () => ({ boundKeyConfig: encodeKeyConfig((await generateServerKey({ keyId: 3 })).config) }),
      ["KEY_NOT_BOUND", ["REPORT_DATA_MISMATCH"]],
    ],
    [
      "an expired bundle",
      () => ({ notBefore: new Date(Date.now() - 7_200_000), lifetimeMs: 3_600_000 }),
      ["BUNDLE_EXPIRED", []],
    ],
    ["a chain to another root", () => ({ sim: foreign }), ["ROOT_UNTRUSTED", ["UNTRUSTED_ROOT"]]],
    [
      "a report from VMPL 1",
      () => ({ report: { measurement: A02_MEASUREMENT, vmpl: 1 } }),
      ["POLICY_VIOLATION", ["VMPL"]],
    ],
    [
      "a manifest signed by another key",
      async () => ({ manifest: await signedDevManifest(releaseKeyPair().privateKey) }),
      ["MANIFEST_UNVERIFIED", []],
    ],
    [
      "a bundle that starts in the future",
      () => ({ notBefore: new Date(Date.now() + 600_000) }),
      ["BUNDLE_NOT_YET_VALID", []],
    ],
    [
      "a key configuration with no suite this client implements",
      async () => ({ key: await generateServerKey({ keyId: 1, symmetricAlgorithms: [{ kdfId: 1, aeadId: 0xffff }] }) }),
      ["KEY_CONFIG_UNSUPPORTED", []],
    ],
  ])("refuses %s", async (_name, options, expected) => {
    expect(await outcome(await options())).toEqual(expected);
  });

  it("refuses a tampered report (signature): EVIDENCE_INVALID", async () => {
    const { json } = await issueBundle({ sim, manifest });
    const report = Buffer.from((json.evidence as any).report, "base64");
    report[0x90]! ^= 1; // MEASUREMENT (AMD SEV-SNP ABI table 22, offset 0x90)
    (json.evidence as any).report = report.toString("base64");
    const err: any = await verifyBundle(json, { trust, now: new Date() }).catch((e) => e);
    expect([err.code, err.details.failures.map((f: any) => f.code)]).toEqual([
      "EVIDENCE_INVALID",
      ["REPORT_SIGNATURE"],
    ]);
  });

  it("refuses a malformed bundle, a missing manifest, and a bundle without the asked nonce", async () => {
    const { json } = await issueBundle({ sim });
    const noManifest: any = await verifyBundle(json, { trust, now: new Date() }).catch((e) => e);
    const malformed: any = await verifyBundle({ ...json, extra: 1 }, { trust, now: new Date() }).catch((e) => e);
    const nonce = new Uint8Array(32).fill(7);
    const wrong: any = await verifyBundle(json, { trust, now: new Date(), nonce }).catch((e) => e);
    expect([noManifest.code, malformed.code, malformed.problems, wrong.code]).toEqual([
      "MEASUREMENT_UNKNOWN",
      "BUNDLE_MALFORMED",
      [{ path: "bundle.extra", message: "unknown key" }],
      "NONCE_MISMATCH",
    ]);
    expect(await outcome({ nonce }, { nonce })).toEqual(["accepted", A02_MEASUREMENT, "2026.11.0-dev"]);
  });

  it("the simulated root is trusted only when the policy names it: production roots refuse it", async () => {
    const production = trustFor(sim, release.publicKey);
    const amdOnly = { ...production, anchors: production.anchors.filter((a) => a.id !== "simulated") };
    expect(await outcome({}, { trust: amdOnly })).toEqual(["ROOT_UNTRUSTED", ["UNTRUSTED_ROOT"]]);
  });
});
