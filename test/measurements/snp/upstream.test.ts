/**
 * The reference tool's own test suite (virtee/sev-snp-measure 0.0.13 `tests/`), re-run against this
 * implementation with the fixtures we hold. "/dev/null" kernels and initrds are empty byte arrays.
 * Not runnable here: test_snp_svsm_4_vcpus / _2_vcpus (they need `svsm_ovmf.fd`, which is not in
 * test/vectors; our a12 vector covers snp:svsm with OVMF.amdsev.fd instead) and test_id_block
 * (ID blocks are not part of this module).
 */
import { describe, expect, it } from "vitest";
import {
  computeMeasurement,
  cpuSignature,
  parseMeasurementMode,
  vcpuIdentity,
  type MeasurementOptions,
} from "../../../measurements/snp/index.js";
import { AMDSEV_SUFFIX, OVMFX64_SUFFIX } from "./fixtures.js";

const NULL = new Uint8Array(0);
const CMDLINE = "console=ttyS0 loglevel=7";
const OVMF_HASH_S = "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74";
const hex = (o: MeasurementOptions) => computeMeasurement(o).digest.toString("hex");
const snp = (extra: Partial<MeasurementOptions>): MeasurementOptions => ({
  mode: "snp",
  ovmf: AMDSEV_SUFFIX(),
  vcpus: 1,
  vcpuType: "EPYC-v4",
  ...extra,
});

describe("upstream tests/test_guest.py", () => {
  it("test_snp_ovmf_hash_full_*: snp:ovmf-hash of the AmdSev suffix", () => {
    expect(hex({ mode: "snp:ovmf-hash", ovmf: AMDSEV_SUFFIX() })).toBe(OVMF_HASH_S);
  });

  it.each([
    [
      "test_snp_ovmf_hash_gen_default",
      snp({ ovmfHash: OVMF_HASH_S, kernel: NULL, initrd: NULL, cmdline: "", guestFeatures: 0x21 }),
      "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198",
    ],
    [
      "test_snp_ovmf_hash_gen_feature_snp_only",
      snp({ ovmfHash: OVMF_HASH_S, kernel: NULL, initrd: NULL, cmdline: "", guestFeatures: 0x1 }),
      "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5",
    ],
    [
      "test_snp_ovmf_hash_full_default",
      snp({ ovmfHash: OVMF_HASH_S, kernel: NULL, initrd: NULL, cmdline: CMDLINE, guestFeatures: 0x21 }),
      "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977",
    ],
    [
      "test_snp_ovmf_hash_full_feature_snp_only",
      snp({ ovmfHash: OVMF_HASH_S, kernel: NULL, initrd: NULL, cmdline: CMDLINE, guestFeatures: 0x1 }),
      "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa",
    ],
    [
      "test_snp_ec2_default",
      snp({ vcpuType: undefined, vmmType: "ec2", kernel: NULL, initrd: NULL, guestFeatures: 0x21 }),
      "0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb",
    ],
    [
      "test_snp_ec2_feature_snp_only",
      snp({ vcpuType: undefined, vmmType: "ec2", kernel: NULL, initrd: NULL, guestFeatures: 0x1 }),
      "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056",
    ],
    [
      "test_snp_gce_default",
      snp({ vcpuType: undefined, vmmType: "gce", kernel: NULL, initrd: NULL, guestFeatures: 0x1 }),
      "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e",
    ],
    [
      "test_snp_gce_with_multiple_vcpus_default",
      snp({ vcpus: 4, vcpuType: undefined, vmmType: "gce", kernel: NULL, initrd: NULL, guestFeatures: 0x1 }),
      "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d",
    ],
    [
      "test_snp_default",
      snp({ kernel: NULL, initrd: NULL, cmdline: CMDLINE, guestFeatures: 0x21 }),
      "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977",
    ],
    [
      "test_snp_guest_feature_snp_only",
      snp({ kernel: NULL, initrd: NULL, cmdline: CMDLINE, guestFeatures: 0x1 }),
      "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa",
    ],
    [
      "test_snp_without_kernel_default",
      snp({ guestFeatures: 0x21 }),
      "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b",
    ],
    [
      "test_snp_without_kernel_feature_snp_only",
      snp({ guestFeatures: 0x1 }),
      "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d",
    ],
    [
      "test_snp_with_multiple_vcpus_default",
      snp({ vcpus: 4, kernel: NULL, guestFeatures: 0x21 }),
      "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942",
    ],
    [
      "test_snp_with_multiple_vcpus_feature_snp_only",
      snp({ vcpus: 4, kernel: NULL, guestFeatures: 0x1 }),
      "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5",
    ],
    [
      "test_snp_with_ovmfx64_without_default",
      snp({ ovmf: OVMFX64_SUFFIX(), guestFeatures: 0x21 }),
      "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385",
    ],
    [
      "test_snp_with_ovmfx64_without_kernel_feature_snp_only",
      snp({ ovmf: OVMFX64_SUFFIX(), guestFeatures: 0x1 }),
      "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005",
    ],
    [
      "test_seves",
      { mode: "seves", ovmf: AMDSEV_SUFFIX(), vcpus: 1, vcpuType: "EPYC-v4", kernel: NULL, initrd: NULL, cmdline: "" },
      "13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c",
    ],
    [
      "test_seves_with_multiple_vcpus (features ignored)",
      {
        mode: "seves",
        ovmf: AMDSEV_SUFFIX(),
        vcpus: 4,
        vcpuType: "EPYC-v4",
        kernel: NULL,
        initrd: NULL,
        cmdline: "",
        guestFeatures: 0x21,
      },
      "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91",
    ],
    [
      "test_sev",
      { mode: "sev", ovmf: AMDSEV_SUFFIX(), kernel: NULL, initrd: NULL, cmdline: CMDLINE },
      "82a3ee5d537c3620628270c292ae30cb40c3c878666a7890ee7ef2a08fb535ff",
    ],
    [
      "test_sev_with_kernel_without_initrd_and_append",
      { mode: "sev", ovmf: AMDSEV_SUFFIX(), kernel: NULL },
      "77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898",
    ],
    [
      "test_sev_with_ovmfx64_without_kernel",
      { mode: "sev", ovmf: OVMFX64_SUFFIX() },
      "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da",
    ],
  ] as const)("%s", (_name, options, expected) => {
    expect(hex(options as MeasurementOptions)).toBe(expected);
  });

  it.each([
    [
      "test_snp_with_ovmfx64_and_kernel_should_fail",
      snp({ ovmf: OVMFX64_SUFFIX(), kernel: NULL }),
      "KERNEL_HASHES_SECTION_MISSING",
      "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section",
    ],
    [
      "test_seves_with_ovmfx64_and_kernel_should_fail",
      { mode: "seves", ovmf: OVMFX64_SUFFIX(), vcpus: 1, vcpuType: "EPYC-v4", kernel: NULL },
      "HASHES_TABLE_MISSING",
      "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement",
    ],
    [
      "test_sev_with_ovmfx64_and_kernel_should_fail",
      { mode: "sev", ovmf: OVMFX64_SUFFIX(), kernel: NULL },
      "HASHES_TABLE_MISSING",
      "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement",
    ],
  ] as const)("%s", (_name, options, code, message) => {
    expect(() => computeMeasurement(options as MeasurementOptions)).toThrow(expect.objectContaining({ code, message }));
  });

  it("test_seves_dump_vmsa / test_snp_dump_vmsa: one VMSA per vCPU and no more", () => {
    expect(
      computeMeasurement({ mode: "seves", ovmf: AMDSEV_SUFFIX(), vcpus: 4, vcpuType: "EPYC-v4" }).vmsas,
    ).toHaveLength(4);
    expect(computeMeasurement(snp({ ovmfHash: OVMF_HASH_S })).vmsas).toHaveLength(1);
  });
});

