import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  FOOTER_GUIDS,
  SNP_MEASUREMENT_ERROR_CODES,
  SnpMeasurementError,
  computeMeasurement,
  cpuSignature,
  parseFirmware,
  type MeasurementOptions,
  type SnpMeasurementErrorCode,
} from "../../../measurements/snp/index.js";
import { AMDSEV_SUFFIX, OVMFX64_SUFFIX, input } from "./fixtures.js";
import { entry, firmware, u32 } from "./synthetic.js";

const K = new Uint8Array(0); // an empty kernel is a valid kernel (upstream uses /dev/null)
const snp = (extra: Partial<MeasurementOptions> = {}): MeasurementOptions => ({
  mode: "snp",
  ovmf: firmware(),
  vcpus: 2,
  vcpuType: "EPYC-v4",
  ...extra,
});
const svsm = (extra: Partial<MeasurementOptions> = {}): MeasurementOptions => ({
  mode: "snp:svsm",
  ovmf: AMDSEV_SUFFIX(),
  svsm: firmware({ svsmEntry: 0x1000 }),
  varsSize: 0x1000,
  vcpus: 1,
  vcpuType: "EPYC-v4",
  ...extra,
});

/** [code, case name, options, field] — every code appears at least once. */
const CASES: [SnpMeasurementErrorCode, string, MeasurementOptions, string][] = [
  ["MODE_UNKNOWN", "unknown mode", snp({ mode: "snp:tdx" as never }), "mode"],
  ["VMM_TYPE_UNKNOWN", "vmm type in the wrong case", snp({ vmmType: "qemu" as never }), "vmmType"],
  ["VMM_TYPE_UNSUPPORTED", "snp:svsm with ec2", svsm({ vmmType: "ec2" }), "vmmType"],
  ["VCPUS_INVALID", "zero vCPUs (the reference tool measures no VMSA)", snp({ vcpus: 0 }), "vcpus"],
  ["VCPUS_INVALID", "vCPUs missing", snp({ vcpus: undefined }), "vcpus"],
  ["VCPUS_INVALID", "fractional vCPUs", snp({ vcpus: 1.5 }), "vcpus"],
  ["VCPUS_INVALID", "too many vCPUs", { mode: "seves", ovmf: firmware(), vcpus: 65537, vcpuType: "EPYC" }, "vcpus"],
  ["VCPU_TYPE_UNKNOWN", "unknown vCPU type", snp({ vcpuType: "EPYC-Zen9" as never }), "vcpuType"],
  ["VCPU_TYPE_UNKNOWN", "vCPU type in the wrong case", snp({ vcpuType: "epyc-v4" as never }), "vcpuType"],
  ["VCPU_SIGNATURE_MISSING", "QEMU snp without a vCPU type or signature", snp({ vcpuType: undefined }), "vcpuType"],
  [
    "VCPU_SIGNATURE_MISSING",
    "QEMU seves without a vCPU type or signature",
    { mode: "seves", ovmf: firmware(), vcpus: 1 },
    "vcpuType",
  ],
  ["VCPU_SIGNATURE_MISSING", "snp:svsm without a vCPU type or signature", svsm({ vcpuType: undefined }), "vcpuType"],
  ["VCPU_SIGNATURE_INVALID", "negative signature", snp({ vcpuSignature: -1 }), "vcpuSignature"],
  ["VCPU_SIGNATURE_INVALID", "signature of 2^64", snp({ vcpuSignature: 1n << 64n }), "vcpuSignature"],
  [
    "VCPU_SIGNATURE_INVALID",
    "family out of range",
    snp({ vcpuSignature: { family: 271, model: 0, stepping: 0 } }),
    "vcpuSignature",
  ],
  [
    "VCPU_SIGNATURE_INVALID",
    "stepping out of range",
    snp({ vcpuSignature: { family: 25, model: 1, stepping: 16 } }),
    "vcpuSignature",
  ],
  ["GUEST_FEATURES_INVALID", "negative guest features", snp({ guestFeatures: -1n }), "guestFeatures"],
  ["GUEST_FEATURES_INVALID", "guest features above 64 bits", snp({ guestFeatures: 1n << 64n }), "guestFeatures"],
  ["OVMF_HASH_INVALID", "seed of 47 bytes", snp({ ovmfHash: Buffer.alloc(47) }), "ovmfHash"],
  ["OVMF_HASH_INVALID", "seed not hex", snp({ ovmfHash: "zz".repeat(48) }), "ovmfHash"],
  [
    "OPTION_NOT_APPLICABLE",
    "seed outside snp mode",
    { mode: "seves", ovmf: firmware(), vcpus: 1, vcpuType: "EPYC", ovmfHash: Buffer.alloc(48) },
    "ovmfHash",
  ],
  ["OPTION_NOT_APPLICABLE", "kernel in snp:svsm (the reference tool ignores it)", svsm({ kernel: K }), "kernel"],
  ["KERNEL_REQUIRED", "initrd without kernel", snp({ initrd: K }), "initrd"],
  ["KERNEL_REQUIRED", "cmdline without kernel", { mode: "sev", ovmf: firmware(), cmdline: "quiet" }, "cmdline"],
  ["DIGEST_INVALID", "kernel digest too short", snp({ kernel: { sha256: "abcd" } }), "kernel.sha256"],
  [
    "DIGEST_INVALID",
    "initrd digest of 31 bytes",
    snp({ kernel: K, initrd: { sha256: Buffer.alloc(31) } }),
    "initrd.sha256",
  ],
  ["CMDLINE_INVALID", "NUL inside the cmdline", snp({ kernel: K, cmdline: "a\0b" }), "cmdline"],
  ["CMDLINE_INVALID", "unpaired surrogate in the cmdline", snp({ kernel: K, cmdline: "a\uD800" }), "cmdline"],
  ["FIRMWARE_SIZE_INVALID", "firmware not a multiple of 4096", snp({ ovmf: Buffer.alloc(4095) }), "ovmf"],
  ["FIRMWARE_SIZE_INVALID", "empty firmware", { mode: "sev", ovmf: Buffer.alloc(0) }, "ovmf"],
  ["FIRMWARE_SIZE_INVALID", "svsm image not a multiple of 4096", svsm({ svsm: Buffer.alloc(5000) }), "svsm"],
  ["FIRMWARE_PLACEMENT_INVALID", "SVSM pushed below GPA 0 by the vars size", svsm({ varsSize: 0xffff_f000 }), "svsm"],
  ["FOOTER_TABLE_MISSING", "snp with an image without footer table", snp({ ovmf: Buffer.alloc(8192) }), "ovmf"],
  [
    "FOOTER_TABLE_MISSING",
    "seves with an image without footer table",
    { mode: "seves", ovmf: Buffer.alloc(4096), vcpus: 1, vcpuType: "EPYC" },
    "ovmf",
  ],
  ["FOOTER_TABLE_INVALID", "footer length below 18", snp({ ovmf: firmware({ footerLength: 10 }) }), "ovmf"],
  [
    "FOOTER_TABLE_INVALID",
    "footer length beyond the image start",
    snp({ ovmf: firmware({ footerLength: 0xffff }) }),
    "ovmf",
  ],
  [
    "FOOTER_TABLE_INVALID",
    "entry length below 18",
    snp({ ovmf: firmware({ rawEntries: [entry(FOOTER_GUIDS.svsmInfo, Buffer.alloc(4), 5)] }) }),
    "ovmf",
  ],
  [
    "FOOTER_TABLE_INVALID",
    "reset block payload of 2 bytes",
    snp({ ovmf: firmware({ resetEip: null, rawEntries: [entry(FOOTER_GUIDS.sevEsResetBlock, Buffer.alloc(2))] }) }),
    "ovmf",
  ],
  [
    "SEV_METADATA_MISSING",
    "snp with a footer table but no SEV metadata (QEMU refuses to launch it)",
    snp({ ovmf: firmware({ sections: null }) }),
    "ovmf",
  ],
  [
    "SEV_METADATA_MISSING",
    "snp:svsm with an SVSM image without SEV metadata",
    svsm({ svsm: firmware({ sections: null, svsmEntry: 0 }) }),
    "svsm",
  ],
  ["SEV_METADATA_INVALID", "metadata offset 0", snp({ ovmf: firmware({ asev: { offsetFromEnd: 0 } }) }), "ovmf"],
  [
    "SEV_METADATA_INVALID",
    "metadata offset beyond the image",
    snp({ ovmf: firmware({ asev: { offsetFromEnd: 8192 } }) }),
    "ovmf",
  ],
  [
    "SEV_METADATA_INVALID",
    "more sections than the header length holds",
    snp({ ovmf: firmware({ asev: { count: 5 } }) }),
    "ovmf",
  ],
  ["SEV_METADATA_SIGNATURE", "bad ASEV signature", snp({ ovmf: firmware({ asev: { signature: "BSEV" } }) }), "ovmf"],
  [
    "SEV_METADATA_SIGNATURE",
    "bad ASEV signature, even in sev mode (as upstream)",
    { mode: "sev", ovmf: firmware({ asev: { signature: "asev" } }) },
    "ovmf",
  ],
  ["SEV_METADATA_VERSION", "ASEV version 2", snp({ ovmf: firmware({ asev: { version: 2 } }) }), "ovmf"],
  [
    "SECTION_TYPE_UNKNOWN",
    "section type 5",
    snp({ ovmf: firmware({ sections: [{ gpa: 0x800000, size: 0x1000, type: 5 }] }) }),
    "ovmf.sevMetadata[0]",
  ],
  [
    "SECTION_UNALIGNED",
    "section size not page-aligned",
    snp({ ovmf: firmware({ sections: [{ gpa: 0x800000, size: 0x800, type: 1 }] }) }),
    "ovmf.sevMetadata[0]",
  ],
  [
    "SECTION_UNALIGNED",
    "section GPA not page-aligned",
    snp({ ovmf: firmware({ sections: [{ gpa: 0x80d100, size: 0x1000, type: 2 }] }) }),
    "ovmf.sevMetadata[0]",
  ],
  [
    "RESET_BLOCK_MISSING",
    "snp without an SEV-ES reset block (even for one vCPU)",
    snp({ vcpus: 1, ovmf: firmware({ resetEip: null }) }),
    "ovmf",
  ],
  [
    "RESET_BLOCK_MISSING",
    "seves without an SEV-ES reset block",
    { mode: "seves", ovmf: firmware({ resetEip: null }), vcpus: 1, vcpuType: "EPYC" },
    "ovmf",
  ],
  ["RESET_BLOCK_MISSING", "reset address 0 with APs", snp({ ovmf: firmware({ resetEip: 0 }) }), "ovmf"],
  [
    "KERNEL_HASHES_SECTION_MISSING",
    "snp + kernel with an OvmfX64 image",
    snp({ ovmf: OVMFX64_SUFFIX(), kernel: K }),
    "ovmf",
  ],
  [
    "KERNEL_HASHES_SECTION_SIZE",
    "SNP_KERNEL_HASHES section of two pages",
    snp({ kernel: K, ovmf: firmware({ sections: [{ gpa: 0x810000, size: 0x2000, type: 0x10 }] }) }),
    "ovmf",
  ],
  [
    "KERNEL_HASHES_SECTION_SIZE",
    "a second SNP_KERNEL_HASHES section of two pages",
    snp({
      kernel: K,
      ovmf: firmware({
        sections: [
          { gpa: 0x810000, size: 0x1000, type: 0x10 },
          { gpa: 0x820000, size: 0x2000, type: 0x10 },
        ],
      }),
    }),
    "ovmf",
  ],
  [
    "KERNEL_HASHES_SECTION_SIZE",
    "SNP_KERNEL_HASHES section of zero bytes",
    snp({ kernel: K, ovmf: firmware({ sections: [{ gpa: 0, size: 0, type: 0x10 }] }) }),
    "ovmf",
  ],
  [
    "HASHES_TABLE_MISSING",
    "snp + kernel, section present but no hashes-table entry",
    snp({ kernel: K, ovmf: firmware({ hashesTable: null }) }),
    "ovmf",
  ],
  [
    "HASHES_TABLE_MISSING",
    "snp + kernel, hashes table at GPA 0",
    snp({ kernel: K, ovmf: firmware({ hashesTable: u32(0, 0x400) }) }),
    "ovmf",
  ],
  [
    "HASHES_TABLE_MISSING",
    "sev + kernel with an OvmfX64 image",
    { mode: "sev", ovmf: OVMFX64_SUFFIX(), kernel: K },
    "ovmf",
  ],
  [
    "HASHES_TABLE_MISSING",
    "sev + kernel without footer table",
    { mode: "sev", ovmf: Buffer.alloc(4096), kernel: K },
    "ovmf",
  ],
  [
    "HASHES_TABLE_INVALID",
    "hashes table area smaller than the table",
    snp({ kernel: K, ovmf: firmware({ hashesTable: u32(0x810c00, 0x80) }) }),
    "ovmf",
  ],
  [
    "HASHES_TABLE_INVALID",
    "seves: hashes table area smaller than the table",
    { mode: "seves", ovmf: firmware({ hashesTable: u32(0x810c00, 0x80) }), vcpus: 1, vcpuType: "EPYC", kernel: K },
    "ovmf",
  ],
  [
    "HASHES_TABLE_INVALID",
    "hashes table crossing its page",
    snp({ kernel: K, ovmf: firmware({ hashesTable: u32(0x810f80, 0x400) }) }),
    "ovmf",
  ],
  ["SVSM_MISSING", "snp:svsm without SVSM image", svsm({ svsm: undefined }), "svsm"],
  ["SVSM_INFO_MISSING", "SVSM image without SVSM info entry", svsm({ svsm: AMDSEV_SUFFIX() }), "svsm"],
  ["VARS_SIZE_MISSING", "snp:svsm without vars size", svsm({ varsSize: undefined }), "varsSize"],
  ["VARS_SIZE_INVALID", "vars size not page-aligned", svsm({ varsSize: 100 }), "varsSize"],
  ["VARS_SIZE_INVALID", "negative vars size", svsm({ varsSize: -4096 }), "varsSize"],
];

