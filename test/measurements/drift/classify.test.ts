import { describe, expect, it } from "vitest";
import {
  assessDrift,
  classifyDrift,
  type ClassifyDriftInput,
  type EvidenceClaims,
  type PlatformInventory,
} from "../../../measurements/drift/index.js";
import { DRIFT_CLASSES } from "../../../measurements/drift/types.js";
import type { GoldenManifest } from "../../../measurements/manifest/index.js";
import { A02_MEASUREMENT, devManifest, withEdit } from "../../helpers/golden.js";

const PENDING_ONLY = "2".repeat(96);
const RETIRED_ONLY = "3".repeat(96);
const CHIP = "c1".repeat(64);
const OTHER_CHIP = "c2".repeat(64);

// Milan floor in devManifest(): bl=4 tee=0 snp=24 ucode=219.
const active = devManifest();
const pending = withEdit((m) => {
  m.release = "2026.12.0-dev";
  m.status = "pending";
  m.launchShapes["runtime-small"].measurement = PENDING_ONLY;
});
const retired = withEdit((m) => {
  m.release = "2026.10.0-dev";
  m.status = "retired";
  m.launchShapes["runtime-small"].measurement = RETIRED_ONLY;
});
const retiredToo = withEdit((m) => {
  m.release = "2026.09.0-dev";
  m.status = "retired";
  m.launchShapes["runtime-small"].measurement = PENDING_ONLY;
});
const stricterActive = withEdit((m) => {
  m.release = "2026.11.1-dev";
  m.tcbFloors.Milan = { bootloader: 4, tee: 0, snp: 25, microcode: 219 };
});
const manifests: GoldenManifest[] = [active, pending, retired, retiredToo];

const inventory: PlatformInventory = {
  [CHIP]: { product: "Milan", reportedTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 }, host: "lab-milan-01" },
  [OTHER_CHIP]: { product: "Genoa", reportedTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 } },
};

function claims(edit: Partial<EvidenceClaims> = {}): EvidenceClaims {
  return {
    tee: "sev-snp",
    measurement: A02_MEASUREMENT,
    product: "Milan",
    reportedTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
    chipId: CHIP,
    ...edit,
  };
}
const tcb = (bootloader: number, tee: number, snp: number, microcode: number, fmc?: number) => ({
  bootloader,
  tee,
  snp,
  microcode,
  ...(fmc === undefined ? {} : { fmc }),
});

