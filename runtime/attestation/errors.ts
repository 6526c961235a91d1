/**
 * Errors of the attestation verifier (`runtime/attestation`): one code per reason a report, its
 * certificates, a policy or an attestation-result token is refused. Untrusted bad input raises
 * {@link AttestationError}; caller misuse (wrong argument types, impossible options) raises `TypeError`.
 */

/** Every error code, grouped by the step that raises it. The README table lists the same set. */
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
  // evidence providers
  "EVIDENCE_MALFORMED",
] as const;

/** A stable reason code; see {@link ATTESTATION_ERROR_CODES}. */
export type AttestationErrorCode = (typeof ATTESTATION_ERROR_CODES)[number];

/** Refusal of untrusted input (report, certificate, CRL, policy file, token, provider output). */
export class AttestationError extends Error {
  /** Stable reason code. */
  readonly code: AttestationErrorCode;
  /** Field path of the offending value (`report.policy.debug`, `vcek.extensions.hwID`), when one applies. */
  readonly path: string | undefined;

  constructor(code: AttestationErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AttestationError";
    this.code = code;
    this.path = options.path;
  }
}

/** True when `e` is an {@link AttestationError} (optionally with the given code). */
export function isAttestationError(e: unknown, code?: AttestationErrorCode): e is AttestationError {
  return e instanceof AttestationError && (code === undefined || e.code === code);
}
