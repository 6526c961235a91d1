import { describe, expect, it } from "vitest";
import {
  DriftError,
  assertNoDriftErrors,
  compareManifests,
  renderComparisonMarkdown,
} from "../../../measurements/drift/index.js";
import type { GoldenManifest } from "../../../measurements/manifest/index.js";
import { A02_MEASUREMENT, devManifest, withEdit } from "../../helpers/golden.js";

const NEW_KERNEL = "ab".repeat(32);
const NEW_MEASUREMENT = "4".repeat(96);
const before = devManifest();

/** A typical release: new kernel (measurement changes), new model, release bumped. */
const kernelUpdate = withEdit((m) => {
  m.release = "2026.11.1-dev";
  m.createdAt = "2026-11-09T10:00:00Z";
  m.artifacts["kernel-dev"] = {
    kind: "kernel",
    sha256: NEW_KERNEL,
    size: 524400,
    source: "generated dummy kernel (label snp-measure/kernel-b), sandbox only",
  };
  m.artifacts["classifier-model"].sha256 = "cd".repeat(32);
  m.artifacts["classifier-model"].source = "scripts/build-models.ts v2";
  m.launchShapes["runtime-small"].measurement = NEW_MEASUREMENT;
});

function codes(old: GoldenManifest, next: GoldenManifest) {
  const r = compareManifests(old, next);
  return { errors: r.errors.map((f) => f.code), warnings: r.warnings.map((f) => f.code) };
}