describe("upstream tests/test_vcpu_types.py and test_cli.py (signatures)", () => {
  it("cpu_sig(14, 1, 2) = 0x0E12 (family <= 15) and cpu_sig(23, 1, 2) = 0x800F12 (extended family)", () => {
    expect(cpuSignature({ family: 14, model: 1, stepping: 2 })).toBe(0x0e12);
    expect(cpuSignature({ family: 23, model: 1, stepping: 2 })).toBe(0x800f12);
  });

  it("EPYC-Milan maps to its table value and equals family 25 / model 1 / stepping 1", () => {
    expect(cpuSignature(vcpuIdentity("EPYC-Milan"))).toBe(0xa00f11);
    expect(cpuSignature({ family: 25, model: 1, stepping: 1 })).toBe(0xa00f11);
  });

  it("a vCPU signature of 0 is allowed and used", () => {
    const zero = computeMeasurement(snp({ vcpuType: undefined, vcpuSignature: 0 })).vmsas[0];
    expect(zero?.readBigUInt64LE(0x310)).toBe(0n);
  });
});

describe("upstream tests/test_sev_mode.py", () => {
  it.each([
    ["sev", "sev"],
    ["SEV", "sev"],
    ["seves", "seves"],
    ["sev-es", "seves"],
    ["SEVES", "seves"],
    ["SEV-ES", "seves"],
    ["snp", "snp"],
    ["sev-snp", "snp"],
    ["SNP", "snp"],
    ["SEV-SNP", "snp"],
    ["snp:svsm", "snp:svsm"],
    ["sev-snp:svsm", "snp:svsm"],
    ["SNP:SVSM", "snp:svsm"],
    ["Sev-Snp:Svsm", "snp:svsm"],
    ["snp:ovmf-hash", "snp:ovmf-hash"],
  ])("%s -> %s", (text, mode) => {
    expect(parseMeasurementMode(text)).toBe(mode);
  });

  it.each(["foo", "Snp", "sev_es", ""])("%j is refused with MODE_UNKNOWN", (text) => {
    expect(() => parseMeasurementMode(text)).toThrow(expect.objectContaining({ code: "MODE_UNKNOWN" }));
  });
});
