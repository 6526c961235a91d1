/**
 * Errors of the SEV / SEV-ES / SEV-SNP launch-digest calculator (`measurements/snp`).
 *
 * Untrusted bad input (firmware bytes, artifact digests, launch-shape values read from config)
 * raises a {@link SnpMeasurementError} with a stable {@link SnpMeasurementErrorCode}; the
 * calculator never returns a digest for input it cannot model exactly. Caller misuse (a value of
 * the wrong JavaScript type) raises a `TypeError`.
 */
import { CodedError } from "../../core/index.js";

/** Every stable error code, in documentation order. */
export const SNP_MEASUREMENT_ERROR_CODES = [
  "MODE_UNKNOWN",
  "VMM_TYPE_UNKNOWN",
  "VMM_TYPE_UNSUPPORTED",
  "VCPUS_INVALID",
  "VCPU_TYPE_UNKNOWN",
  "VCPU_SIGNATURE_MISSING",
  "VCPU_SIGNATURE_INVALID",
  "GUEST_FEATURES_INVALID",
  "OVMF_HASH_INVALID",
  "OPTION_NOT_APPLICABLE",
  "KERNEL_REQUIRED",
  "DIGEST_INVALID",
  "CMDLINE_INVALID",
  "FIRMWARE_SIZE_INVALID",
  "FIRMWARE_PLACEMENT_INVALID",
  "FOOTER_TABLE_MISSING",
  "FOOTER_TABLE_INVALID",
  "SEV_METADATA_MISSING",
  "SEV_METADATA_INVALID",
  "SEV_METADATA_SIGNATURE",
  "SEV_METADATA_VERSION",
  "SECTION_TYPE_UNKNOWN",
  "SECTION_UNALIGNED",
  "RESET_BLOCK_MISSING",
  "KERNEL_HASHES_SECTION_MISSING",
  "KERNEL_HASHES_SECTION_SIZE",
  "HASHES_TABLE_MISSING",
  "HASHES_TABLE_INVALID",
  "SVSM_MISSING",
  "SVSM_INFO_MISSING",
  "VARS_SIZE_MISSING",
  "VARS_SIZE_INVALID",
] as const;

/** A stable code naming what was wrong with the input. */
export type SnpMeasurementErrorCode = (typeof SNP_MEASUREMENT_ERROR_CODES)[number];

/** One line per code (docs/errors.md is generated from it). */
export const SNP_MEASUREMENT_ERROR_MEANINGS: Readonly<Record<SnpMeasurementErrorCode, string>> = {
  MODE_UNKNOWN: "mode is none of snp, snp:ovmf-hash, snp:svsm, seves, sev",
  VMM_TYPE_UNKNOWN: "vmm type is none of QEMU, ec2, gce (case-sensitive)",
  VMM_TYPE_UNSUPPORTED: "snp:svsm is modelled for QEMU only",
  VCPUS_INVALID: "vCPU count missing or not an integer from 1 to 65536",
  VCPU_TYPE_UNKNOWN: "vCPU type not in `VCPU_TYPES`",
  VCPU_SIGNATURE_MISSING: "QEMU in snp, snp:svsm or seves without vCPU type or signature",
  VCPU_SIGNATURE_INVALID: "signature outside 0..2^64-1, or family/model/stepping out of range",
  GUEST_FEATURES_INVALID: "guest features outside 0..2^64-1",
  OVMF_HASH_INVALID: "seed is not a 48-byte digest / 96 hex digits",
  OPTION_NOT_APPLICABLE: "seed outside snp; kernel in snp:svsm",
  KERNEL_REQUIRED: "initrd or non-empty cmdline without kernel",
  DIGEST_INVALID: "a kernel/initrd SHA-256 that is not 32 bytes / 64 hex digits",
  CMDLINE_INVALID: "NUL or unpaired surrogate in the cmdline",
  FIRMWARE_SIZE_INVALID: "OVMF or SVSM image empty or not a multiple of 4096 bytes",
  FIRMWARE_PLACEMENT_INVALID: "an image does not fit below 4 GiB (SVSM below OVMF and vars)",
  FOOTER_TABLE_MISSING: "no OVMF footer GUID table where one is needed",
  FOOTER_TABLE_INVALID: "footer table or entry lengths out of bounds, short payload",
  SEV_METADATA_MISSING: "snp/snp:svsm image without SEV metadata entry",
  SEV_METADATA_INVALID: "ASEV offset outside the image, or fewer sections than counted",
  SEV_METADATA_SIGNATURE: "ASEV header signature is not `ASEV`",
  SEV_METADATA_VERSION: "ASEV version is not 1",
  SECTION_TYPE_UNKNOWN: "section type not 1, 2, 3, 4 or 0x10 (snp modes)",
  SECTION_UNALIGNED: "section GPA or size not page-aligned",
  RESET_BLOCK_MISSING: "no SEV-ES reset block (snp, seves), or address 0 with APs",
  KERNEL_HASHES_SECTION_MISSING: "snp with a kernel but no SNP_KERNEL_HASHES section",
  KERNEL_HASHES_SECTION_SIZE: "SNP_KERNEL_HASHES section is not exactly one page",
  HASHES_TABLE_MISSING: "kernel given, but no SEV hashes table entry or GPA 0",
  HASHES_TABLE_INVALID: "hashes table area smaller than 176 bytes or crossing its page",
  SVSM_MISSING: "snp:svsm without SVSM image",
  SVSM_INFO_MISSING: "SVSM image without SVSM info (entry point)",
  VARS_SIZE_MISSING: "snp:svsm without vars size",
  VARS_SIZE_INVALID: "vars size negative or not a multiple of 4096",
};

/**
 * Codes that describe how the calculator was asked (options a command line sets) rather than what
 * the firmware contains. `attestctl measure snp` reports them as usage errors (exit 2).
 */
export const SNP_USAGE_ERROR_CODES: readonly SnpMeasurementErrorCode[] = [
  "MODE_UNKNOWN",
  "VMM_TYPE_UNKNOWN",
  "VCPUS_INVALID",
  "VCPU_TYPE_UNKNOWN",
  "VCPU_SIGNATURE_MISSING",
  "VCPU_SIGNATURE_INVALID",
  "GUEST_FEATURES_INVALID",
  "KERNEL_REQUIRED",
  "SVSM_MISSING",
  "VARS_SIZE_MISSING",
];

/** The input cannot be measured; `code` says why and `field` names the option or firmware part. */
export class SnpMeasurementError extends CodedError<SnpMeasurementErrorCode> {
  /** The option (`vcpus`, `kernel.sha256`, ...) or firmware part (`ovmf`, `svsm`) at fault. */
  readonly field: string;

  constructor(
    code: SnpMeasurementErrorCode,
    field: string,
    message: string,
    options: { readonly cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.field = field;
  }
}

/** True when `e` is a {@link SnpMeasurementError} (optionally with the given code). */
export function isSnpMeasurementError(e: unknown, code?: SnpMeasurementErrorCode): e is SnpMeasurementError {
  return e instanceof SnpMeasurementError && (code === undefined || e.code === code);
}
