import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildManifest, type LaunchDigestCalculator } from "../../../measurements/manifest/build.js";
import { parseGoldenConfig } from "../../../measurements/manifest/golden-config.js";
import type { GoldenInputs } from "../../../measurements/manifest/inputs.js";
import { ManifestError, type ManifestProblem } from "../../../measurements/manifest/index.js";
import { snpLaunchDigest } from "../../../measurements/manifest/snp-digest.js";

const VECTORS = join(__dirname, "../../vectors/snp-measure");
const vectors = (
  JSON.parse(readFileSync(join(VECTORS, "vectors.json"), "utf8")) as {
    vectors: { id: string; expected: string | null }[];
  }
).vectors;
const expected = (prefix: string) => vectors.find((v) => v.id.startsWith(prefix))?.expected;
const bytes = (name: string) => readFileSync(join(VECTORS, "inputs", name));
const pin = (kind: string, data: Buffer, source = "test/vectors/snp-measure") => ({
  kind,
  sha256: createHash("sha256").update(data).digest("hex"),
  size: data.length,
  source,
});

const OVMF = bytes("OVMF.amdsev.fd");
const SVSM = bytes("svsm.bin");

/** A dedicated golden config whose shapes are the sev-snp-measure vectors (SNP modes). */
const vectorConfig = {
  release: "vectors-a",
  environment: "dev",
  createdAt: "2026-05-27T00:00:00Z",
  artifacts: {
    ovmf: { ...pin("firmware", OVMF), path: "inputs/OVMF.amdsev.fd" },
    kernel: pin("kernel", bytes("kernel-a.bin")),
    initrd: pin("initrd", bytes("initrd-a.img")),
    svsm: { ...pin("svsm", SVSM), path: "inputs/svsm.bin" },
  },
  launchShapes: [
    { name: "a01", firmware: "ovmf", vcpus: 1, vcpuType: "EPYC-v4" },
    {
      name: "a02",
      firmware: "ovmf",
      kernel: "kernel",
      initrd: "initrd",
      cmdline: "console=ttyS0 loglevel=7",
      vcpus: 4,
      vcpuType: "EPYC-v4",
    },
    {
      name: "a03",
      firmware: "ovmf",
      kernel: "kernel",
      initrd: "initrd",
      cmdline: "console=ttyS0 loglevel=7",
      vcpus: 2,
      vcpuType: "EPYC-Milan",
      guestFeatures: "0x21",
    },
    { name: "a04", firmware: "ovmf", kernel: "kernel", vcpus: 16, vcpuType: "EPYC-Genoa" },
    {
      name: "a07",
      firmware: "ovmf",
      kernel: "kernel",
      initrd: "initrd",
      cmdline: "console=ttyS0 loglevel=7",
      vcpus: 2,
      vmmType: "ec2",
    },
    { name: "a11", firmware: "ovmf", vcpus: 4, vmmType: "gce" },
    { name: "a12", mode: "snp:svsm", firmware: "ovmf", svsm: "svsm", varsSize: 540672, vcpus: 4, vcpuType: "EPYC-v4" },
  ],
};

function build(
  inputs: GoldenInputs,
  calculator: LaunchDigestCalculator = snpLaunchDigest,
  artifactBytes: ReadonlyMap<string, Uint8Array> = new Map([
    ["ovmf", OVMF],
    ["svsm", SVSM],
  ]),
) {
  return buildManifest(inputs, {
    createdAt: new Date("2026-11-02T10:00:00.999Z"),
    status: "pending",
    artifactBytes,
    calculator,
  });
}

function refusal(fn: () => unknown): { code: string; message: string; problems: readonly ManifestProblem[] } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    const e = error as ManifestError;
    return { code: e.code, message: e.message.split("\n")[0] as string, problems: e.problems };
  }
  throw new Error("expected a ManifestError");
}

