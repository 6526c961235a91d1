/**
 * Errors of the golden-manifest package (`measurements/manifest`). Every failure has a stable
 * `code`; untrusted bad input (a manifest file, a JWS, a golden config, artifact bytes) raises
 * `ManifestError`, caller misuse (a wrong argument type, an unsuitable key) raises `TypeError`.
 */
import { CodedError, type CodedErrorOptions, type Problem } from "../../core/index.js";

/** Every error code of `measurements/manifest`, in documentation order. */
export const MANIFEST_ERROR_CODES = [
  "MANIFEST_MALFORMED",
  "MANIFEST_INVALID",
  "MANIFEST_NOT_CANONICAL",
  "MANIFEST_SIGNATURE_INVALID",
  "MANIFEST_SIGNER_FAILED",
  "GOLDEN_CONFIG_INVALID",
  "ARTIFACT_MISMATCH",
  "MEASUREMENT_FAILED",
] as const;

/** Stable code of a golden-manifest failure (see {@link MANIFEST_ERROR_MEANINGS}). */
export type ManifestErrorCode = (typeof MANIFEST_ERROR_CODES)[number];

/** One line per code (docs/errors.md is generated from it). */
export const MANIFEST_ERROR_MEANINGS: Readonly<Record<ManifestErrorCode, string>> = {
  MANIFEST_MALFORMED: "not UTF-8 JSON",
  MANIFEST_INVALID: "schema or cross-field rule failed; `problems` lists every field path",
  MANIFEST_NOT_CANONICAL: "a signed payload is not the canonical serialisation of its manifest",
  MANIFEST_SIGNATURE_INVALID:
    "malformed JWS, foreign header or algorithm (not ES384), or a signature that does not verify with the pinned key",
  MANIFEST_SIGNER_FAILED: "the signer (software or HSM) threw or returned other than 96 bytes",
  GOLDEN_CONFIG_INVALID:
    "the golden config (dedicated file or stack file) is invalid; `problems` lists every field path",
  ARTIFACT_MISMATCH: "artifact bytes differ from their pinned sha256 or size",
  MEASUREMENT_FAILED: "the launch-digest calculator refused a launch shape (its error is the cause)",
};

/**
 * One problem found while validating, with the field path it concerns
 * (`launchShapes.runtime-small.inputs.kernel`, `tcbFloors.Milan.snp`; `` for the root).
 */
export type ManifestProblem = Problem;

/** Formats a problem as `path: message` (or just `message` at the root). */
export function formatManifestProblem(problem: Problem): string {
  return problem.path === "" ? problem.message : `${problem.path}: ${problem.message}`;
}

/** A golden-manifest operation failed on untrusted input; the message ends with one line per problem. */
export class ManifestError extends CodedError<ManifestErrorCode> {
  constructor(code: ManifestErrorCode, message: string, options: CodedErrorOptions = {}) {
    const problems = options.problems ?? [];
    const detail = problems.length === 0 ? "" : `\n${problems.map(formatManifestProblem).join("\n")}`;
    super(code, `${message}${detail}`, options);
  }
}

/** True when `e` is a {@link ManifestError} (optionally with the given code). */
export function isManifestError(e: unknown, code?: ManifestErrorCode): e is ManifestError {
  return e instanceof ManifestError && (code === undefined || e.code === code);
}
