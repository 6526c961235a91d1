import { describe, expect, it } from "vitest";
import { parseReport, serializeReport, type SnpReport } from "../../runtime/attestation/abi/report.js";
import { type TcbVersion, decodeTcb, encodeTcb } from "../../runtime/attestation/abi/tcb.js";
import { productFromCpuId } from "../../runtime/attestation/abi/product.js";
import { REPORT_ENTRIES, vector, type ManifestTcb } from "../helpers/snp-vectors.js";

const hex = (b: Buffer) => b.toString("hex");
const fw = (v: SnpReport["currentVersion"]) => `${v.major}.${v.minor}.${v.build}`;

function tcbFacts(t: TcbVersion, facts: ManifestTcb) {
  expect(t.raw.toString(16).padStart(16, "0")).toBe(facts.raw_hex);
  expect({ bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode, fmc: t.fmc }).toEqual({
    bootloader: facts.bootloader,
    tee: facts.tee,
    snp: facts.snp,
    microcode: facts.microcode,
    fmc: facts.layout === "turin" ? facts.fmc : undefined,
  });
}

describe("abi.parseReport on the 20 real reports", () => {
  it.each(REPORT_ENTRIES.map((e) => [e.file, e] as const))("%s yields the manifest's facts", (_file, entry) => {
    const f = entry.facts;
    const product = f.product_line_assumed_for_tcb;
    const r = parseReport(
      vector(entry.file),
      product === "Milan" || product === "Genoa" || product === "Turin" ? { product } : {},
    );
    expect(r.version).toBe(f.version);
    expect(r.guestSvn).toBe(f.guest_svn);
    expect(`0x${r.policy.raw.toString(16)}`).toBe(f.policy.hex);
    expect({
      abi_minor: r.policy.abiMinor,
      abi_major: r.policy.abiMajor,
      smt_allowed: r.policy.smt,
      reserved_bit17_is_one: r.policy.reservedBit17,
      migrate_ma_allowed: r.policy.migrateMa,
      debug_allowed: r.policy.debug,
      single_socket_required: r.policy.singleSocket,
      cxl_allowed: r.policy.cxlAllow,
      mem_aes_256_xts_required: r.policy.memAes256Xts,
      rapl_dis_required: r.policy.raplDis,
      ciphertext_hiding_dram_required: r.policy.ciphertextHiding,
      page_swap_disable: r.policy.pageSwapDisable,
    }).toEqual(
      Object.fromEntries(Object.entries(f.policy).filter(([k]) => k !== "hex" && k !== "reserved_bits_63_26_zero")),
    );
    expect(hex(r.familyId)).toBe(f.family_id);
    expect(hex(r.imageId)).toBe(f.image_id);
    expect(r.vmpl).toBe(f.vmpl);
    expect(r.signatureAlgo).toBe(f.signature_algo);
    tcbFacts(r.currentTcb, f.current_tcb);
    tcbFacts(r.reportedTcb, f.reported_tcb);
    tcbFacts(r.committedTcb, f.committed_tcb);
    tcbFacts(r.launchTcb, f.launch_tcb);
    const pi = r.platformInfo;
    expect({
      hex: `0x${pi.raw.toString(16)}`,
      smt_enabled: pi.smtEnabled,
      tsme_enabled: pi.tsmeEnabled,
      ecc_enabled: pi.eccEnabled,
      rapl_disabled: pi.raplDisabled,
      ciphertext_hiding_dram_enabled: pi.ciphertextHidingEnabled,
      alias_check_complete: pi.aliasCheckComplete,
      bit6_set_reserved_in_gsg_virtee_reportedly_iommu_write_safe: pi.bit6,
      tio_enabled: pi.tioEnabled,
      unknown_bits_above_7: pi.unknownBits !== 0n,
    }).toEqual(f.platform_info);
    expect({
      hex: `0x${r.keyInfo.raw.toString(16)}`,
      author_key_en: r.keyInfo.authorKeyEn,
      mask_chip_key: r.keyInfo.maskChipKey,
      signing_key: r.keyInfo.signingKey.toUpperCase(),
    }).toEqual(Object.fromEntries(Object.entries(f.key_info).filter(([k]) => k !== "reserved_bits_31_5_zero")));
    expect(hex(r.reportData)).toBe(f.report_data);
    expect(hex(r.measurement)).toBe(f.measurement);
    expect(hex(r.hostData)).toBe(f.host_data);
    expect(hex(r.idKeyDigest)).toBe(f.id_key_digest);
    expect(hex(r.authorKeyDigest)).toBe(f.author_key_digest);
    expect(hex(r.reportId)).toBe(f.report_id);
    expect(hex(r.reportIdMa)).toBe(f.report_id_ma);
    expect(r.cpuid === undefined ? null : r.cpuid.family).toBe(f.cpuid_fam_id);
    expect(r.cpuid === undefined ? null : r.cpuid.model).toBe(f.cpuid_mod_id);
    expect(r.cpuid === undefined ? null : r.cpuid.stepping).toBe(f.cpuid_step);
    expect(hex(r.chipId)).toBe(f.chip_id);
    expect(fw(r.currentVersion)).toBe(f.current_version);
    expect(fw(r.committedVersion)).toBe(f.committed_version);
    const mit = (v: bigint | undefined) => (v === undefined ? null : `0x${v.toString(16)}`);
    expect(mit(r.launchMitVector)).toBe(f.launch_mit_vector);
    expect(mit(r.currentMitVector)).toBe(f.current_mit_vector);
    const be = (le: Buffer) => Buffer.from(le.subarray(0, 48)).reverse().toString("hex");
    expect(be(r.signature.r)).toBe(f.signature_r_hex_be);
    expect(be(r.signature.s)).toBe(f.signature_s_hex_be);
    expect(r.product ?? null).toBe(product);
  });

  it.each(REPORT_ENTRIES.map((e) => [e.file] as const))("%s serialises back to the identical bytes", (file) => {
    const raw = vector(file);
    expect(serializeReport(parseReport(raw)).equals(raw)).toBe(true);
  });
});