const cases: [string, Partial<ClassifyDriftInput>, string, string][] = [
  [
    "evidence invalid (claims not even read)",
    { evidenceValid: false, claims: { measurement: "junk" } as never },
    "invalid-evidence",
    "evidence failed verification (signature, chain, binding or freshness)",
  ],
  [
    "measurement in the active manifest, TCB at the floor",
    {},
    "ok",
    "measurement in 2026.11.0-dev (runtime-small); TCB meets the floor (reported TCB equals a floor)",
  ],
  [
    "measurement in no manifest",
    { claims: claims({ measurement: "0".repeat(96) }) },
    "unknown-measurement",
    "measurement 00000000…0000 is in no golden manifest",
  ],
  [
    "measurement only in a pending manifest (and a retired one)",
    { claims: claims({ measurement: PENDING_ONLY }) },
    "pending-release",
    `measurement 22222222…2222 is only in pending manifests: 2026.12.0-dev (runtime-small)`,
  ],
  [
    "measurement only in a retired manifest",
    { claims: claims({ measurement: RETIRED_ONLY }) },
    "retired-release",
    "measurement 33333333…3333 is only in retired manifests: 2026.10.0-dev (runtime-small)",
  ],
  [
    "snp SVN one below the floor",
    { claims: claims({ reportedTcb: tcb(4, 0, 23, 219) }) },
    "tcb-below-floor",
    "reported TCB bl=4 tee=0 snp=23 ucode=219 is below the Milan floor bl=4 tee=0 snp=24 ucode=219 (release 2026.11.0-dev; low: snp)",
  ],
  [
    "microcode below although snp above (mixed is below)",
    { claims: claims({ reportedTcb: tcb(4, 0, 30, 200) }) },
    "tcb-below-floor",
    "reported TCB bl=4 tee=0 snp=30 ucode=200 is below the Milan floor bl=4 tee=0 snp=24 ucode=219 (release 2026.11.0-dev; low: microcode)",
  ],
  [
    "Turin without fmc below an fmc floor (absent fmc counts as 0)",
    { claims: claims({ product: "Turin", reportedTcb: tcb(9, 9, 9, 9) }) },
    "tcb-below-floor",
    "reported TCB bl=9 tee=9 snp=9 ucode=9 is below the Turin floor bl=1 tee=1 snp=1 ucode=1 fmc=1 (release 2026.11.0-dev; low: fmc)",
  ],
  [
    "below the caller's policy floor only",
    { claims: claims({ reportedTcb: tcb(4, 0, 25, 219) }), floors: { Milan: tcb(4, 0, 26, 219) } },
    "tcb-below-floor",
    "reported TCB bl=4 tee=0 snp=25 ucode=219 is below the Milan floor bl=4 tee=0 snp=26 ucode=219 (policy; low: snp)",
  ],
  [
    "below the stricter of two active manifests",
    { manifests: [active, stricterActive] },
    "tcb-below-floor",
    "reported TCB bl=4 tee=0 snp=24 ucode=219 is below the Milan floor bl=4 tee=0 snp=25 ucode=219 (release 2026.11.1-dev; low: snp)",
  ],
  [
    "above floor and above the inventory",
    { claims: claims({ reportedTcb: tcb(4, 0, 25, 219) }) },
    "platform-updated",
    "measurement in 2026.11.0-dev (runtime-small); reported TCB bl=4 tee=0 snp=25 ucode=219 is above the floor and above the inventoried bl=4 tee=0 snp=24 ucode=219 (host lab-milan-01)",
  ],
  [
    "above floor, equal to the inventory",
    {
      claims: claims({ reportedTcb: tcb(4, 0, 25, 219) }),
      inventory: { [CHIP]: { product: "Milan", reportedTcb: tcb(4, 0, 25, 219) } },
    },
    "ok",
    "measurement in 2026.11.0-dev (runtime-small); TCB meets the floor (reported TCB equals the inventoried one)",
  ],
  [
    "above floor, mixed with the inventory",
    {
      claims: claims({ reportedTcb: tcb(4, 0, 26, 219) }),
      inventory: { [CHIP]: { product: "Milan", reportedTcb: tcb(4, 0, 25, 220), host: "h1" } },
    },
    "ok",
    "measurement in 2026.11.0-dev (runtime-small); TCB meets the floor (reported TCB is below the inventoried bl=4 tee=0 snp=25 ucode=220 (host h1) in microcode)",
  ],
  [
    "above floor, no inventory",
    { claims: claims({ reportedTcb: tcb(4, 0, 25, 219) }), inventory: undefined },
    "ok",
    "measurement in 2026.11.0-dev (runtime-small); TCB meets the floor (no inventory to compare with)",
  ],
  [
    "above floor, chip not inventoried",
    { claims: claims({ reportedTcb: tcb(4, 0, 25, 219), chipId: "c3".repeat(64) }) },
    "ok",
    "measurement in 2026.11.0-dev (runtime-small); TCB meets the floor (chip is not in the inventory)",
  ],
  [
    "above floor, chip id masked",
    { claims: claims({ reportedTcb: tcb(4, 0, 25, 219), chipId: "0".repeat(128) }) },
    "ok",
    "measurement in 2026.11.0-dev (runtime-small); TCB meets the floor (chip id is masked)",
  ],
  [
    "above floor, inventory says another product",
    { claims: claims({ reportedTcb: tcb(4, 0, 25, 219), chipId: OTHER_CHIP }) },
    "ok",
    "measurement in 2026.11.0-dev (runtime-small); TCB meets the floor (inventory lists the chip as Genoa, evidence says Milan)",
  ],
  [
    "no floor for the product: above all-zero and above the inventory",
    { claims: claims({ product: "Genoa", chipId: OTHER_CHIP, reportedTcb: tcb(4, 0, 24, 220) }) },
    "platform-updated",
    "measurement in 2026.11.0-dev (runtime-small); reported TCB bl=4 tee=0 snp=24 ucode=220 is above the floor and above the inventoried bl=4 tee=0 snp=24 ucode=219",
  ],
  [
    "no floor for the product, all-zero TCB",
    { claims: claims({ product: "Genoa", reportedTcb: tcb(0, 0, 0, 0) }) },
    "ok",
    "measurement in 2026.11.0-dev (runtime-small); TCB meets the floor (reported TCB equals a floor)",
  ],
  [
    "manifest set for another TEE only",
    { claims: { ...claims(), tee: "tdx" } as never },
    "unknown-measurement",
    "measurement 39765afe…58c0 is in no golden manifest",
  ],
];

describe("classifyDrift: every class", () => {
  it.each(cases)("%s -> %s", (_name, edit, driftClass, reason) => {
    const input: ClassifyDriftInput = { claims: claims(), evidenceValid: true, manifests, inventory, ...edit };
    expect(assessDrift(input)).toMatchObject({ driftClass, reason });
    expect(classifyDrift(input)).toBe(driftClass);
  });

  it("covers every drift class", () => {
    expect(new Set(cases.map((c) => c[2]))).toEqual(new Set(DRIFT_CLASSES));
  });

  it("reports the matching manifests, active first", () => {
    const result = assessDrift({ claims: claims({ measurement: PENDING_ONLY }), evidenceValid: true, manifests });
    expect(result.matches.map((m) => [m.manifest.release, m.status])).toEqual([
      ["2026.12.0-dev", "pending"],
      ["2026.09.0-dev", "retired"],
    ]);
  });

  it.each([
    ["a short measurement", claims({ measurement: "39765afe" }), "measurement must be 96 hex characters (SHA-384)"],
    [
      "a TCB without microcode",
      claims({ reportedTcb: { bootloader: 1, tee: 1, snp: 1 } as never }),
      "claims.reportedTcb must have integer bootloader, tee, snp and microcode",
    ],
    ["an upper-case chip id", claims({ chipId: "C1".repeat(64) }), "claims.chipId must be lower-case hex"],
  ])("refuses valid evidence with %s (TypeError: caller misuse)", (_name, bad, message) => {
    expect(() => classifyDrift({ claims: bad, evidenceValid: true, manifests })).toThrow(new TypeError(message));
  });
});
