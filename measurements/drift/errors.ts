/**
 * Codes of the findings `compareManifests` returns (`errors` and `warnings`), and of the error
 * thrown when a caller asks for a comparison without errors. Classification itself never throws
 * on untrusted input: invalid evidence is a drift class, malformed claims are caller misuse
 * (TypeError).
 */
import { CodedError } from "../../core/index.js";

/** Every finding code, errors first, in documentation order. */
export const DRIFT_ERROR_CODES = [
  "PLATFORM_MISMATCH",
  "ENVIRONMENT_MISMATCH",
  "MEASUREMENT_UNEXPLAINED",
  "MEASUREMENT_NOT_UPDATED",
  "RELEASE_NOT_BUMPED",
  "TCB_FLOOR_LOWERED",
  "POLICY_WIDENED",
  "ALLOWLIST_REMOVED",
  "ARTIFACT_REBUILT",
] as const;

/** Stable code of a comparison finding (see {@link DRIFT_ERROR_MEANINGS}). */
export type DriftErrorCode = (typeof DRIFT_ERROR_CODES)[number];

/**
 * One line per code (docs/errors.md is generated from it). Errors: the new manifest is wrong or not
 * comparable; warnings: legitimate, but a reviewer must look.
 */
export const DRIFT_ERROR_MEANINGS: Readonly<Record<DriftErrorCode, string>> = {
  PLATFORM_MISMATCH: "the manifests are for different platforms",
  ENVIRONMENT_MISMATCH: "the manifests are for different environments",
  MEASUREMENT_UNEXPLAINED: "a measurement changed but none of its measured inputs did",
  MEASUREMENT_NOT_UPDATED: "a measured input changed but the measurement did not (stale or hand-edited)",
  RELEASE_NOT_BUMPED: "the content changed under the same release id",
  TCB_FLOOR_LOWERED: "a floor component went down, or a product's floor was removed",
  POLICY_WIDENED: "`allowedPolicyBits` gained bits (e.g. DEBUG, MIGRATE_MA, SMT)",
  ALLOWLIST_REMOVED: "`chipAllowlist`, `hostData` or `idKeyDigests` was removed (now unconstrained)",
  ARTIFACT_REBUILT: "an artifact's digest changed while its `source` did not (not reproducible, or tampered)",
};

/** Codes that are errors; all others are warnings. */
export const DRIFT_ERROR_SEVERITY: Readonly<Record<DriftErrorCode, "error" | "warning">> = {
  PLATFORM_MISMATCH: "error",
  ENVIRONMENT_MISMATCH: "error",
  MEASUREMENT_UNEXPLAINED: "error",
  MEASUREMENT_NOT_UPDATED: "error",
  RELEASE_NOT_BUMPED: "warning",
  TCB_FLOOR_LOWERED: "warning",
  POLICY_WIDENED: "warning",
  ALLOWLIST_REMOVED: "warning",
  ARTIFACT_REBUILT: "warning",
};

/** One error or warning of a manifest comparison. */
export interface DriftFinding {
  readonly code: DriftErrorCode;
  /** Field path in the new manifest (`launchShapes.small.measurement`); `` for the whole manifest. */
  readonly path: string;
  readonly message: string;
}

/**
 * A comparison found errors (thrown by `assertNoDriftErrors`). `code` is the first finding's code;
 * `findings` keeps every code, and `problems` the same findings as field-path problems.
 */
export class DriftError extends CodedError<DriftErrorCode> {
  readonly findings: readonly DriftFinding[];

  constructor(findings: readonly DriftFinding[], options: { readonly cause?: unknown } = {}) {
    const first = findings[0];
    if (first === undefined) throw new TypeError("DriftError needs at least one finding");
    super(
      first.code,
      `golden manifest comparison failed (${findings.length} error${findings.length === 1 ? "" : "s"}):\n${findings.map((f) => `${f.code}: ${f.path === "" ? "" : `${f.path}: `}${f.message}`).join("\n")}`,
      { ...options, problems: findings.map((f) => ({ path: f.path, message: f.message })) },
    );
    this.findings = findings;
  }
}

/** True when `e` is a {@link DriftError} (optionally whose first finding has the given code). */
export function isDriftError(e: unknown, code?: DriftErrorCode): e is DriftError {
  return e instanceof DriftError && (code === undefined || e.code === code);
}