describe("buildManifest with the SNP calculator", () => {
  const { inputs, paths, createdAt } = parseGoldenConfig(vectorConfig);
  const manifest = build(inputs);

  it.each(["a01", "a02", "a03", "a04", "a07", "a11", "a12"])(
    "shape %s carries the sev-snp-measure vector's digest",
    (id) => {
      expect(manifest.launchShapes[id]?.measurement).toBe(expected(id));
    },
  );

  it("records the resolved CPUID signature for QEMU shapes only", () => {
    expect(manifest.launchShapes.a02?.inputs.vcpuSig).toBe("0x800f12");
    expect(manifest.launchShapes.a03?.inputs).toMatchObject({
      vcpuType: "EPYC-Milan",
      vcpuSig: "0xa00f11",
      guestFeatures: "0x21",
    });
    expect(manifest.launchShapes.a07?.inputs.vcpuSig).toBeUndefined();
    expect(manifest.launchShapes.a12?.inputs).toMatchObject({ mode: "snp:svsm", svsm: "svsm", varsSize: 540672 });
  });

  it("takes paths and createdAt from the config; truncates createdAt to seconds", () => {
    expect(paths).toEqual({ ovmf: "inputs/OVMF.amdsev.fd", svsm: "inputs/svsm.bin" });
    expect(createdAt).toEqual(new Date("2026-05-27T00:00:00Z"));
    expect(manifest.createdAt).toBe("2026-11-02T10:00:00Z");
    expect(manifest.allowedPolicyBits).toBe("0x30000");
  });

  it("wraps a calculator refusal as MEASUREMENT_FAILED and forwards the cause", () => {
    const bad = parseGoldenConfig({
      ...vectorConfig,
      launchShapes: [{ name: "x", firmware: "ovmf", kernel: "kernel", vcpus: 1, vcpuType: "EPYC-v4" }],
    });
    let caught: unknown;
    try {
      build(bad.inputs, snpLaunchDigest, new Map([["ovmf", bytes("ovmf_OvmfX64_suffix.bin")]]));
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "ARTIFACT_MISMATCH" });
    const suffix = bytes("ovmf_OvmfX64_suffix.bin");
    const noHashes = parseGoldenConfig({
      ...vectorConfig,
      artifacts: { ...vectorConfig.artifacts, ovmf: pin("firmware", suffix) },
      launchShapes: [{ name: "x", firmware: "ovmf", kernel: "kernel", vcpus: 1, vcpuType: "EPYC-v4" }],
    });
    try {
      build(noHashes.inputs, snpLaunchDigest, new Map([["ovmf", suffix]]));
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "MEASUREMENT_FAILED" });
    expect((caught as ManifestError).cause).toMatchObject({ name: "SnpMeasurementError" });
  });
});

const stub: LaunchDigestCalculator = () => ({ measurement: "7".repeat(96), vcpuSig: 0x800f12 });
const baseInputs = parseGoldenConfig({ ...vectorConfig, launchShapes: vectorConfig.launchShapes.slice(0, 2) }).inputs;

describe("buildManifest rules (stand-in calculator)", () => {
  it("derives allowedPolicyBits from every shape and sorts allowlists", () => {
    const { inputs } = parseGoldenConfig({
      ...vectorConfig,
      launchShapes: [
        { name: "debuggable", firmware: "ovmf", vcpus: 1, vcpuType: "EPYC-v4", policy: { debug: true, abiMajor: 1 } },
        { name: "strict", firmware: "ovmf", vcpus: 1, vcpuType: "EPYC-v4", policy: { smt: false, singleSocket: true } },
      ],
      chipAllowlist: ["b".repeat(128), "a".repeat(128), "b".repeat(128)],
      hostData: ["c".repeat(64)],
    });
    const m = build(inputs, stub);
    expect(m.allowedPolicyBits).toBe("0x1b0000");
    expect(m.launchShapes.debuggable?.inputs.policy).toBe("0xb0100");
    expect(m.launchShapes.strict?.inputs.policy).toBe("0x120000");
    expect(m.chipAllowlist).toEqual(["a".repeat(128), "b".repeat(128)]);
    expect(m.hostData).toEqual(["c".repeat(64)]);
  });

  it.each<[string, GoldenInputs, Map<string, Buffer>, string, string, ManifestProblem[]]>([
    [
      "bytes that differ from the pin",
      baseInputs,
      new Map([["ovmf", Buffer.from("other")]]),
      "ARTIFACT_MISMATCH",
      "artifact bytes do not match their pins (2 problems):",
      [
        { path: "artifacts.ovmf.size", message: "pinned 4194304 bytes, the file has 5" },
        {
          path: "artifacts.ovmf.sha256",
          message: `pinned ${pin("firmware", OVMF).sha256}, the file has ${createHash("sha256").update("other").digest("hex")}`,
        },
      ],
    ],
    [
      "bytes for an unpinned artifact",
      baseInputs,
      new Map([
        ["ovmf", OVMF],
        ["extra", OVMF],
      ]),
      "ARTIFACT_MISMATCH",
      "artifact bytes do not match their pins (1 problem):",
      [{ path: "artifacts.extra", message: "bytes supplied for an artifact that is not pinned" }],
    ],
    [
      "a firmware without bytes",
      baseInputs,
      new Map(),
      "GOLDEN_CONFIG_INVALID",
      "cannot compute the golden manifest:",
      [
        {
          path: "launchShapes.a01.firmware",
          message: 'artifact "ovmf" needs a path: the launch digest hashes every firmware page',
        },
        {
          path: "launchShapes.a02.firmware",
          message: 'artifact "ovmf" needs a path: the launch digest hashes every firmware page',
        },
      ],
    ],
    [
      "duplicate shapes and bad references",
      {
        ...baseInputs,
        launchShapes: [
          { name: "s", firmware: "kernel", vcpus: 1, policy: 0x30000n },
          { name: "s", firmware: "ovmf", kernel: "nope", svsm: "initrd", vcpus: 1, policy: 0x30000n },
        ],
      },
      new Map([["ovmf", OVMF]]),
      "GOLDEN_CONFIG_INVALID",
      "cannot compute the golden manifest:",
      [
        { path: "launchShapes.s.firmware", message: 'artifact "kernel" is a kernel, expected a firmware' },
        { path: "launchShapes.s.name", message: 'duplicate launch shape "s"' },
        { path: "launchShapes.s.kernel", message: 'unknown artifact "nope"' },
        { path: "launchShapes.s.svsm", message: 'artifact "initrd" is a initrd, expected a svsm' },
      ],
    ],
    [
      "an SVSM without bytes",
      parseGoldenConfig({ ...vectorConfig, launchShapes: [vectorConfig.launchShapes[6]] }).inputs,
      new Map([["ovmf", OVMF]]),
      "GOLDEN_CONFIG_INVALID",
      "cannot compute the golden manifest:",
      [
        {
          path: "launchShapes.a12.svsm",
          message: 'artifact "svsm" needs a path: the launch digest hashes the SVSM image',
        },
      ],
    ],
    [
      "a calculator answer that is not a measurement",
      baseInputs,
      new Map([["ovmf", OVMF]]),
      "MANIFEST_INVALID",
      "invalid golden manifest (2 problems):",
      [
        {
          path: "launchShapes.a01.measurement",
          message: "must be a SHA-384 launch measurement: 96 lower-case hex characters",
        },
        {
          path: "launchShapes.a02.measurement",
          message: "must be a SHA-384 launch measurement: 96 lower-case hex characters",
        },
      ],
    ],
  ])("refuses %s", (_name, inputs, artifactBytes, code, message, problems) => {
    const calculator: LaunchDigestCalculator = code === "MANIFEST_INVALID" ? () => ({ measurement: "abc" }) : stub;
    expect(refusal(() => build(inputs, calculator, artifactBytes))).toEqual({ code, message, problems });
  });

  it("refuses an invalid Date (TypeError)", () => {
    expect(() =>
      buildManifest(baseInputs, {
        createdAt: new Date("x"),
        status: "active",
        artifactBytes: new Map([["ovmf", OVMF]]),
        calculator: stub,
      }),
    ).toThrow(new TypeError("createdAt must be a valid Date"));
  });
});

