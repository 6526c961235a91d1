/**
 * Errors of the OHTTP codec (runtime/ohttp): Binary HTTP (RFC 9292), key configurations and
 * Oblivious HTTP encapsulation (RFC 9458), chunked OHTTP (draft-ietf-ohai-chunked-ohttp-08).
 * Messages name the field or chunk at fault and never carry key material or message content.
 */
import { CodedError, type CodedErrorOptions } from "../../core/errors.js";

/** Every OHTTP codec error code (docs/ohttp.md has the table; a test keeps them equal). */
export const OHTTP_ERROR_CODES = [
  "BHTTP_MALFORMED",
  "KEY_CONFIG_INVALID",
  "OHTTP_REQUEST_MALFORMED",
  "OHTTP_RESPONSE_MALFORMED",
  "OHTTP_KEY_ID_UNKNOWN",
  "OHTTP_UNSUPPORTED_SUITE",
  "OHTTP_DECRYPT_FAILED",
  "CHUNK_MALFORMED",
  "CHUNK_TRUNCATED",
  "CHUNK_FINAL_MISSING",
  "MESSAGE_TOO_LARGE",
] as const;

/** Stable code of an OHTTP codec failure. */
export type OhttpErrorCode = (typeof OHTTP_ERROR_CODES)[number];

/** A malformed, unsupported, oversized or unauthentic OHTTP/BHTTP input, with a stable `code`. */
export class OhttpError extends CodedError<OhttpErrorCode> {
  /** Field path of the offending value (`bhttp.headers[2].name`, `request.kdf_id`, `chunk[3]`). */
  readonly path: string;

  constructor(code: OhttpErrorCode, path: string, message: string, options: CodedErrorOptions = {}) {
    super(code, `${path}: ${message}`, options);
    this.path = path;
  }
}

/** True when `e` is an {@link OhttpError}, optionally with the given code. */
export function isOhttpError(e: unknown, code?: OhttpErrorCode): e is OhttpError {
  return e instanceof OhttpError && (code === undefined || e.code === code);
}
