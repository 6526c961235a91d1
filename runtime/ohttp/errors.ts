/**
 * Errors of the OHTTP codec (runtime/ohttp): Binary HTTP (RFC 9292), key configurations and
 * Oblivious HTTP encapsulation (RFC 9458), chunked OHTTP (draft-ietf-ohai-chunked-ohttp-08).
 * Messages name the field or chunk at fault and never carry key material or message content.
 */
import { CodedError, type CodedErrorOptions } from "../../core/index.js";

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

/** One line per code (docs/errors.md is generated from it). */
export const OHTTP_ERROR_MEANINGS: Readonly<Record<OhttpErrorCode, string>> = {
  BHTTP_MALFORMED:
    "Binary HTTP message invalid (RFC 9292 section 4): bad framing indicator, truncated outside the allowed points, invalid method/field bytes, forbidden pseudo-field, status out of range, non-zero padding",
  KEY_CONFIG_INVALID: "key configuration or `application/ohttp-keys` list badly encoded, or its public key unusable",
  OHTTP_REQUEST_MALFORMED: "encapsulated request shorter than its header, `enc` and AEAD tag",
  OHTTP_RESPONSE_MALFORMED: "encapsulated response shorter than its nonce and AEAD tag",
  OHTTP_KEY_ID_UNKNOWN: "no gateway key with that `key_id`, or that key is not of the request's KEM",
  OHTTP_UNSUPPORTED_SUITE: "KEM/KDF/AEAD not supported here, or the pair not offered by the key",
  OHTTP_DECRYPT_FAILED:
    "HPKE or AEAD authentication failed: tampered, reordered or misplaced data, wrong key, a non-final chunk presented as final, an empty non-final chunk (draft section 6)",
  CHUNK_MALFORMED: "a chunk shorter than the AEAD tag",
  CHUNK_TRUNCATED: "the stream ended inside a chunk, the request header or the response nonce",
  CHUNK_FINAL_MISSING: "the stream ended at a chunk boundary without the final chunk",
  MESSAGE_TOO_LARGE: "a limit above was exceeded",
};

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