describe("parseGoldenConfig", () => {
  it("applies defaults (mode snp, features 0x1, QEMU, policy 0x30000, no floors)", () => {
    const { inputs } = parseGoldenConfig({
      release: "r",
      environment: "prod",
      artifacts: {},
      launchShapes: [{ name: "s", firmware: "f", vcpus: 1, vcpuType: "EPYC" }],
    });
    expect(inputs).toEqual({
      release: "r",
      environment: "prod",
      artifacts: {},
      tcbFloors: {},
      launchShapes: [
        {
          name: "s",
          mode: "snp",
          firmware: "f",
          vcpus: 1,
          vcpuType: "EPYC",
          guestFeatures: 1n,
          vmmType: "QEMU",
          policy: 0x30000n,
        },
      ],
    });
  });

  it("reports every problem with its path", () => {
    expect(
      refusal(() =>
        parseGoldenConfig({
          release: "r",
          environment: "qa",
          artifacts: { f: { kind: "firmware", sha256: 1, size: 1, source: "s", url: "x" } },
          launchShapes: [{ name: "s", firmware: "f", vcpus: 0, vcpuType: "EPYC-v9", vcpuSig: "0x1ffffffff" }],
        }),
      ),
    ).toEqual({
      code: "GOLDEN_CONFIG_INVALID",
      message: "invalid golden config (6 problems):",
      problems: [
        { path: "artifacts.f.sha256", message: "expected a string, got a number" },
        { path: "artifacts.f.url", message: "unknown key" },
        { path: "environment", message: "must be one of: dev, staging, prod" },
        { path: "launchShapes[0].vcpuSig", message: 'must be an unsigned integer up to 32 bits (e.g. "0x1")' },
        {
          path: "launchShapes[0].vcpuType",
          message: `must be one of: EPYC, EPYC-v1, EPYC-v2, EPYC-v3, EPYC-v4, EPYC-IBPB, EPYC-Rome, EPYC-Rome-v1, EPYC-Rome-v2, EPYC-Rome-v3, EPYC-Rome-v4, EPYC-Milan, EPYC-Milan-v1, EPYC-Milan-v2, EPYC-Genoa, EPYC-Genoa-v1, EPYC-Turin`,
        },
        { path: "launchShapes[0].vcpus", message: "must be >= 1" },
      ],
    });
  });
});
