/** VMSA layouts per VMM, vCPU signatures of every type, and the section rules per VMM, field by field. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BSP_RESET_EIP,
  LaunchDigest,
  VCPU_TYPES,
  buildSvsmVmsaPage,
  buildVmsaPage,
  computeMeasurement,
  cpuSignature,
  parseFirmware,
  vcpuIdentity,
  type VmmType,
} from "../../../measurements/snp/index.js";
import { AMDSEV_SUFFIX, input } from "./fixtures.js";
import { firmware } from "./synthetic.js";

/** Segment register at `at`: [selector, attributes, limit, base]. */
const seg = (p: Buffer, at: number) => [
  p.readUInt16LE(at),
  p.readUInt16LE(at + 2),
  p.readUInt32LE(at + 4),
  Number(p.readBigUInt64LE(at + 8)),
];
const q = (p: Buffer, at: number) => p.readBigUInt64LE(at);

/** Every non-zero byte range of a page, to prove nothing else is set. */
function nonZeroOffsets(p: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.length; i++) if (p[i] !== 0) out.push(i);
  return out;
}

describe("VMSA pages", () => {
  const vmsa = (vmmType: VmmType, eip = BSP_RESET_EIP) =>
    buildVmsaPage({ eip, sevFeatures: 0x21n, vcpuSignature: 0xa00f11n, vmmType });

  it("QEMU BSP: real-mode reset state, signature in RDX, MXCSR and FCW reset values", () => {
    const p = vmsa("QEMU");
    expect([0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90].map((at) => seg(p, at))).toEqual([
      [0, 0x93, 0xffff, 0],
      [0xf000, 0x9b, 0xffff, 0xffff0000],
      [0, 0x93, 0xffff, 0],
      [0, 0x93, 0xffff, 0],
      [0, 0x93, 0xffff, 0],
      [0, 0x93, 0xffff, 0],
      [0, 0, 0xffff, 0],
      [0, 0x82, 0xffff, 0],
      [0, 0, 0xffff, 0],
      [0, 0x8b, 0xffff, 0],
    ]);
    expect([0xd0, 0x148, 0x158, 0x160, 0x168, 0x170, 0x178, 0x268, 0x310, 0x3b0, 0x3e8].map((at) => q(p, at))).toEqual([
      0x1000n,
      0x40n,
      0x10n,
      0x400n,
      0xffff0ff0n,
      0x2n,
      0xfff0n,
      0x0007040600070406n,
      0xa00f11n,
      0x21n,
      1n,
    ]);
    expect(p.readUInt32LE(0x408)).toBe(0x1f80);
    expect(p.readUInt16LE(0x410)).toBe(0x037f);
    expect(Math.max(...nonZeroOffsets(p))).toBe(0x411);
  });

  it("APs start at the reset block address: CS base eip & 0xFFFF0000, RIP eip & 0xFFFF", () => {
    const p = vmsa("QEMU", 0x80b004);
    expect(seg(p, 0x10)).toEqual([0xf000, 0x9b, 0xffff, 0x800000]);
    expect(q(p, 0x178)).toBe(0xb004n);
  });

  it("ec2: BSP CS 0x9A (APs 0x9B), SS 0x92, TR 0x83, RDX 0x600, MXCSR and FCW 0", () => {
    const bsp = vmsa("ec2");
    const ap = vmsa("ec2", 0x80b004);
    expect([seg(bsp, 0x10)[1], seg(ap, 0x10)[1], seg(bsp, 0x20)[1], seg(ap, 0x20)[1], seg(bsp, 0x90)[1]]).toEqual([
      0x9a, 0x9b, 0x92, 0x92, 0x83,
    ]);
    expect([q(bsp, 0x310), q(bsp, 0x268), q(bsp, 0x3b0)]).toEqual([0x600n, 0x0007040600070406n, 0x21n]);
    expect([bsp.readUInt32LE(0x408), bsp.readUInt16LE(0x410)]).toEqual([0, 0]);
  });

  it("gce: QEMU segment attributes, G_PAT 0x70106, RDX 0x600, MXCSR and FCW 0", () => {
    const p = vmsa("gce");
    const qemu = vmsa("QEMU");
    for (const at of [0x00, 0x10, 0x20, 0x90]) expect(seg(p, at)).toEqual(seg(qemu, at));
    expect([q(p, 0x268), q(p, 0x310)]).toEqual([0x70106n, 0x600n]);
    expect([p.readUInt32LE(0x408), p.readUInt16LE(0x410)]).toEqual([0, 0]);
  });

  it("SVSM: flat 32-bit segments, CR0 0x11, RIP = full entry address, SEV_FEATURES 1, FCW left at 0", () => {
    const p = buildSvsmVmsaPage(0xffb2_1000, 0x800f12n);
    expect([0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90].map((at) => seg(p, at))).toEqual([
      [0x10, 0xc93, 0xffffffff, 0],
      [0x08, 0xc9b, 0xffffffff, 0],
      [0x10, 0xc93, 0xffffffff, 0],
      [0x10, 0xc93, 0xffffffff, 0],
      [0x10, 0xc93, 0xffffffff, 0],
      [0, 0x93, 0xffff, 0],
      [0, 0, 0xffff, 0],
      [0, 0x82, 0xffff, 0],
      [0, 0, 0xffff, 0],
      [0, 0x8b, 0xffff, 0],
    ]);
    expect([q(p, 0x158), q(p, 0x178), q(p, 0x268), q(p, 0x310), q(p, 0x3b0)]).toEqual([
      0x11n,
      0xffb21000n,
      0x0007040600070406n,
      0x800f12n,
      1n,
    ]);
    expect([p.readUInt32LE(0x408), p.readUInt16LE(0x410)]).toEqual([0x1f80, 0]);
  });
});

