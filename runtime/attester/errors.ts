/**
 * Errors of the attester side (runtime/attester): evidence providers inside the guest and the KBS
 * client that trades evidence for keys.
 */
import { CodedError, type Problem } from "../../core/index.js";

/** Every attester error code. */
export const ATTESTER_ERROR_CODES = [
  // evidence providers
  "EVIDENCE_UNAVAILABLE",
  "EVIDENCE_MALFORMED",
  // KBS client
  "CLIENT_PROTOCOL_ERROR",
  "CLIENT_DECRYPT_FAILED",
] as const;

/** Stable code of an attester failure. */
export type AttesterErrorCode = (typeof ATTESTER_ERROR_CODES)[number];

/** One line per code (docs/errors.md is generated from it). */
export const ATTESTER_ERROR_MEANINGS: Readonly<Record<AttesterErrorCode, string>> = {
  EVIDENCE_UNAVAILABLE:
    "the guest's evidence interface (configfs-tsm, snpguest) is absent or failed: no evidence, nothing released",
  EVIDENCE_MALFORMED: "the provider's report is not 1184 bytes, or its certificate table is malformed",
  CLIENT_PROTOCOL_ERROR:
    "the key broker refused a request or answered outside the protocol (`details` has the status, its code and drift class)",
  CLIENT_DECRYPT_FAILED: "a released resource could not be decrypted with the session's TEE key",
};

/** Non-secret facts a client error carries about the server's answer. */
export interface AttesterErrorDetails {
  /** HTTP status the client received. */
  readonly status?: number;
  /** Code the server reported. */
  readonly serverCode?: string;
  /** Drift class the server reported. */
  readonly driftClass?: string;
}

/** A failure on the attester side with a stable `code`; `cause` is forwarded. */
export class AttesterError extends CodedError<AttesterErrorCode> {
  /** Field path of the offending value, when one applies (`evidence`, `keyBroker.url`). */
  readonly path: string | undefined;
  readonly details: AttesterErrorDetails;

  constructor(
    code: AttesterErrorCode,
    message: string,
    options: {
      readonly cause?: unknown;
      readonly path?: string;
      readonly details?: AttesterErrorDetails;
      readonly problems?: readonly Problem[];
    } = {},
  ) {
    super(code, message, options);
    this.path = options.path;
    this.details = options.details ?? {};
  }
}

/** True when `e` is an {@link AttesterError}, optionally with the given code. */
export function isAttesterError(e: unknown, code?: AttesterErrorCode): e is AttesterError {
  return e instanceof AttesterError && (code === undefined || e.code === code);
}
