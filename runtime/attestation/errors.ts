/**
 * Errors of the attestation verifier (`runtime/attestation`): one code per reason a report, its
 * certificates, a policy or an attestation-result token is refused. Untrusted bad input raises
 * {@link AttestationError}; caller misuse (wrong argument types, impossible options) raises `TypeError`.
 */
import { CodedError, type Problem } from "../../core/index.js";

/** Every error code, grouped by the step that raises it (docs/errors.md lists the same set). */
export const ATTESTATION_ERROR_CODES = [
  // abi: report structure
  "REPORT_SIZE",
  "REPORT_VERSION",
  "SIGNATURE_ALGORITHM",
  "RESERVED_NONZERO",
  "POLICY_RESERVED",
  "KEY_INFO_RESERVED",
  "REPORT_UNSIGNED",
  "PRODUCT_UNKNOWN",
  "PRODUCT_MISMATCH",
  // verify: collateral, certificates, chain, binding, signature
  "COLLATERAL_UNAVAILABLE",
  "CERTIFICATE_MALFORMED",
  "CERTIFICATE_PROFILE",
  "VEK_EXTENSIONS",
  "UNTRUSTED_ROOT",
  "INTERMEDIATE_MISMATCH",
  "CHAIN_SIGNATURE",
  "CERTIFICATE_EXPIRED",
  "CERTIFICATE_NOT_YET_VALID",
  "CRL_INVALID",
  "CERTIFICATE_REVOKED",
  "SIGNER_MISMATCH",
  "TCB_MISMATCH",
  "CHIP_ID_MISMATCH",
  "REPORT_SIGNATURE",
  // validate: policy
  "POLICY_INVALID",
  "DEBUG_ALLOWED",
  "MIGRATION_AGENT_ALLOWED",
  "GUEST_POLICY",
  "VMPL",
  "MEASUREMENT_NOT_ALLOWED",
  "HOST_DATA_MISMATCH",
  "ID_KEY_NOT_TRUSTED",
  "AUTHOR_KEY_NOT_TRUSTED",
  "REPORT_DATA_MISMATCH",
  "REPORT_DATA_REPLAYED",
  "TCB_BELOW_FLOOR",
  "CHIP_NOT_ALLOWED",
  "GUEST_SVN_TOO_LOW",
  "PLATFORM_INFO",
  "FIRMWARE_TOO_OLD",
  "FIELD_MISMATCH",
  // attestation-result tokens
  "TOKEN_INVALID",
  "TOKEN_EXPIRED",
  // evidence structure
  "EVIDENCE_MALFORMED",
  // Intel TDX quotes
  "QUOTE_MALFORMED",
  "QUOTE_SIGNATURE",
  "QE_REPORT_SIGNATURE",
  "QE_REPORT_BINDING",
  "PCK_EXTENSIONS",
  "COLLATERAL_INVALID",
  "COLLATERAL_EXPIRED",
  "COLLATERAL_MISMATCH",
  "TCB_LEVEL_UNKNOWN",
] as const;

/** A stable reason code; see {@link ATTESTATION_ERROR_CODES}. */
export type AttestationErrorCode = (typeof ATTESTATION_ERROR_CODES)[number];