describe("vCPU signatures of every type", () => {
  it.each(VCPU_TYPES.map((t) => [t] as const))("%s", (type) => {
    const expected =
      type === "EPYC-Turin"
        ? 0xb00f00
        : type.startsWith("EPYC-Genoa")
          ? 0xa10f10
          : type.startsWith("EPYC-Milan")
            ? 0xa00f11
            : type.startsWith("EPYC-Rome")
              ? 0x830f10
              : 0x800f12;
    expect(cpuSignature(vcpuIdentity(type))).toBe(expected);
    const page = computeMeasurement({ mode: "snp", ovmf: AMDSEV_SUFFIX(), vcpus: 1, vcpuType: type }).vmsas[0];
    expect(page?.readUInt32LE(0x310)).toBe(expected);
  });

  it("an explicit family/model/stepping equals the named type", () => {
    const named = computeMeasurement({ mode: "snp", ovmf: AMDSEV_SUFFIX(), vcpus: 2, vcpuType: "EPYC-Genoa" }).digest;
    expect(
      computeMeasurement({
        mode: "snp",
        ovmf: AMDSEV_SUFFIX(),
        vcpus: 2,
        vcpuSignature: { family: 25, model: 17, stepping: 0 },
      }).digest,
    ).toEqual(named);
    expect(
      computeMeasurement({ mode: "snp", ovmf: AMDSEV_SUFFIX(), vcpus: 2, vcpuSignature: 0xa10f10n, vcpuType: "EPYC" })
        .digest,
    ).toEqual(named);
  });
});

describe("guest features", () => {
  const base = { ovmf: AMDSEV_SUFFIX(), vcpus: 2, vcpuType: "EPYC-v4" } as const;
  it("are copied into every VMSA in snp mode", () => {
    const m = computeMeasurement({ ...base, mode: "snp", guestFeatures: 0x8021n });
    expect(m.vmsas.map((p) => q(p, 0x3b0))).toEqual([0x8021n, 0x8021n]);
    expect(m.digest).not.toEqual(computeMeasurement({ ...base, mode: "snp" }).digest);
  });

  it("are ignored by seves (0) and snp:svsm (0x1)", () => {
    expect(computeMeasurement({ ...base, mode: "seves", guestFeatures: 0x21 }).digest).toEqual(
      computeMeasurement({ ...base, mode: "seves" }).digest,
    );
    const svsm = { ...base, mode: "snp:svsm", svsm: input("inputs/svsm.bin"), varsSize: 540672 } as const;
    expect(computeMeasurement({ ...svsm, guestFeatures: 0x21 }).digest).toEqual(computeMeasurement(svsm).digest);
    expect(computeMeasurement({ ...base, mode: "seves" }).vmsas.map((p) => q(p, 0x3b0))).toEqual([0n, 0n]);
  });
});

