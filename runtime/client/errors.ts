/**
 * Errors of the confidential client (runtime/client): every reason the client refuses a runtime
 * before it sends anything (one code per check, so a caller and the proxy's 502 answer say which
 * check failed), and the failures after sending. Messages name the check and the field, never the
 * request or its answer.
 */
import { CodedError, type CodedErrorOptions } from "../../core/index.js";

/** Every client error code (docs/errors.md lists the same set). */
export const CLIENT_ERROR_CODES = [
  "CLIENT_CONFIG_INVALID",
  "NO_RUNTIME",
  "BUNDLE_UNAVAILABLE",
  "BUNDLE_MALFORMED",
  "BUNDLE_NOT_YET_VALID",
  "BUNDLE_EXPIRED",
  "NONCE_MISMATCH",
  "MANIFEST_UNVERIFIED",
  "ROOT_UNTRUSTED",
  "EVIDENCE_INVALID",
  "KEY_NOT_BOUND",
  "MEASUREMENT_UNKNOWN",
  "DEBUG_POLICY",
  "TCB_BELOW_FLOOR",
  "POLICY_VIOLATION",
  "KEY_CONFIG_UNSUPPORTED",
  "RELAY_FAILED",
  "RESPONSE_INVALID",
] as const;

/** Stable code of a client failure. */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** Codes raised before anything is sent: the runtime (or the client's own configuration) was refused. */
export const REFUSAL_CODES: ReadonlySet<ClientErrorCode> = new Set(
  CLIENT_ERROR_CODES.filter((c) => c !== "RELAY_FAILED" && c !== "RESPONSE_INVALID"),
);

/** One line per code (docs/errors.md is generated from it). */
export const CLIENT_ERROR_MEANINGS: Readonly<Record<ClientErrorCode, string>> = {
  CLIENT_CONFIG_INVALID: "the client's trust policy or options are invalid; `problems` lists every field path",
  NO_RUNTIME: "the gateway lists no runtime for the model",
  BUNDLE_UNAVAILABLE: "the gateway did not answer with a bundle (unreachable, or an HTTP error: `details.status`)",
  BUNDLE_MALFORMED: "the bundle does not fit the strict schema (runtime/attestation-bundle)",
  BUNDLE_NOT_YET_VALID: "the bundle's `notBefore` is after the client's clock",
  BUNDLE_EXPIRED: "the bundle's `notAfter` has passed: its key may no longer be used",
  NONCE_MISMATCH: "a bundle asked for with the client's nonce carries another nonce (or none)",
  MANIFEST_UNVERIFIED:
    "the bundle's golden manifest does not verify with a pinned release key (or is malformed); the measurement cannot be judged",
  ROOT_UNTRUSTED:
    "the evidence's certificate chain ends in a root the client does not pin (e.g. another platform's ARK)",
  EVIDENCE_INVALID:
    "the evidence is not authentic: report signature, certificate chain, VCEK extensions or structure (`details.failures`)",
  KEY_NOT_BOUND:
    "REPORT_DATA does not bind the bundle's key configuration, validity window and nonce: the key is not the attested runtime's",
  MEASUREMENT_UNKNOWN: "the launch measurement is in no active golden manifest the client trusts",
  DEBUG_POLICY: "the guest policy allows debugging (the host could read guest memory)",
  TCB_BELOW_FLOOR: "the platform's reported TCB is below the client's floor (or the manifest's)",
  POLICY_VIOLATION:
    "another attestation policy check failed (migration agent, VMPL, guest policy, chip, firmware; `details.failures`)",
  KEY_CONFIG_UNSUPPORTED: "the key configuration offers no HPKE suite this client implements",
  RELAY_FAILED:
    "after sending: the gateway or runtime answered an error in clear, or the connection failed (`details.status`, `details.upstreamCode`)",
  RESPONSE_INVALID: "after sending: the encapsulated answer did not open or decode (tampered, truncated or malformed)",
};

/** A refusal or failure of the confidential client. */
export class ClientError extends CodedError<ClientErrorCode> {
  /** Machine-readable context (HTTP status, verifier failures), never contents. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ClientErrorCode,
    message: string,
    options: CodedErrorOptions & { readonly details?: Readonly<Record<string, unknown>> } = {},
  ) {
    super(code, message, options);
    this.details = options.details ?? {};
  }
}

/** True when `e` is a {@link ClientError} (optionally with the given code). */
export function isClientError(e: unknown, code?: ClientErrorCode): e is ClientError {
  return e instanceof ClientError && (code === undefined || e.code === code);
}
