/**
 * Errors of the golden-manifest package (`measurements/manifest`). Every failure has a stable
 * `code`; untrusted bad input (a manifest file, a JWS, a golden config, artifact bytes) raises
 * `ManifestError`, caller misuse (a wrong argument type, an unsuitable key) raises `TypeError`.
 */

/** Every error code of `measurements/manifest`, in README order. */
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

/**
 * Stable codes:
 * - `MANIFEST_MALFORMED`: not UTF-8 JSON.
 * - `MANIFEST_INVALID`: JSON, but the schema or a cross-field rule fails (`problems` lists all).
 * - `MANIFEST_NOT_CANONICAL`: a signed payload is not the canonical serialisation of its manifest.
 * - `MANIFEST_SIGNATURE_INVALID`: the JWS is malformed, has a header other than ours, an algorithm
 *   other than ES384, or a signature that does not verify with the pinned key.
 * - `MANIFEST_SIGNER_FAILED`: the signer (software or HSM) threw or returned other than 96 bytes.
 * - `GOLDEN_CONFIG_INVALID`: the golden config (dedicated format or stack file) is invalid.
 * - `ARTIFACT_MISMATCH`: artifact bytes do not match their pinned sha256 or size.
 * - `MEASUREMENT_FAILED`: the launch-digest calculator refused a launch shape (cause forwarded).
 */
export type ManifestErrorCode = (typeof MANIFEST_ERROR_CODES)[number];

/** One problem found while validating, with the field path it concerns. */
export interface ManifestProblem {
  /** Field path, e.g. `launchShapes.runtime-small.inputs.kernel` or `tcbFloors.Milan.snp`; `` for the root. */
  readonly path: string;
  /** What is wrong, in words a reviewer can act on. */
  readonly message: string;
}

/** Formats a problem as `path: message` (or just `message` at the root). */
export function formatManifestProblem(problem: ManifestProblem): string {
  return problem.path === "" ? problem.message : `${problem.path}: ${problem.message}`;
}

/** A golden-manifest operation failed on untrusted input. */
export class ManifestError extends Error {
  readonly code: ManifestErrorCode;
  /** Every problem found (validation reports all at once); empty when not a validation error. */
  readonly problems: readonly ManifestProblem[];

  constructor(
    code: ManifestErrorCode,
    message: string,
    options: { problems?: readonly ManifestProblem[]; cause?: unknown } = {},
  ) {
    const problems = options.problems ?? [];
    const detail = problems.length === 0 ? "" : `\n${problems.map(formatManifestProblem).join("\n")}`;
    super(`${message}${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ManifestError";
    this.code = code;
    this.problems = problems;
  }
}

/** Renders a zod-style path (`["launchShapes", "a", "vcpus"]`, `["chipAllowlist", 0]`) as `launchShapes.a.vcpus` / `chipAllowlist[0]`. */
export function manifestPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === "number" ? `${out}[${part}]` : out === "" ? String(part) : `${out}.${String(part)}`,
    "",
  );
}