describe("section rules per VMM (replayed with the accumulator)", () => {
  const ovmf = firmware();
  const fw = parseFirmware(ovmf);
  const vmsaHash = (vmmType: VmmType, eip: number) =>
    buildVmsaPage({ eip, sevFeatures: 1n, vcpuSignature: 0x800f12n, vmmType });
  const expected = (vmmType: VmmType, steps: (ld: LaunchDigest) => void) => {
    const ld = new LaunchDigest().normalPages(0xfffff000, ovmf);
    steps(ld);
    return ld.vmsaPage(vmsaHash(vmmType, BSP_RESET_EIP)).vmsaPage(vmsaHash(vmmType, 0x80b004)).digest();
  };
  const measure = (vmmType: VmmType) =>
    computeMeasurement({ mode: "snp", ovmf, vcpus: 2, vcpuType: "EPYC-v4", vmmType }).digest;

  it("uses the synthetic list SEC_MEM, SECRETS, CPUID, KERNEL_HASHES", () => {
    expect(fw.sevMetadata?.map((s) => s.type)).toEqual([1, 2, 3, 0x10]);
  });

  it("QEMU: ZERO, SECRETS, CPUID in list order, kernel-hashes area as ZERO without a kernel", () => {
    expect(measure("QEMU")).toEqual(
      expected("QEMU", (ld) =>
        ld.zeroPages(0x800000, 0x9000).secretsPage(0x80d000).cpuidPage(0x80e000).zeroPages(0x810000, 0x1000),
      ),
    );
  });

  it("ec2: the CPUID page goes after every other section", () => {
    expect(measure("ec2")).toEqual(
      expected("ec2", (ld) =>
        ld.zeroPages(0x800000, 0x9000).secretsPage(0x80d000).zeroPages(0x810000, 0x1000).cpuidPage(0x80e000),
      ),
    );
  });

  it("gce: SNP_SEC_MEM pages are UNMEASURED", () => {
    expect(measure("gce")).toEqual(
      expected("gce", (ld) =>
        ld.unmeasuredPages(0x800000, 0x9000).secretsPage(0x80d000).cpuidPage(0x80e000).zeroPages(0x810000, 0x1000),
      ),
    );
  });

  it("SECRETS and CPUID add one record whatever their size", () => {
    const big = firmware({
      sections: [
        { gpa: 0x80d000, size: 0x3000, type: 2 },
        { gpa: 0x80e000, size: 0x2000, type: 3 },
      ],
    });
    const small = firmware({
      sections: [
        { gpa: 0x80d000, size: 0x1000, type: 2 },
        { gpa: 0x80e000, size: 0x1000, type: 3 },
      ],
    });
    const seeded = (o: Buffer) =>
      computeMeasurement({ mode: "snp", ovmf: o, vcpus: 1, vcpuType: "EPYC", ovmfHash: Buffer.alloc(48) }).digest;
    expect(seeded(big)).toEqual(seeded(small));
  });

  it("sev mode: SHA-256 of firmware then the padded table; seves adds the VMSAs", () => {
    const kernel = Buffer.from("kernel");
    const sev = computeMeasurement({ mode: "sev", ovmf, kernel }).digest;
    const seves = computeMeasurement({ mode: "seves", ovmf, vcpus: 2, vcpuType: "EPYC", kernel });
    const h = createHash("sha256").update(ovmf);
    const hashes = {
      kernel: createHash("sha256").update(kernel).digest(),
      initrd: createHash("sha256").digest(),
      cmdline: createHash("sha256")
        .update(Buffer.from([0]))
        .digest(),
    };
    const padded = Buffer.concat([
      Buffer.from("06d63894224fc94cb479a793d411fd21a800", "hex"),
      Buffer.from("d82dd09720bd944caa78e7714d36ab2a3200", "hex"),
      hashes.cmdline,
      Buffer.from("31f7ba442f3ad74b9af141e29169781d3200", "hex"),
      hashes.initrd,
      Buffer.from("3794e74dd2ab7f42b835d5b172d2045b3200", "hex"),
      hashes.kernel,
      Buffer.alloc(8),
    ]);
    expect(sev).toEqual(createHash("sha256").update(ovmf).update(padded).digest());
    expect(seves.digest).toEqual(
      h
        .update(padded)
        .update(seves.vmsas[0] as Buffer)
        .update(seves.vmsas[1] as Buffer)
        .digest(),
    );
  });
});
