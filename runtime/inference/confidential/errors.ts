/**
 * Errors of the runtime's confidential endpoint (runtime/inference/confidential): the OHTTP gateway
 * resource and the attestation bundles. The codec's own failures keep their `runtime/ohttp` codes;
 * these are the runtime's. Answers are `application/problem+json` `{ type, title, code }` in clear
 * (RFC 9458 section 5.2: the gateway resource reports errors without an encapsulated response).
 */
import { CodedError, type CodedErrorOptions } from "../../../core/index.js";

/** Every code of the confidential endpoint (docs/errors.md lists the same set). */
export const CONFIDENTIAL_ERROR_CODES = [
  "OHTTP_REPLAYED",
  "REPLAY_CACHE_FULL",
  "NONCE_INVALID",
  "NONCE_RATE_LIMITED",
  "ATTESTATION_UNAVAILABLE",
  "INTERNAL",
  "ATTESTATION_CONFIG_INVALID",
] as const;

/** Stable code of a confidential-endpoint failure. */
export type ConfidentialErrorCode = (typeof CONFIDENTIAL_ERROR_CODES)[number];

/** HTTP status of each code (`ATTESTATION_CONFIG_INVALID` ends the boot and never reaches a client). */
export const CONFIDENTIAL_ERROR_STATUS: Readonly<Record<ConfidentialErrorCode, number>> = {
  OHTTP_REPLAYED: 400,
  REPLAY_CACHE_FULL: 503,
  NONCE_INVALID: 400,
  NONCE_RATE_LIMITED: 429,
  ATTESTATION_UNAVAILABLE: 503,
  INTERNAL: 500,
  ATTESTATION_CONFIG_INVALID: 500,
};

/** One line per code (docs/errors.md is generated from it). */
export const CONFIDENTIAL_ERROR_MEANINGS: Readonly<Record<ConfidentialErrorCode, string>> = {
  OHTTP_REPLAYED:
    "an encapsulated request whose `enc` was already opened with this key (RFC 9458 section 6.5): refused before it reaches an API",
  REPLAY_CACHE_FULL:
    "the replay cache holds its maximum of live entries; new requests are refused (fail closed) until old keys expire",
  NONCE_INVALID: "`?nonce=` is not 16..64 bytes of lower-case hex",
  NONCE_RATE_LIMITED: "fresh bundles for client nonces are limited per minute (each costs a report from the platform)",
  ATTESTATION_UNAVAILABLE: "the platform did not produce evidence for a bundle (the runtime retries its own refresh)",
  INTERNAL: "any other failure while opening or answering (fixed message; logged inside the boundary by type only)",
  ATTESTATION_CONFIG_INVALID: "boot: the `attestation` config section is invalid; `problems` lists every field path",
};

/** A failure of the confidential endpoint. */
export class ConfidentialError extends CodedError<ConfidentialErrorCode> {
  constructor(code: ConfidentialErrorCode, message: string, options: CodedErrorOptions = {}) {
    super(code, message, options);
  }
}
