/**
 * Launch measurements per mode: the order in which QEMU (or EC2, GCE, Coconut-SVSM's QEMU) adds
 * pages, as modelled by virtee/sev-snp-measure 0.0.13.
 */
import { createHash } from "node:crypto";
import { SnpMeasurementError } from "./errors.js";
import { LaunchDigest, PAGE_SIZE } from "./gctx.js";
import type { MeasurementMode } from "./modes.js";
import {
  SECTION_TYPES,
  SECTION_TYPE_NAMES,
  parseFirmware,
  type FirmwareLayout,
  type SevMetadataSection,
} from "./ovmf.js";
import { resolveOptions, type MeasurementOptions, type ResolvedOptions } from "./options.js";
import { SEV_HASHES_TABLE_PADDED_LENGTH, sevHashesPage, sevHashesTable, type SevHashes } from "./sev-hashes.js";
import { BSP_RESET_EIP, buildSvsmVmsaPage, buildVmsaPage } from "./vmsa.js";

/** A computed launch measurement. */
export interface Measurement {
  /** The mode it was computed for. */
  readonly mode: MeasurementMode;
  /** 48 bytes (SHA-384 chain) for the `snp*` modes, 32 bytes (SHA-256) for `seves` and `sev`. */
  readonly digest: Buffer;
  /** The measured VMSA pages in vCPU order (BSP first); empty for `sev` and `snp:ovmf-hash`. Entries may share one buffer. */
  readonly vmsas: readonly Buffer[];
  /**
   * CPUID signature resolved from `vcpuSignature` or `vcpuType` (e.g. 0xA00F11n for EPYC-Milan);
   * undefined when neither was given. QEMU VMSAs carry it in RDX; ec2 and gce put 0x600 there instead.
   */
  readonly vcpuSignature: bigint | undefined;
}

const FOUR_GIB = 0x1_0000_0000;

function fail(code: ConstructorParameters<typeof SnpMeasurementError>[0], field: string, message: string): never {
  throw new SnpMeasurementError(code, field, message);
}

/** Checks an image's size and returns the GPA it is loaded at when it ends at `endGpa`. */
function placeImage(image: Buffer, field: string, endGpa: number): number {
  if (image.length === 0 || image.length % PAGE_SIZE !== 0) {
    fail(
      "FIRMWARE_SIZE_INVALID",
      field,
      `${field} size ${image.length} is not a non-zero multiple of ${PAGE_SIZE} bytes`,
    );
  }
  const base = endGpa - image.length;
  if (base < 0)
    fail(
      "FIRMWARE_PLACEMENT_INVALID",
      field,
      `${field} (${image.length} bytes) does not fit below GPA 0x${endGpa.toString(16)}`,
    );
  return base;
}

function requireMetadata(fw: FirmwareLayout, field: string): readonly SevMetadataSection[] {
  if (!fw.hasFooterTable)
    fail("FOOTER_TABLE_MISSING", field, `${field} has no footer GUID table (not an SEV-capable build)`);
  if (fw.sevMetadata === undefined)
    fail("SEV_METADATA_MISSING", field, `${field} has no SEV metadata (QEMU cannot launch it as an SNP guest)`);
  return fw.sevMetadata;
}

function requireResetEip(fw: FirmwareLayout, vcpus: number): number {
  if (!fw.hasFooterTable)
    fail("FOOTER_TABLE_MISSING", "ovmf", "ovmf has no footer GUID table (not an SEV-capable build)");
  if (fw.resetEip === undefined) fail("RESET_BLOCK_MISSING", "ovmf", "ovmf footer table has no SEV-ES reset block");
  if (fw.resetEip === 0 && vcpus > 1)
    fail("RESET_BLOCK_MISSING", "ovmf", "ovmf SEV-ES reset block holds address 0, so APs cannot start");
  return fw.resetEip;
}

/** Checks every section before anything is measured: known type, page-aligned GPA and size. */
function checkSections(sections: readonly SevMetadataSection[], field: string): void {
  sections.forEach((s, i) => {
    if (SECTION_TYPE_NAMES[s.type] === undefined)
      fail(
        "SECTION_TYPE_UNKNOWN",
        `${field}.sevMetadata[${i}]`,
        `unknown SEV metadata section type 0x${s.type.toString(16)}`,
      );
    if (s.gpa % PAGE_SIZE !== 0 || s.size % PAGE_SIZE !== 0) {
      fail(
        "SECTION_UNALIGNED",
        `${field}.sevMetadata[${i}]`,
        `SEV metadata section ${SECTION_TYPE_NAMES[s.type]} at 0x${s.gpa.toString(16)} size 0x${s.size.toString(16)} is not page-aligned`,
      );
    }
  });
}

