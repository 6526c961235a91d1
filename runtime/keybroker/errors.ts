/**
 * Errors of the key broker (runtime/keybroker). Every failure has a stable code; the HTTP layers
 * map each code to a status and a problem `type` URI (STYLE.md rules 8-9). Messages never carry
 * secrets (PINs, key bytes, report data, nonces, tokens).
 */

/** Every key-broker error code, in the order of the README table. */
export const KEY_BROKER_ERROR_CODES = [
  // request shape (KBS and admin listeners)
  "BODY_MALFORMED",
  "BODY_INVALID",
  "BODY_TOO_LARGE",
  "MEDIA_TYPE_UNSUPPORTED",
  "ROUTE_NOT_FOUND",
  // KBS protocol
  "PROTOCOL_VERSION_UNSUPPORTED",
  "TEE_UNSUPPORTED",
  "SESSION_MISSING",
  "SESSION_UNKNOWN",
  "NONCE_EXPIRED",
  "NONCE_REUSED",
  "NONCE_MISMATCH",
  "TEE_KEY_INVALID",
  "EVIDENCE_REJECTED",
  "ATTESTATION_DENIED",
  "TOKEN_MISSING",
  "TOKEN_INVALID",
  "TOKEN_EXPIRED",
  "TOKEN_SUPERSEDED",
  "RESOURCE_NOT_FOUND",
  "RESOURCE_FORBIDDEN",
  "SESSIONS_EXHAUSTED",
  // dependencies (fail closed)
  "HSM_UNAVAILABLE",
  "VERIFIER_UNAVAILABLE",
  "AUDIT_UNAVAILABLE",
  // admin API
  "ADMIN_UNAUTHENTICATED",
  "MANIFEST_SIGNATURE_INVALID",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "MANIFEST_STATE_CONFLICT",
  "DATA_KEY_INVALID",
  "ROTATION_IN_PROGRESS",
  // start-up and HSM
  "CONFIG_INVALID",
  "PIN_UNAVAILABLE",
  "HSM_MODULE_LOAD_FAILED",
  "HSM_TOKEN_NOT_FOUND",
  "HSM_LOGIN_FAILED",
  "HSM_MECHANISM_MISSING",
  "HSM_KEY_MISSING",
  "HSM_KEY_CONFLICT",
  "HSM_OPERATION_FAILED",
  "WRAPPED_KEY_CORRUPT",
  "STATE_CORRUPT",
  "INTERNAL",
] as const;

/** Stable code of a key-broker failure. */
export type KeyBrokerErrorCode = (typeof KEY_BROKER_ERROR_CODES)[number];

/** HTTP status for each code (codes that never reach HTTP map to 500). */
export const HTTP_STATUS: Readonly<Record<KeyBrokerErrorCode, number>> = {
  BODY_MALFORMED: 400,
  BODY_INVALID: 400,
  BODY_TOO_LARGE: 413,
  MEDIA_TYPE_UNSUPPORTED: 415,
  ROUTE_NOT_FOUND: 404,
  PROTOCOL_VERSION_UNSUPPORTED: 400,
  TEE_UNSUPPORTED: 400,
  SESSION_MISSING: 401,
  SESSION_UNKNOWN: 401,
  NONCE_EXPIRED: 401,
  NONCE_REUSED: 401,
  NONCE_MISMATCH: 400,
  TEE_KEY_INVALID: 400,
  EVIDENCE_REJECTED: 401,
  ATTESTATION_DENIED: 403,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_SUPERSEDED: 401,
  RESOURCE_NOT_FOUND: 404,
  RESOURCE_FORBIDDEN: 403,
  SESSIONS_EXHAUSTED: 503,
  HSM_UNAVAILABLE: 503,
  VERIFIER_UNAVAILABLE: 503,
  AUDIT_UNAVAILABLE: 503,
  ADMIN_UNAUTHENTICATED: 401,
  MANIFEST_SIGNATURE_INVALID: 422,
  MANIFEST_INVALID: 422,
  MANIFEST_UNKNOWN: 404,
  MANIFEST_STATE_CONFLICT: 409,
  DATA_KEY_INVALID: 422,
  ROTATION_IN_PROGRESS: 409,
  CONFIG_INVALID: 500,
  PIN_UNAVAILABLE: 500,
  HSM_MODULE_LOAD_FAILED: 503,
  HSM_TOKEN_NOT_FOUND: 503,
  HSM_LOGIN_FAILED: 503,
  HSM_MECHANISM_MISSING: 500,
  HSM_KEY_MISSING: 503,
  HSM_KEY_CONFLICT: 500,
  HSM_OPERATION_FAILED: 500,
  WRAPPED_KEY_CORRUPT: 500,
  STATE_CORRUPT: 500,
  INTERNAL: 500,
};

/** Prefix of the problem `type` URI; the code follows (`.../errors/NONCE_REUSED`). */
export const PROBLEM_TYPE_PREFIX = "https://confidential-inference.dev/keybroker/errors/";

/** Extra, non-secret facts attached to an error (drift class, field paths, HTTP status seen by a client). */
export interface KeyBrokerErrorDetails {
  /** Drift class of a verdict that caused the error. */
  readonly driftClass?: string;
  /** Every problem found, each with its field path (validation reports everything at once). */
  readonly problems?: readonly { readonly path: string; readonly message: string }[];
  /** HTTP status a client received (client-side errors). */
  readonly status?: number;
  /** Code reported by the server (client-side errors). */
  readonly serverCode?: string;
}

/** A key-broker failure with a stable `code`; `cause` is forwarded. */
export class KeyBrokerError extends Error {
  readonly code: KeyBrokerErrorCode;
  readonly details: KeyBrokerErrorDetails;

  constructor(
    code: KeyBrokerErrorCode,
    message: string,
    options: { cause?: unknown; details?: KeyBrokerErrorDetails } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KeyBrokerError";
    this.code = code;
    this.details = options.details ?? {};
  }

  /** HTTP status of this error. */
  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

/** True when `e` is a KeyBrokerError, optionally with the given code. */
export function isKeyBrokerError(e: unknown, code?: KeyBrokerErrorCode): e is KeyBrokerError {
  return e instanceof KeyBrokerError && (code === undefined || e.code === code);
}

/** RFC 7807 problem body sent for an error (KBS `ErrorInformation` plus `code`). */
export interface ProblemBody {
  readonly type: string;
  readonly detail: string;
  readonly code: KeyBrokerErrorCode;
  readonly driftClass?: string;
  readonly problems?: readonly { readonly path: string; readonly message: string }[];
}

/** Builds the problem body for an error; unknown errors become `INTERNAL` with a fixed message. */
export function problemOf(e: unknown): { status: number; body: ProblemBody } {
  const err = e instanceof KeyBrokerError ? e : new KeyBrokerError("INTERNAL", "internal error");
  const body: ProblemBody = {
    type: PROBLEM_TYPE_PREFIX + err.code,
    detail: err.message,
    code: err.code,
    ...(err.details.driftClass === undefined ? {} : { driftClass: err.details.driftClass }),
    ...(err.details.problems === undefined ? {} : { problems: err.details.problems }),
  };
  return { status: err.status, body };
}
