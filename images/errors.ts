/**
 * Errors of `images` (OCI image builds, STYLE rules 8-9): stable codes; messages name the input,
 * file or path at fault. Nothing here ever carries a secret: images hold code and public trust
 * material only (keys arrive at run time from the key broker).
 */
import { CodedError } from "../core/index.js";

/** Every image-build error code, in documentation order. */
export const IMAGE_ERROR_CODES = [
  "LOCK_INVALID",
  "INPUT_UNAVAILABLE",
  "INPUT_DIGEST_MISMATCH",
  "BUILD_OUTPUT_MISSING",
  "TAR_ENTRY_INVALID",
  "LAYOUT_INVALID",
] as const;

/** Stable error codes of `images`. */
export type ImageErrorCode = (typeof IMAGE_ERROR_CODES)[number];

/** One line per code: what happened (docs/errors.md is generated from it). */
export const IMAGE_ERROR_MEANINGS: Readonly<Record<ImageErrorCode, string>> = {
  LOCK_INVALID: "`images/lock.json` does not fit its schema; `problems` names every field",
  INPUT_UNAVAILABLE:
    "a pinned input (the Node.js tarball, a Debian package) is neither in the cache nor downloadable (offline, or the archive dropped that version: update the lock)",
  INPUT_DIGEST_MISMATCH: "a downloaded or cached input's SHA-256 differs from the lock's pin (nothing was used)",
  BUILD_OUTPUT_MISSING: "a compiled service under dist/ is missing: run `npm run build` first",
  TAR_ENTRY_INVALID: "a layer entry's path is too long for ustar, not relative, or appears twice",
  LAYOUT_INVALID: "an OCI image layout does not hold what its index names (blob missing, digest mismatch)",
};

/** An image build failure. */
export class ImageError extends CodedError<ImageErrorCode> {}
