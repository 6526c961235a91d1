/**
 * `appraiseTdxQuote`: verify (quote, chain, collateral), validate (policy) and classify a TDX quote in one call, with
 * a verdict that never throws for bad evidence, on the same drift classes as SEV-SNP so runbooks stay one table:
 * `ok`; `unknown-measurement` (MRTD or an RTMR not allowed); `tcb-below-floor` (TCB status not accepted, or
 * TEE_TCB_SVN below the minimum); `invalid-evidence` (anything else: forged, malformed, debug, wrong binding).
 */
import type { DriftClass } from "../../../measurements/drift/index.js";
import type { VerdictBase } from "../appraise.js";
import { isAttestationError } from "../errors.js";
import type { PolicyFailure } from "../validate/validate.js";
import { type TdxPolicy, validateTdxQuote } from "./policy.js";
import { type VerifiedTdxQuote, verifyTdxQuote, type VerifyTdxOptions } from "./verify.js";

/** Options of {@link appraiseTdxQuote}. */
export interface AppraiseTdxOptions extends VerifyTdxOptions {
  readonly policy: TdxPolicy;
  /** Expected REPORT_DATA (64 bytes), e.g. the key broker's nonce binding. */
  readonly expectedReportData?: Uint8Array;
}

/** The verdict on one quote. */
export interface TdxVerdict extends VerdictBase {
  readonly tee: "tdx";
  /** The verified quote; undefined when verification failed. */
  readonly evidence: VerifiedTdxQuote | undefined;
}

const deny = (
  driftClass: DriftClass,
  driftReason: string,
  failures: readonly PolicyFailure[],
  evidence?: VerifiedTdxQuote,
) => ({
  tee: "tdx" as const,
  accepted: false,
  releasable: false,
  driftClass,
  driftReason,
  failures,
  warnings: [],
  evidence,
});

/**
 * Appraises a quote.
 *
 * @example
 * const verdict = appraiseTdxQuote({ quote, now: new Date(), collateral, policy, expectedReportData });
 * if (verdict.releasable) release();
 */
export function appraiseTdxQuote(o: AppraiseTdxOptions): TdxVerdict {
  let evidence: VerifiedTdxQuote;
  try {
    evidence = verifyTdxQuote(o);
  } catch (e) {
    if (!isAttestationError(e)) throw e;
    return deny(
      "invalid-evidence",
      e.code === "COLLATERAL_UNAVAILABLE"
        ? "no verdict: collateral unavailable"
        : "the quote or its collateral failed verification (signature, chain, collateral or structure)",
      [{ code: e.code, path: e.path ?? "quote", message: e.message }],
    );
  }
  const { failures, warnings } = validateTdxQuote(evidence, o.policy, o.expectedReportData);
  if (failures.length === 0)
    return {
      tee: "tdx",
      accepted: true,
      releasable: true,
      driftClass: "ok",
      driftReason: "authentic, and every measurement and the TCB level are allowed",
      failures: [],
      warnings,
      evidence,
    };
  const codes = new Set(failures.map((f) => f.code));
  const only = (...allowed: string[]) => [...codes].every((c) => allowed.includes(c));
  const [driftClass, reason]: [DriftClass, string] = only("MEASUREMENT_NOT_ALLOWED")
    ? ["unknown-measurement", "MRTD or an RTMR is not an allowed value"]
    : only("TCB_BELOW_FLOOR")
      ? ["tcb-below-floor", "the TCB level (collateral status or TEE_TCB_SVN) is below what the policy accepts"]
      : only("MEASUREMENT_NOT_ALLOWED", "TCB_BELOW_FLOOR")
        ? ["unknown-measurement", "an unknown measurement on a TCB below the policy's floor"]
        : ["invalid-evidence", `authentic, but outside the attestation policy (${[...codes].join(", ")})`];
  return { ...deny(driftClass, reason, failures, evidence), warnings };
}
