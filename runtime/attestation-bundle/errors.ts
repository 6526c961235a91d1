/**
 * Errors of the attestation bundle format (runtime/attestation-bundle): a bundle or a bundle list
 * that does not fit its schema. Messages and problems name fields, never their values.
 */
import { CodedError, type CodedErrorOptions } from "../../core/index.js";

/** Every bundle error code (docs/errors.md lists the same set). */
export const BUNDLE_ERROR_CODES = ["BUNDLE_MALFORMED"] as const;

/** Stable code of a bundle format failure. */
export type BundleErrorCode = (typeof BUNDLE_ERROR_CODES)[number];

/** One line per code (docs/errors.md is generated from it). */
export const BUNDLE_ERROR_MEANINGS: Readonly<Record<BundleErrorCode, string>> = {
  BUNDLE_MALFORMED:
    "an attestation bundle (or a gateway's bundle list) does not fit the strict schema: unknown or missing keys, bad base64, a report that is not 1184 bytes, a key configuration that does not decode, times out of order; `problems` lists every field path",
};

/** A bundle that does not fit the schema. */
export class BundleError extends CodedError<BundleErrorCode> {
  constructor(code: BundleErrorCode, message: string, options: CodedErrorOptions = {}) {
    super(code, message, options);
  }
}

/** True when `e` is a {@link BundleError}. */
export function isBundleError(e: unknown): e is BundleError {
  return e instanceof BundleError;
}
