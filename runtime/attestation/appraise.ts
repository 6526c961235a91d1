/**
 * `appraiseSnpEvidence`: the three steps in one call (parse + verify, validate, drift class) with a
 * verdict that never throws for bad evidence. This is what a relying party (the key broker) calls.
 */
import {
  assessDrift,
  RELEASABLE_DRIFT_CLASSES,
  type DriftClass,
  type EvidenceClaims,
  type PlatformInventory,
} from "../../measurements/drift/index.js";
import type { GoldenManifest, ManifestSet } from "../../measurements/manifest/index.js";
import { isAttestationError } from "./errors.js";
import type { SnpAttestationPolicy } from "./validate/attestation-policy.js";
import type { ReplayGuard } from "./validate/replay.js";
import { validateSnpReport, type PolicyFailure } from "./validate/validate.js";
import { verifySnpEvidence, type VerifiedSnpEvidence, type VerifySnpOptions } from "./verify/verify.js";

/** Options of {@link appraiseSnpEvidence}: those of `verifySnpEvidence` plus the policy inputs. */
export interface AppraiseSnpOptions extends VerifySnpOptions {
  readonly policy: SnpAttestationPolicy;
  /** Verified golden manifests of the environment (any status). */
  readonly manifests?: ManifestSet | readonly GoldenManifest[];
  /** Host inventory by chip id (for `platform-updated`). */
  readonly inventory?: PlatformInventory;
  /** Expected REPORT_DATA binding. */
  readonly expectedReportData?: Uint8Array;
  /** Single-use bindings. */
  readonly replay?: ReplayGuard;
}

/** What every TEE's verdict says (SNP's and TDX's share the drift classes, so runbooks stay one table). */
export interface VerdictBase {
  /** True when the evidence is authentic and no policy check failed. */
  readonly accepted: boolean;
  /** True when accepted and the drift class allows release (`ok`, `platform-updated`). */
  readonly releasable: boolean;
  readonly driftClass: DriftClass;
  /** One line on why this drift class (no secrets). */
  readonly driftReason: string;
  /** Every failure (authenticity: exactly one; policy: all of them), with codes and field paths. */
  readonly failures: readonly PolicyFailure[];
  readonly warnings: readonly string[];
}

/** The verdict on one piece of evidence. */
export interface SnpVerdict extends VerdictBase {
  readonly tee: "sev-snp";
  /** Claims of authentic evidence; undefined when verification failed. */
  readonly claims: EvidenceClaims | undefined;
  /** The verified evidence; undefined when verification failed. */
  readonly evidence: VerifiedSnpEvidence | undefined;
  /** Release id of the active golden manifest holding the measurement, if any. */
  readonly release: string | undefined;
}

const BINDING_CODES = new Set(["REPORT_DATA_MISMATCH", "REPORT_DATA_REPLAYED"]);

/** Drift class without golden manifests: from the verifier's own failures only (the manifest logic lives in measurements/drift). */
function driftWithoutManifests(failures: readonly PolicyFailure[]): { driftClass: DriftClass; reason: string } {
  const has = (code: string) => failures.some((f) => f.code === code);
  if (failures.some((f) => BINDING_CODES.has(f.code)))
    return { driftClass: "invalid-evidence", reason: "the REPORT_DATA binding failed (mismatch or replay)" };
  if (has("MEASUREMENT_NOT_ALLOWED"))
    return { driftClass: "unknown-measurement", reason: "the measurement is not in the policy's allowed measurements" };
  if (has("TCB_BELOW_FLOOR"))
    return { driftClass: "tcb-below-floor", reason: "the reported TCB is below the policy's floor" };
  return {
    driftClass: "ok",
    reason: "authentic; no golden manifests given, so the class reflects the policy checks only",
  };
}

/**
 * Verifies, validates and classifies SEV-SNP evidence. Bad evidence gives a verdict (never a
 * throw); `failures[0].code === "COLLATERAL_UNAVAILABLE"` means no verdict could be reached, so
 * the caller decides whether to retry, fail closed (default) or fail open.
 *
 * @example
 * const verdict = await appraiseSnpEvidence({
 *   report, collateral, anchors: anchorsFor(policy.allowedRoots), now: new Date(),
 *   policy, manifests, expectedReportData, replay, cache,
 * });
 * if (verdict.releasable) release(verdict.claims);
 */
export async function appraiseSnpEvidence(opts: AppraiseSnpOptions): Promise<SnpVerdict> {
  let evidence: VerifiedSnpEvidence;
  try {
    evidence = await verifySnpEvidence(opts);
  } catch (e) {
    if (!isAttestationError(e)) throw e;
    const failure: PolicyFailure = { code: e.code, path: e.path ?? "report", message: e.message };
    const reason =
      e.code === "COLLATERAL_UNAVAILABLE"
        ? "no verdict: collateral unavailable"
        : "evidence failed verification (signature, chain, binding or structure)";
    return {
      tee: "sev-snp",
      accepted: false,
      releasable: false,
      driftClass: "invalid-evidence",
      driftReason: reason,
      failures: [failure],
      warnings: [],
      claims: undefined,
      evidence: undefined,
      release: undefined,
    };
  }
  const v = validateSnpReport({
    evidence,
    policy: opts.policy,
    manifests: opts.manifests,
    expectedReportData: opts.expectedReportData,
    replay: opts.replay,
    now: opts.now,
  });
  const bindingFailed = v.failures.some((f) => BINDING_CODES.has(f.code));
  let driftClass: DriftClass;
  let driftReason: string;
  if (opts.manifests !== undefined) {
    const a = assessDrift({
      claims: evidence.claims,
      evidenceValid: !bindingFailed,
      manifests: opts.manifests,
      inventory: opts.inventory,
      floors: opts.policy.tcbFloors,
    });
    driftClass = a.driftClass;
    driftReason = bindingFailed ? "the REPORT_DATA binding failed (mismatch or replay)" : a.reason;
  } else {
    ({ driftClass, reason: driftReason } = driftWithoutManifests(v.failures));
  }
  const accepted = v.failures.length === 0;
  // "ok" and "platform-updated" mean "release": a verdict that fails any other policy check (debug,
  // migration agent, VMPL, policy bits, chip, host_data, ...) must not carry them. Authentic evidence
  // from a guest outside the policy is treated like forged evidence: deny, possible compromise.
  if (!accepted && RELEASABLE_DRIFT_CLASSES.includes(driftClass)) {
    driftClass = "invalid-evidence";
    driftReason = `authentic, but outside the attestation policy (${[...new Set(v.failures.map((f) => f.code))].join(", ")})`;
  }
  return {
    tee: "sev-snp",
    accepted,
    releasable: accepted && RELEASABLE_DRIFT_CLASSES.includes(driftClass),
    driftClass,
    driftReason,
    failures: v.failures,
    warnings: v.warnings,
    claims: evidence.claims,
    evidence,
    release: v.matches[0]?.manifest.release,
  };
}