/** The hashes table area, checked the way QEMU checks it before writing the table. */
function hashesTableGpa(fw: FirmwareLayout): number {
  const area = fw.hashesTable;
  if (area === undefined || area.gpa === 0)
    fail("HASHES_TABLE_MISSING", "ovmf", "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement");
  if (area.size !== undefined && area.size < SEV_HASHES_TABLE_PADDED_LENGTH) {
    fail(
      "HASHES_TABLE_INVALID",
      "ovmf",
      `ovmf SEV hashes table area is ${area.size} bytes, smaller than the ${SEV_HASHES_TABLE_PADDED_LENGTH}-byte table`,
    );
  }
  return area.gpa;
}

/** The page measured for SNP_KERNEL_HASHES with a kernel: the padded table at the table GPA's page offset. */
function kernelHashesPage(fw: FirmwareLayout, sections: readonly SevMetadataSection[], hashes: SevHashes): Buffer {
  const targets = sections.filter((s) => s.type === SECTION_TYPES.snpKernelHashes);
  if (targets.length === 0)
    fail(
      "KERNEL_HASHES_SECTION_MISSING",
      "ovmf",
      "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section",
    );
  for (const s of targets) {
    if (s.size !== PAGE_SIZE)
      fail(
        "KERNEL_HASHES_SECTION_SIZE",
        "ovmf",
        `SNP_KERNEL_HASHES section is 0x${s.size.toString(16)} bytes, expected one page`,
      );
  }
  const offset = hashesTableGpa(fw) % PAGE_SIZE;
  if (offset + SEV_HASHES_TABLE_PADDED_LENGTH > PAGE_SIZE) {
    fail(
      "HASHES_TABLE_INVALID",
      "ovmf",
      `ovmf SEV hashes table at page offset 0x${offset.toString(16)} does not fit in its page`,
    );
  }
  return sevHashesPage(sevHashesTable(hashes), offset);
}

/** Measures the metadata sections (section 6 of the reference note) in table order. */
function measureSections(
  ld: LaunchDigest,
  fw: FirmwareLayout,
  sections: readonly SevMetadataSection[],
  o: Pick<ResolvedOptions, "vmmType" | "hashes">,
): void {
  const hashesPage = o.hashes === undefined ? undefined : kernelHashesPage(fw, sections, o.hashes);
  for (const s of sections) {
    switch (s.type) {
      case SECTION_TYPES.snpSecMem:
        if (o.vmmType === "gce") ld.unmeasuredPages(s.gpa, s.size);
        else ld.zeroPages(s.gpa, s.size);
        break;
      case SECTION_TYPES.snpSecrets:
        ld.secretsPage(s.gpa);
        break;
      case SECTION_TYPES.cpuid:
        if (o.vmmType !== "ec2") ld.cpuidPage(s.gpa);
        break;
      case SECTION_TYPES.svsmCaa:
        ld.zeroPages(s.gpa, s.size);
        break;
      case SECTION_TYPES.snpKernelHashes:
        // Without a kernel (or with kernel-hashes off) QEMU adds the area as zero pages.
        if (hashesPage === undefined) ld.zeroPages(s.gpa, s.size);
        else ld.normalPages(s.gpa, hashesPage);
        break;
    }
  }
  // EC2 adds the CPUID page(s) after every other section.
  if (o.vmmType === "ec2") for (const s of sections) if (s.type === SECTION_TYPES.cpuid) ld.cpuidPage(s.gpa);
}

function vmsaList(bsp: Buffer, ap: Buffer | undefined, vcpus: number): Buffer[] {
  return Array.from({ length: vcpus }, (_, i) => (i === 0 || ap === undefined ? bsp : ap));
}

function measureSnp(o: ResolvedOptions): Measurement {
  const base = placeImage(o.ovmf, "ovmf", FOUR_GIB);
  const fw = parseFirmware(o.ovmf, "ovmf");
  const sections = requireMetadata(fw, "ovmf");
  checkSections(sections, "ovmf");
  const apEip = requireResetEip(fw, o.vcpus);
  const ld = o.ovmfHash === undefined ? new LaunchDigest().normalPages(base, o.ovmf) : new LaunchDigest(o.ovmfHash);
  measureSections(ld, fw, sections, o);
  const vmsa = (eip: number) =>
    buildVmsaPage({ eip, sevFeatures: o.guestFeatures, vcpuSignature: o.vcpuSignature ?? 0n, vmmType: o.vmmType });
  const bsp = vmsa(BSP_RESET_EIP);
  const ap = o.vcpus > 1 ? vmsa(apEip) : undefined;
  ld.vmsaPage(bsp);
  if (ap !== undefined) ld.vmsaPages(ap, o.vcpus - 1);
  return { mode: o.mode, digest: ld.digest(), vmsas: vmsaList(bsp, ap, o.vcpus), vcpuSignature: o.vcpuSignature };
}

