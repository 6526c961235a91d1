import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BSP_RESET_EIP,
  FOOTER_GUIDS,
  LaunchDigest,
  PAGE_TYPES,
  VMSA_GPA,
  buildVmsaPage,
  cmdlineSha256,
  parseFirmware,
  sevHashesPage,
  sevHashesTable,
} from "../../../measurements/snp/index.js";
import { OVMF_AMDSEV, input } from "./fixtures.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest();
const sha384 = (b: Uint8Array) => createHash("sha384").update(b).digest();

/** PAGE_INFO built field by field, independently of the accumulator's reused buffer. */
function pageInfo(ld: Buffer, contents: Buffer, type: number, gpa: bigint): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16LE(0x70, 0);
  header[2] = type;
  header.writeBigUInt64LE(gpa, 8);
  return Buffer.concat([ld, contents, header]);
}

describe("LaunchDigest accumulator", () => {
  it("updates LD := SHA-384(PAGE_INFO) for each page type", () => {
    const zero = Buffer.alloc(48);
    const page = Buffer.alloc(4096, 0xab);
    let expected = zero;
    const ld = new LaunchDigest();
    expect(ld.digest()).toEqual(zero);
    const step = (type: number, gpa: bigint, contents: Buffer) => {
      expected = sha384(pageInfo(expected, contents, type, gpa));
    };
    ld.normalPages(0x1000, page);
    step(PAGE_TYPES.normal, 0x1000n, sha384(page));
    ld.vmsaPage(page);
    step(PAGE_TYPES.vmsa, 0xfffffffff000n, sha384(page));
    ld.zeroPages(0x2000, 0x2000);
    step(PAGE_TYPES.zero, 0x2000n, zero);
    step(PAGE_TYPES.zero, 0x3000n, zero);
    ld.unmeasuredPages(0x4000, 0x1000);
    step(PAGE_TYPES.unmeasured, 0x4000n, zero);
    ld.secretsPage(0x5000);
    step(PAGE_TYPES.secrets, 0x5000n, zero);
    ld.cpuidPage(0x6000);
    step(PAGE_TYPES.cpuid, 0x6000n, zero);
    ld.vmsaPages(page, 2);
    step(PAGE_TYPES.vmsa, 0xfffffffff000n, sha384(page));
    step(PAGE_TYPES.vmsa, 0xfffffffff000n, sha384(page));
    expect(ld.digest()).toEqual(expected);
    expect(VMSA_GPA).toBe(0xfffffffff000);
  });

  it("starts from a seed, and zero-length ranges add no record", () => {
    const seed = Buffer.alloc(48, 7);
    expect(new LaunchDigest(seed).zeroPages(0, 0).unmeasuredPages(0x1000, 0).digest()).toEqual(seed);
  });

  it("digest() returns a copy", () => {
    const ld = new LaunchDigest();
    ld.digest().fill(1);
    expect(ld.digest()).toEqual(Buffer.alloc(48));
  });

  it.each([
    ["unaligned GPA", (ld: LaunchDigest) => ld.zeroPages(0x800, 0x1000)],
    ["partial page", (ld: LaunchDigest) => ld.normalPages(0, Buffer.alloc(100))],
    ["negative GPA", (ld: LaunchDigest) => ld.secretsPage(-4096)],
    ["short VMSA", (ld: LaunchDigest) => ld.vmsaPage(Buffer.alloc(4095))],
  ])("refuses misuse (%s) with RangeError", (_name, call) => {
    expect(() => call(new LaunchDigest())).toThrow(RangeError);
  });

  it("refuses a seed that is not 48 bytes with TypeError", () => {
    expect(() => new LaunchDigest(Buffer.alloc(32))).toThrow(TypeError);
  });
});

