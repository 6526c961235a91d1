/**
 * Errors of the SEV / SEV-ES / SEV-SNP launch-digest calculator (`measurements/snp`).
 *
 * Untrusted bad input (firmware bytes, artifact digests, launch-shape values read from config)
 * raises a {@link SnpMeasurementError} with a stable {@link SnpMeasurementErrorCode}; the
 * calculator never returns a digest for input it cannot model exactly. Caller misuse (a value of
 * the wrong JavaScript type) raises a `TypeError`.
 */

/** Every stable error code, in the order of the README table. */
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
export class SnpMeasurementError extends Error {
  readonly code: SnpMeasurementErrorCode;
  /** The option (`vcpus`, `kernel.sha256`, ...) or firmware part (`ovmf`, `svsm`) at fault. */
  readonly field: string;

  constructor(code: SnpMeasurementErrorCode, field: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SnpMeasurementError";
    this.code = code;
    this.field = field;
  }
}