function measureOvmfHash(o: ResolvedOptions): Measurement {
  const base = placeImage(o.ovmf, "ovmf", FOUR_GIB);
  parseFirmware(o.ovmf, "ovmf"); // malformed metadata fails here too, as upstream
  return {
    mode: o.mode,
    digest: new LaunchDigest().normalPages(base, o.ovmf).digest(),
    vmsas: [],
    vcpuSignature: o.vcpuSignature,
  };
}

function measureSvsm(o: ResolvedOptions): Measurement {
  const svsm = o.svsm as Buffer;
  const ovmfBase = placeImage(o.ovmf, "ovmf", FOUR_GIB);
  parseFirmware(o.ovmf, "ovmf");
  const svsmBase = placeImage(svsm, "svsm", ovmfBase - o.varsSize);
  const fw = parseFirmware(svsm, "svsm");
  const sections = requireMetadata(fw, "svsm");
  checkSections(sections, "svsm");
  if (fw.svsmEntryOffset === undefined)
    fail("SVSM_INFO_MISSING", "svsm", "svsm footer table has no SVSM info entry (entry point)");
  const ld = new LaunchDigest().normalPages(ovmfBase, o.ovmf).normalPages(svsmBase, svsm);
  measureSections(ld, fw, sections, { vmmType: "QEMU", hashes: undefined });
  const page = buildSvsmVmsaPage(svsmBase + fw.svsmEntryOffset, o.vcpuSignature ?? 0n);
  ld.vmsaPages(page, o.vcpus);
  return { mode: o.mode, digest: ld.digest(), vmsas: vmsaList(page, page, o.vcpus), vcpuSignature: o.vcpuSignature };
}

/** `sev` and `seves`: one SHA-256 over firmware, padded hashes table (with a kernel) and VMSAs (seves). */
function measureSev(o: ResolvedOptions): Measurement {
  placeImage(o.ovmf, "ovmf", FOUR_GIB);
  const fw = parseFirmware(o.ovmf, "ovmf");
  const sha = createHash("sha256").update(o.ovmf);
  if (o.hashes !== undefined) {
    hashesTableGpa(fw);
    sha.update(sevHashesTable(o.hashes));
  }
  if (o.mode === "sev") return { mode: o.mode, digest: sha.digest(), vmsas: [], vcpuSignature: o.vcpuSignature };
  const apEip = requireResetEip(fw, o.vcpus);
  const vmsa = (eip: number) =>
    buildVmsaPage({ eip, sevFeatures: 0n, vcpuSignature: o.vcpuSignature ?? 0n, vmmType: o.vmmType });
  const bsp = vmsa(BSP_RESET_EIP);
  const ap = o.vcpus > 1 ? vmsa(apEip) : undefined;
  const vmsas = vmsaList(bsp, ap, o.vcpus);
  for (const page of vmsas) sha.update(page);
  return { mode: o.mode, digest: sha.digest(), vmsas, vcpuSignature: o.vcpuSignature };
}

/**
 * Computes the expected launch measurement of an SEV, SEV-ES or SEV-SNP guest, bit for bit as
 * `sev-snp-measure` 0.0.13 does for every input it supports, and refuses (with a
 * {@link SnpMeasurementError}) input it cannot model exactly.
 *
 * @example
 * const m = computeMeasurement({
 *   mode: "snp", ovmf: readFileSync("OVMF.amdsev.fd"), vcpus: 4, vcpuType: "EPYC-v4",
 *   kernel: { sha256: "125872c3...f943d7" }, initrd: initrdBytes, cmdline: "console=ttyS0",
 * });
 * m.digest.toString("hex"); // the MEASUREMENT field an SNP attestation report will carry
 * @throws SnpMeasurementError (see `SNP_MEASUREMENT_ERROR_CODES`); TypeError on wrongly typed options.
 */
export function computeMeasurement(options: MeasurementOptions): Measurement {
  const o = resolveOptions(options);
  switch (o.mode) {
    case "snp":
      return measureSnp(o);
    case "snp:ovmf-hash":
      return measureOvmfHash(o);
    case "snp:svsm":
      return measureSvsm(o);
    case "seves":
    case "sev":
      return measureSev(o);
  }
}