describe("a02 debug trace (test/vectors/snp-measure/README.md)", () => {
  it("reproduces every intermediate digest", () => {
    const ovmf = OVMF_AMDSEV();
    const fw = parseFirmware(ovmf);
    expect(fw.sevMetadata).toEqual([
      { gpa: 0x800000, size: 0x9000, type: 1 },
      { gpa: 0x80a000, size: 0x3000, type: 1 },
      { gpa: 0x80d000, size: 0x1000, type: 2 },
      { gpa: 0x80e000, size: 0x1000, type: 3 },
      { gpa: 0x80f000, size: 0x1000, type: 4 },
      { gpa: 0x811000, size: 0x1f000, type: 1 },
      { gpa: 0x810000, size: 0x1000, type: 0x10 },
    ]);
    expect(fw.resetEip).toBe(0x80b004);
    expect(fw.hashesTable).toEqual({ gpa: 0x810c00, size: 0x400 });
    expect(fw.entries.has(FOOTER_GUIDS.sevMetadata)).toBe(true);

    const table = sevHashesTable({
      kernel: sha256(input("inputs/kernel-a.bin")),
      initrd: sha256(input("inputs/initrd-a.img")),
      cmdline: cmdlineSha256("console=ttyS0 loglevel=7"),
    });
    expect(table.subarray(0, 18).toString("hex")).toBe("06d63894224fc94cb479a793d411fd21a800");
    expect(table.subarray(18, 36).toString("hex")).toBe("d82dd09720bd944caa78e7714d36ab2a3200");
    expect(table.subarray(68, 86).toString("hex")).toBe("31f7ba442f3ad74b9af141e29169781d3200");
    expect(table.subarray(86, 118).toString("hex")).toBe(
      "298531d07803651e7d0e21b7291827fd1e7f7ec8f6f41331e0dfbd935ff2d06e",
    );
    expect(table.subarray(118, 136).toString("hex")).toBe("3794e74dd2ab7f42b835d5b172d2045b3200");
    expect(table.subarray(136, 168).toString("hex")).toBe(
      "125872c30caee2b396e6094cd09154c1d65d5ca85a0a9449267b189498f943d7",
    );
    expect(table.subarray(168)).toEqual(Buffer.alloc(8));

    const ld = new LaunchDigest();
    const prefix = () => ld.digest().toString("hex").slice(0, 32);
    ld.normalPages(0xffc00000, ovmf);
    expect(ld.digest().toString("hex")).toBe(
      "9d0dd8be18c86e3fe3bf0038ed75ebf5340bee69fd2632c8ff9409964575960ae1f7e84be387d2e3467bc3508d1e4806",
    );
    ld.zeroPages(0x800000, 0x9000);
    expect(prefix()).toBe("9cbd59c713518d50c986aac8db659bb9");
    ld.zeroPages(0x80a000, 0x3000);
    expect(prefix()).toBe("c0f1d25230f7591f8601c0466f9b21ad");
    ld.secretsPage(0x80d000);
    expect(prefix()).toBe("c8904ca5466fb1d6edaa0a66ce58fb77");
    ld.cpuidPage(0x80e000);
    expect(prefix()).toBe("af6b338251f48b6a59d1cd2ee92eb475");
    ld.zeroPages(0x80f000, 0x1000);
    expect(prefix()).toBe("bb4c3d11241155a4cae9363779a4c5e5");
    ld.zeroPages(0x811000, 0x1f000);
    expect(prefix()).toBe("2f44f8584a7c2a7e78da84de46a02138");
    ld.normalPages(0x810000, sevHashesPage(table, 0xc00));
    expect(prefix()).toBe("a20b9a569feaf244a15d50d5aa4c914f");

    const bsp = buildVmsaPage({ eip: BSP_RESET_EIP, sevFeatures: 1n, vcpuSignature: 0x800f12n, vmmType: "QEMU" });
    const ap = buildVmsaPage({ eip: 0x80b004, sevFeatures: 1n, vcpuSignature: 0x800f12n, vmmType: "QEMU" });
    expect(sha384(bsp).toString("hex")).toBe(
      "77920c4c629ff47e90c0e174fc1ad0eb6fa664f88cd4739488058a8c6cb1a77b3856f55378e9518d0da99452d51c553a",
    );
    expect(sha384(ap).toString("hex")).toBe(
      "8413b852790765a310d95867a8b00bfca3a802b5a80830044b45e253fe96222657e11e53fcf63eb0e0afd722385bf7b4",
    );
    ld.vmsaPage(bsp);
    expect(prefix()).toBe("80dad5844e36558dddfc1286e35e043e");
    ld.vmsaPage(ap);
    expect(prefix()).toBe("0a2ef86e54839dcccb2d2a94c1ce4c85");
    ld.vmsaPage(ap);
    expect(prefix()).toBe("09b62a3745987616c4b6bab9d9cb1664");
    ld.vmsaPage(ap);
    expect(ld.digest().toString("hex")).toBe(
      "39765afea1c9ad1005dab3f0967dd75d3f3371c725ede3b451d41536cdbae3959894d4da0e9c781814389a23e42158c0",
    );
  });
});