describe("SnpMeasurementError codes", () => {
  it.each(CASES)("%s: %s", (code, _name, options, field) => {
    let error: unknown;
    try {
      computeMeasurement(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SnpMeasurementError);
    expect({ code: (error as SnpMeasurementError).code, field: (error as SnpMeasurementError).field }).toEqual({
      code,
      field,
    });
  });

  it("every code in errors.ts is exercised by a case above", () => {
    expect(new Set(CASES.map(([code]) => code))).toEqual(new Set(SNP_MEASUREMENT_ERROR_CODES));
  });

  it("caller misuse raises TypeError, not a domain error", () => {
    expect(() => computeMeasurement({ mode: "sev", ovmf: "OVMF.fd" as never })).toThrow(TypeError);
    expect(() => computeMeasurement({ mode: "sev", ovmf: firmware(), kernel: { digest: "x" } as never })).toThrow(
      TypeError,
    );
    expect(() => computeMeasurement({ mode: "sev", ovmf: firmware(), kernel: K, cmdline: 5 as never })).toThrow(
      TypeError,
    );
  });
});

describe("inputs the reference tool accepts are accepted the same way", () => {
  it("sev and seves ignore the section list (an unknown section type only fails where sections are measured)", () => {
    const ovmf = firmware({ sections: [{ gpa: 0x800000, size: 0x800, type: 9 }] });
    expect(computeMeasurement({ mode: "sev", ovmf }).digest).toEqual(createHash("sha256").update(ovmf).digest());
    expect(computeMeasurement({ mode: "seves", ovmf, vcpus: 1, vcpuType: "EPYC" }).digest).toHaveLength(32);
  });

  it("sev without kernel needs no footer table; snp:ovmf-hash needs none either", () => {
    const ovmf = Buffer.alloc(8192, 1);
    expect(computeMeasurement({ mode: "sev", ovmf }).digest).toEqual(createHash("sha256").update(ovmf).digest());
    expect(computeMeasurement({ mode: "snp:ovmf-hash", ovmf }).digest).toHaveLength(48);
  });

  it('an empty cmdline without kernel is no cmdline (--append "")', () => {
    expect(computeMeasurement({ mode: "sev", ovmf: AMDSEV_SUFFIX(), cmdline: "" }).digest.toString("hex")).toBe(
      createHash("sha256").update(AMDSEV_SUFFIX()).digest("hex"),
    );
  });

  it("zero-size sections add no pages (Debian's OVMF.inteltdx lists SVSM_CAA and SEC_MEM at 0+0)", () => {
    const base = firmware();
    const withEmpty = firmware({
      sections: [
        ...(parseFirmware(base).sevMetadata ?? []),
        { gpa: 0, size: 0, type: 4 },
        { gpa: 0, size: 0, type: 1 },
      ],
    });
    const a = computeMeasurement(snp({ ovmf: base, ovmfHash: Buffer.alloc(48) })).digest;
    expect(computeMeasurement(snp({ ovmf: withEmpty, ovmfHash: Buffer.alloc(48) })).digest).toEqual(a);
  });

  it("reset address 0 is fine with one vCPU (no AP VMSA is built)", () => {
    expect(computeMeasurement(snp({ vcpus: 1, ovmf: firmware({ resetEip: 0 }) })).vmsas).toHaveLength(1);
  });

  it("ec2 and gce need no vCPU type and ignore one that is given", () => {
    for (const vmmType of ["ec2", "gce"] as const) {
      const plain = computeMeasurement(snp({ vmmType, vcpuType: undefined })).digest;
      expect(computeMeasurement(snp({ vmmType, vcpuType: "EPYC-Milan" })).digest).toEqual(plain);
    }
  });

  it("the largest signature and guest-features values are accepted", () => {
    const m = computeMeasurement(snp({ vcpuSignature: (1n << 64n) - 1n, guestFeatures: (1n << 64n) - 1n }));
    expect(m.vmsas[0]?.readBigUInt64LE(0x310)).toBe((1n << 64n) - 1n);
    expect(m.vmsas[0]?.readBigUInt64LE(0x3b0)).toBe((1n << 64n) - 1n);
    expect(cpuSignature({ family: 270, model: 255, stepping: 15 })).toBe(0x0fff_0fff);
  });

  it("a hashes-table entry that does not give its size is accepted (only the GPA is needed)", () => {
    const ovmf = firmware({ hashesTable: u32(0x810c00) });
    expect(computeMeasurement(snp({ ovmf, kernel: K })).digest).toHaveLength(48);
  });

  it("a long cmdline is fine: the table holds only its SHA-256", () => {
    const cmdline = "x".repeat(65536);
    const m = computeMeasurement({ mode: "sev", ovmf: input("inputs/ovmf_AmdSev_suffix.bin"), kernel: K, cmdline });
    expect(m.digest).toHaveLength(32);
  });
});