describe("compareManifests", () => {
  it("finds nothing between equal manifests", () => {
    expect(compareManifests(before, devManifest())).toEqual({ errors: [], warnings: [], changes: [] });
  });

  it("attributes a measurement change to the kernel digest", () => {
    const r = compareManifests(before, kernelUpdate);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.changes.map((c) => c.kind)).toEqual([
      "field-changed",
      "field-changed",
      "artifact-changed",
      "artifact-changed",
      "shape-changed",
    ]);
    expect(r.changes[3]).toEqual({
      kind: "artifact-changed",
      name: "kernel-dev",
      before: before.artifacts["kernel-dev"],
      after: kernelUpdate.artifacts["kernel-dev"],
      fields: ["sha256", "size", "source"],
      affected: [{ shape: "runtime-small", before: A02_MEASUREMENT, after: NEW_MEASUREMENT }],
    });
    expect(r.changes[2]).toMatchObject({
      kind: "artifact-changed",
      name: "classifier-model",
      fields: ["sha256", "source"],
      affected: [],
    });
    expect(r.changes[4]).toMatchObject({
      kind: "shape-changed",
      name: "runtime-small",
      causes: ["kernel"],
      otherInputs: [],
      measurementChanged: true,
    });
  });

  it.each<[string, (m: any) => void, string[], string[]]>([
    [
      "measurement changed with no input change",
      (m) => {
        m.release = "r2";
        m.launchShapes["runtime-small"].measurement = NEW_MEASUREMENT;
      },
      ["MEASUREMENT_UNEXPLAINED"],
      [],
    ],
    [
      "cmdline changed, measurement not",
      (m) => {
        m.release = "r2";
        m.launchShapes["runtime-small"].inputs.cmdline = "console=ttyS0";
      },
      ["MEASUREMENT_NOT_UPDATED"],
      [],
    ],
    [
      "firmware digest changed, measurement not",
      (m) => {
        m.release = "r2";
        m.artifacts["ovmf-amdsev"].sha256 = "0".repeat(64);
        m.artifacts["ovmf-amdsev"].source = "other";
      },
      ["MEASUREMENT_NOT_UPDATED", "MEASUREMENT_NOT_UPDATED"],
      [],
    ],
    [
      "content changed under the same release",
      (m) => {
        m.launchShapes["runtime-small"].inputs.vcpus = 8;
        m.launchShapes["runtime-small"].measurement = NEW_MEASUREMENT;
      },
      [],
      ["RELEASE_NOT_BUMPED"],
    ],
    [
      "only status and createdAt changed",
      (m) => {
        m.status = "retired";
        m.createdAt = "2027-01-01T00:00:00Z";
      },
      [],
      [],
    ],
    [
      "floor lowered",
      (m) => {
        m.release = "r2";
        m.tcbFloors.Milan.microcode = 200;
      },
      [],
      ["TCB_FLOOR_LOWERED"],
    ],
    [
      "floor removed",
      (m) => {
        m.release = "r2";
        delete m.tcbFloors.Milan;
      },
      [],
      ["TCB_FLOOR_LOWERED"],
    ],
    [
      "floor raised",
      (m) => {
        m.release = "r2";
        m.tcbFloors.Milan.snp = 25;
      },
      [],
      [],
    ],
    [
      "debug allowed",
      (m) => {
        m.release = "r2";
        m.allowedPolicyBits = "0xb0000";
      },
      [],
      ["POLICY_WIDENED"],
    ],
    [
      "chip allowlist removed",
      (m) => {
        m.release = "r2";
        delete m.chipAllowlist;
      },
      [],
      ["ALLOWLIST_REMOVED"],
    ],
    [
      "artifact bytes changed under the same source",
      (m) => {
        m.release = "r2";
        m.artifacts["classifier-model"].sha256 = "0".repeat(64);
      },
      [],
      ["ARTIFACT_REBUILT"],
    ],
    [
      "environment differs",
      (m) => {
        m.environment = "prod";
        m.release = "r2";
      },
      ["ENVIRONMENT_MISMATCH"],
      [],
    ],
    [
      "platform differs",
      (m) => {
        m.platform = "tdx";
        m.release = "r2";
      },
      ["PLATFORM_MISMATCH"],
      [],
    ],
  ])("%s", (_name, edit, errors, warnings) => {
    const old = withEdit((m) => {
      m.chipAllowlist = ["a".repeat(128)];
    });
    expect(codes(old, withEdit(edit, old))).toEqual({ errors, warnings });
  });

  it("treats a vCPU model rename with the same CPUID signature as unmeasured", () => {
    const r = compareManifests(
      before,
      withEdit((m) => {
        m.release = "r2";
        m.launchShapes["runtime-small"].inputs.vcpuType = "EPYC";
      }),
    );
    expect(r.errors).toEqual([]);
    expect(r.changes[1]).toMatchObject({
      kind: "shape-changed",
      causes: [],
      otherInputs: ["vcpuType"],
      measurementChanged: false,
    });
  });

  it("treats an artifact renamed with the same digest as unmeasured", () => {
    const r = compareManifests(
      before,
      withEdit((m) => {
        m.release = "r2";
        m.artifacts["kernel-6.12"] = m.artifacts["kernel-dev"];
        delete m.artifacts["kernel-dev"];
        m.launchShapes["runtime-small"].inputs.kernel = "kernel-6.12";
      }),
    );
    expect(r.errors).toEqual([]);
    expect(r.changes.map((c) => `${c.kind}:${"name" in c ? c.name : ""}`)).toEqual([
      "field-changed:",
      "artifact-added:kernel-6.12",
      "artifact-removed:kernel-dev",
      "shape-changed:runtime-small",
    ]);
    expect(r.changes[3]).toMatchObject({ causes: [], otherInputs: ["kernel-name"], measurementChanged: false });
  });

  it("shows a changed HOST_DATA binding of a launch shape (another pod workload) as a reviewable unmeasured change", () => {
    const r = compareManifests(
      before,
      withEdit((m) => {
        m.launchShapes["runtime-small"].hostData = "ab".repeat(32);
      }),
    );
    expect(r.errors).toEqual([]);
    expect(r.changes.filter((c) => c.kind === "shape-changed")).toMatchObject([
      { name: "runtime-small", causes: [], otherInputs: ["hostData"], measurementChanged: false },
    ]);
  });

  it("assertNoDriftErrors throws a DriftError carrying every error", () => {
    const r = compareManifests(
      before,
      withEdit((m) => {
        m.release = "r2";
        m.launchShapes["runtime-small"].measurement = NEW_MEASUREMENT;
      }),
    );
    expect(() => assertNoDriftErrors(r)).toThrow(DriftError);
    expect(() => assertNoDriftErrors(r)).toThrow(
      "golden manifest comparison failed (1 error):\nMEASUREMENT_UNEXPLAINED: launchShapes.runtime-small.measurement: the measurement changed but none of its measured inputs did",
    );
    expect(() => assertNoDriftErrors(compareManifests(before, kernelUpdate))).not.toThrow();
  });
});

describe("renderComparisonMarkdown", () => {
  it("renders a PR comment (snapshot reviewed in the diff)", async () => {
    const after = withEdit((m) => {
      m.tcbFloors.Milan.snp = 25;
      m.tcbFloors.Genoa = { bootloader: 10, tee: 0, snp: 23, microcode: 84 };
      m.allowedPolicyBits = "0x130000";
      m.chipAllowlist = ["c1".repeat(64)];
      m.artifacts["initrd-dev"].source = "generated dummy initrd | rebuilt";
      m.launchShapes["runtime-large"] = {
        inputs: { ...m.launchShapes["runtime-small"].inputs, vcpus: 16 },
        measurement: "5".repeat(96),
      };
      delete m.launchShapes["firmware-only"];
    }, kernelUpdate);
    await expect(renderComparisonMarkdown(before, after, compareManifests(before, after))).toMatchFileSnapshot(
      "./snapshots/diff.md",
    );
  });

  it("says so when nothing changed", () => {
    expect(renderComparisonMarkdown(before, before, compareManifests(before, before))).toBe(
      "### Golden manifest diff: dev `2026.11.0-dev` → `2026.11.0-dev`\n\nNo changes: the expected measurements are identical.\n",
    );
  });
});