describe("abi TCB layouts", () => {
  it("decodes the same bytes differently for Milan/Genoa and Turin", () => {
    const raw = 0x4700000002000001n;
    expect(decodeTcb(raw, "milan-genoa")).toEqual({
      raw,
      layout: "milan-genoa",
      bootloader: 1,
      tee: 0,
      snp: 0,
      microcode: 0x47,
    });
    expect(decodeTcb(raw, "turin")).toEqual({
      raw,
      layout: "turin",
      fmc: 1,
      bootloader: 0,
      tee: 0,
      snp: 2,
      microcode: 0x47,
    });
  });

  it("encodes components back to the raw word", () => {
    expect(encodeTcb({ bootloader: 2, tee: 0, snp: 5, microcode: 68 }, "milan-genoa")).toBe(0x4405000000000002n);
    expect(encodeTcb({ fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 }, "turin")).toBe(0x4700000002000100n);
    expect(() => encodeTcb({ bootloader: 1, tee: 0, snp: 2, microcode: 71 }, "turin")).toThrow(TypeError);
    expect(() => encodeTcb({ bootloader: 256, tee: 0, snp: 2, microcode: 71 }, "milan-genoa")).toThrow(TypeError);
  });
});

describe("abi product from CPUID", () => {
  it.each([
    [0x19, 0x01, "Milan"],
    [0x19, 0x11, "Genoa"],
    [0x19, 0xa0, "Genoa"],
    [0x1a, 0x02, "Turin"],
    [0x19, 0x30, undefined],
    [0x17, 0x31, undefined],
  ] as const)("family 0x%s model 0x%s -> %s", (family, model, product) => {
    expect(productFromCpuId({ family, model, stepping: 0 })).toBe(product);
  });
});
