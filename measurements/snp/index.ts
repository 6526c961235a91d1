/**
 * `measurements/snp`: expected launch measurements of SEV, SEV-ES and SEV-SNP guests (the
 * MEASUREMENT an SNP attestation report carries), compatible bit for bit with virtee/sev-snp-measure
 * 0.0.13. Pure: bytes and typed options in, digests out; no files, clock or network.
 *
 * @example
 * import { computeMeasurement } from "./measurements/snp/index.js";
 * const { digest } = computeMeasurement({
 *   mode: "snp", ovmf: ovmfBytes, vcpus: 4, vcpuType: "EPYC-v4",
 *   kernel: { sha256: kernelSha256Hex }, initrd: { sha256: initrdSha256Hex }, cmdline: "console=ttyS0",
 * });
 * digest.toString("hex"); // 96 hex digits
 */
export { computeMeasurement, type Measurement } from "./measure.js";
export {
  MAX_VCPUS,
  resolveOptions,
  type ArtifactInput,
  type MeasurementOptions,
  type ResolvedOptions,
} from "./options.js";
export {
  MEASUREMENT_MODES,
  MODE_LABELS,
  VMM_TYPES,
  isVmmType,
  parseMeasurementMode,
  type MeasurementMode,
  type VmmType,
} from "./modes.js";
export { VCPU_TYPES, cpuSignature, isVcpuType, vcpuIdentity, type CpuIdentity, type VcpuType } from "./vcpu-types.js";
export { LAUNCH_DIGEST_SIZE, LaunchDigest, PAGE_SIZE, PAGE_TYPES, VMSA_GPA } from "./gctx.js";
export {
  FOOTER_GUIDS,
  SECTION_TYPES,
  SECTION_TYPE_NAMES,
  parseFirmware,
  type FirmwareLayout,
  type SevMetadataSection,
} from "./ovmf.js";
export {
  EMPTY_SHA256,
  SEV_HASHES_TABLE_LENGTH,
  SEV_HASHES_TABLE_PADDED_LENGTH,
  cmdlineSha256,
  sevHashesPage,
  sevHashesTable,
  type SevHashes,
} from "./sev-hashes.js";
export { BSP_RESET_EIP, buildSvsmVmsaPage, buildVmsaPage, type VmsaParams } from "./vmsa.js";
export {
  SNP_MEASUREMENT_ERROR_CODES,
  SNP_MEASUREMENT_ERROR_MEANINGS,
  SNP_USAGE_ERROR_CODES,
  SnpMeasurementError,
  isSnpMeasurementError,
  type SnpMeasurementErrorCode,
} from "./errors.js";