/** One line per code, headed by the step that raises it (docs/errors.md is generated from it). */
export const ATTESTATION_ERROR_MEANINGS: Readonly<Record<AttestationErrorCode, string>> = {
  REPORT_SIZE: "abi: the report is not exactly 1184 bytes",
  REPORT_VERSION: "abi: report version outside 2-5",
  SIGNATURE_ALGORITHM: "abi: SIGNATURE_ALGO is not 1 (ECDSA P-384 SHA-384)",
  RESERVED_NONZERO: "abi: a must-be-zero byte is set (`path` names the range)",
  POLICY_RESERVED: "abi: POLICY bit 17 clear or a bit in 63:26 set",
  KEY_INFO_RESERVED: "abi: KEY_INFO bits 31:5 set or SIGNING_KEY 2-6",
  REPORT_UNSIGNED: "verify: SIGNING_KEY is *none* or MASK_CHIP_KEY is set",
  PRODUCT_UNKNOWN: "verify: the product line cannot be determined (unknown CPUID, v2 without a hint)",
  PRODUCT_MISMATCH: "verify: CPUID, the caller and the VEK name different product lines",
  COLLATERAL_UNAVAILABLE:
    "verify: a VEK, intermediate or CRL could not be obtained (fail-open/closed decision for the caller)",
  CERTIFICATE_MALFORMED: "verify: a certificate is not well-formed DER X.509 (or not exactly one)",
  CERTIFICATE_PROFILE: "verify: names, key type, signature algorithm or CA flag differ from AMD's profile",
  VEK_EXTENSIONS: "verify: VCEK/VLEK extensions missing, duplicated, unknown or malformed",
  UNTRUSTED_ROOT: "verify: no trusted root for the product, or a presented ARK that is not pinned",
  INTERMEDIATE_MISMATCH: "verify: ASK where an ASVK is needed (or vice versa), or a VEK issued by another intermediate",
  CHAIN_SIGNATURE: "verify: a certificate signature does not verify",
  CERTIFICATE_EXPIRED: "verify: a certificate's notAfter is before `now`",
  CERTIFICATE_NOT_YET_VALID: "verify: a certificate's notBefore is after `now`",
  CRL_INVALID: "verify: the CRL is malformed, not issued/signed by the ARK, stale or not yet valid",
  CERTIFICATE_REVOKED: "verify: the CRL lists the intermediate",
  SIGNER_MISMATCH: "verify: KEY_INFO names a VCEK but the certificate is a VLEK, or vice versa",
  TCB_MISMATCH: "verify: REPORTED_TCB differs from the VEK's TCB extensions",
  CHIP_ID_MISMATCH: "verify: CHIP_ID differs from the VCEK hwID",
  REPORT_SIGNATURE: "verify: the report signature does not verify with the VEK",
  POLICY_INVALID: "validate: the policy file does not match the policy schema (`problems` lists every field path)",
  DEBUG_ALLOWED: "validate: POLICY.DEBUG is set and the policy forbids it",
  MIGRATION_AGENT_ALLOWED: "validate: POLICY.MIGRATE_MA is set and the policy forbids it",
  GUEST_POLICY: "validate: another guest-policy requirement is not met (SMT, single socket, ABI, ...)",
  VMPL: "validate: the report's VMPL is above the policy's maximum",
  MEASUREMENT_NOT_ALLOWED: "validate: the measurement is not allowed (not in the list or the active manifests)",
  HOST_DATA_MISMATCH: "validate: HOST_DATA is not an allowed value",
  ID_KEY_NOT_TRUSTED: "validate: ID_KEY_DIGEST is not trusted",
  AUTHOR_KEY_NOT_TRUSTED: "validate: the author key is absent or not trusted",
  REPORT_DATA_MISMATCH: "validate: REPORT_DATA differs from the expected binding",
  REPORT_DATA_REPLAYED: "validate: the binding was already used (replay)",
  TCB_BELOW_FLOOR: "validate: a reported TCB component is below the floor",
  CHIP_NOT_ALLOWED: "validate: CHIP_ID is not on the allowlist",
  GUEST_SVN_TOO_LOW: "validate: GUEST_SVN is below the minimum",
  PLATFORM_INFO: "validate: a PLATFORM_INFO requirement is not met",
  FIRMWARE_TOO_OLD: "validate: the firmware version is below the minimum, or committed differs from current",
  FIELD_MISMATCH: "validate: FAMILY_ID, IMAGE_ID or another exact-match field differs",
  TOKEN_INVALID:
    "result tokens: an attestation-result token is malformed or its signature, issuer or audience is wrong",
  TOKEN_EXPIRED: "result tokens: an attestation-result token has expired",
  EVIDENCE_MALFORMED: "abi: the evidence is malformed (e.g. a certificate table entry outside the table)",
  QUOTE_MALFORMED:
    "tdx abi: the quote's structure is wrong: version, key or TEE type, a length, a certification data type (`path` names it)",
  QUOTE_SIGNATURE:
    "tdx verify: the attestation key is not a P-256 point, or the quote signature does not verify with it",
  QE_REPORT_SIGNATURE: "tdx verify: the Quoting Enclave's report is not signed by the PCK certificate's key",
  QE_REPORT_BINDING:
    "tdx verify: the QE report data is not SHA-256(attestation key || QE auth data) followed by 32 zero bytes",
  PCK_EXTENSIONS:
    "tdx verify: the PCK certificate's SGX extensions (FMSPC, PCE-ID, TCB, PPID) are missing or malformed",
  COLLATERAL_INVALID:
    "tdx verify: TCB info or QE identity malformed, of the wrong kind or version, or not signed by the Intel SGX TCB Signing key",
  COLLATERAL_EXPIRED: "tdx verify: `now` is outside the TCB info's or QE identity's issueDate..nextUpdate",
  COLLATERAL_MISMATCH:
    "tdx verify: the collateral is not for this platform (FMSPC, PCE-ID, TDX module signer or attributes, QE identity)",
  TCB_LEVEL_UNKNOWN: "tdx verify: no TCB level of the collateral matches the platform, TDX module or QE",
};

/** Refusal of untrusted input (report, certificate, CRL, policy file, token). */
export class AttestationError extends CodedError<AttestationErrorCode> {
  /** Field path of the offending value (`report.policy.debug`, `vcek.extensions.hwID`), when one applies. */
  readonly path: string | undefined;

  constructor(
    code: AttestationErrorCode,
    message: string,
    options: { readonly path?: string; readonly cause?: unknown; readonly problems?: readonly Problem[] } = {},
  ) {
    super(code, message, options);
    this.path = options.path;
  }
}

/** True when `e` is an {@link AttestationError} (optionally with the given code). */
export function isAttestationError(e: unknown, code?: AttestationErrorCode): e is AttestationError {
  return e instanceof AttestationError && (code === undefined || e.code === code);
}
