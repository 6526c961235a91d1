import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SnpMeasurementError, computeMeasurement } from "../../../measurements/snp/index.js";
import { OVMF_AMDSEV, VECTORS, input, vectorOptions } from "./fixtures.js";

describe("sev-snp-measure 0.0.13 vectors through the library", () => {
  it("has all 13 vectors", () => {
    expect(VECTORS.map((v) => v.id.slice(0, 3))).toEqual([
      "a01",
      "a02",
      "a03",
      "a04",
      "a05",
      "a06",
      "a07",
      "a08",
      "a09",
      "a10",
      "a11",
      "a12",
      "a13",
    ]);
  });

  it.each(VECTORS.filter((v) => v.expected !== null).map((v) => [v.id, v] as const))("%s", (_id, v) => {
    const m = computeMeasurement(vectorOptions(v.args));
    expect(m.digest.toString("hex")).toBe(v.expected);
  });

  it("a13: a kernel with an OVMF lacking SNP_KERNEL_HASHES is refused with the reference tool's message", () => {
    const v = VECTORS.find((x) => x.id.startsWith("a13"));
    expect(v?.expected_stderr_contains).toBeDefined();
    let error: unknown;
    try {
      computeMeasurement(vectorOptions(v?.args ?? []));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SnpMeasurementError);
    expect((error as SnpMeasurementError).code).toBe("KERNEL_HASHES_SECTION_MISSING");
    expect(`Error: ${(error as Error).message}`).toContain(v?.expected_stderr_contains);
  });
});

describe("consistency relations", () => {
  const a = (prefix: string) => VECTORS.find((v) => v.id.startsWith(prefix))?.args ?? [];

  it("a06: seeding snp with snp:ovmf-hash of the same image equals the unseeded digest (a02)", () => {
    const seed = computeMeasurement({ mode: "snp:ovmf-hash", ovmf: OVMF_AMDSEV() }).digest;
    const seeded = computeMeasurement({ ...vectorOptions(a("a02")), ovmfHash: seed });
    expect(seeded.digest).toEqual(computeMeasurement(vectorOptions(a("a02"))).digest);
  });

  it("a10: sev without a kernel is the SHA-256 of the firmware file", () => {
    const m = computeMeasurement(vectorOptions(a("a10")));
    expect(m.digest).toEqual(createHash("sha256").update(OVMF_AMDSEV()).digest());
  });

  it("kernel and initrd given by SHA-256 (bytes or hex, any case) give the same digest as their bytes", () => {
    const base = vectorOptions(a("a02"));
    const kernel = createHash("sha256").update(input("inputs/kernel-a.bin")).digest();
    const initrd = createHash("sha256").update(input("inputs/initrd-a.img")).digest("hex").toUpperCase();
    const m = computeMeasurement({ ...base, kernel: { sha256: kernel }, initrd: { sha256: initrd } });
    expect(m.digest.toString("hex")).toBe(VECTORS[1]?.expected);
  });

  it("a08/a09: seves and sev digests by digest input", () => {
    for (const id of ["a08", "a09"]) {
      const opts = vectorOptions(a(id));
      const m = computeMeasurement({
        ...opts,
        kernel: { sha256: "125872c30caee2b396e6094cd09154c1d65d5ca85a0a9449267b189498f943d7" },
        initrd: { sha256: "298531d07803651e7d0e21b7291827fd1e7f7ec8f6f41331e0dfbd935ff2d06e" },
      });
      expect(m.digest.toString("hex")).toBe(VECTORS.find((v) => v.id.startsWith(id))?.expected);
    }
  });

  it("returns the measured VMSAs in vCPU order (BSP, then identical APs)", () => {
    const m = computeMeasurement(vectorOptions(a("a02")));
    expect(m.mode).toBe("snp");
    expect(m.vmsas).toHaveLength(4);
    const hashes = m.vmsas.map((p) => createHash("sha384").update(p).digest("hex"));
    expect(hashes).toEqual([
      "77920c4c629ff47e90c0e174fc1ad0eb6fa664f88cd4739488058a8c6cb1a77b3856f55378e9518d0da99452d51c553a",
      ...Array(3).fill(
        "8413b852790765a310d95867a8b00bfca3a802b5a80830044b45e253fe96222657e11e53fcf63eb0e0afd722385bf7b4",
      ),
    ]);
    expect(computeMeasurement(vectorOptions(a("a10"))).vmsas).toEqual([]);
  });

  it("reports the resolved vCPU signature (undefined when none was given, as for ec2)", () => {
    expect(computeMeasurement(vectorOptions(a("a03"))).vcpuSignature).toBe(0xa00f11n);
    expect(computeMeasurement(vectorOptions(a("a07"))).vcpuSignature).toBeUndefined();
  });
});
