import { describe, expect, it } from "vitest";
import { ManifestSet, disallowedPolicyBits, encodeGuestPolicy } from "../../../measurements/manifest/index.js";
import { A01_MEASUREMENT, A02_MEASUREMENT, devManifest, withEdit } from "../../helpers/golden.js";

const NEXT = "1".repeat(96);
const active = devManifest();
const pending = withEdit((m) => {
  m.release = "2026.12.0-dev";
  m.status = "pending";
  m.launchShapes["runtime-small"].measurement = NEXT;
});
const retired = withEdit((m) => {
  m.release = "2026.10.0-dev";
  m.status = "retired";
});

describe("ManifestSet", () => {
  const set = new ManifestSet([retired, pending, active]);

  it("looks measurements up, active first", () => {
    expect(set.lookup(A02_MEASUREMENT).map((m) => [m.manifest.release, m.shape, m.status])).toEqual([
      ["2026.11.0-dev", "runtime-small", "active"],
      ["2026.10.0-dev", "runtime-small", "retired"],
    ]);
    expect(set.lookup(A02_MEASUREMENT.toUpperCase())).toHaveLength(2);
    expect(set.lookup("0".repeat(96))).toEqual([]);
  });

  it.each([
    [A02_MEASUREMENT, "active"],
    [NEXT, "pending"],
    [A01_MEASUREMENT, "active"],
    ["0".repeat(96), undefined],
  ])("statusOf(%s) is %s", (measurement, status) => {
    expect(set.statusOf(measurement)).toBe(status);
  });

  it("lists the release set per status", () => {
    expect(set.measurements()).toEqual([A02_MEASUREMENT, A01_MEASUREMENT].sort());
    expect(set.measurements("pending")).toEqual([A01_MEASUREMENT, NEXT].sort());
    expect(set.withStatus("retired")).toEqual([retired]);
  });

  it("refuses a malformed measurement with a TypeError", () => {
    expect(() => set.lookup("39765afe")).toThrow(new TypeError("measurement must be 96 hex characters (SHA-384)"));
  });
});

describe("guest policy helpers", () => {
  it.each([
    [{ debug: false, migrateMa: false, smt: true, singleSocket: false, abiMajor: 0, abiMinor: 0 }, 0x30000n],
    [{ debug: true, migrateMa: false, smt: false, singleSocket: false, abiMajor: 1, abiMinor: 55 }, 0xa0137n],
    [{ debug: false, migrateMa: true, smt: true, singleSocket: true, abiMajor: 0, abiMinor: 0 }, 0x170000n],
  ])("encodes %j as %s", (settings, value) => {
    expect(encodeGuestPolicy(settings)).toBe(value);
  });

  it.each([
    [0x30000n, 0n],
    [0x3001fn, 0n],
    [0x20000n, 0n],
    [0xb0000n, 0x80000n],
    [0x70000n, 0x40000n],
  ])("report policy %s has disallowed bits %s under 0x30000", (policy, bits) => {
    expect(disallowedPolicyBits(active, policy)).toBe(bits);
  });
});
