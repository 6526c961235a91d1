/**
 * The appraisal policy for Intel TDX quotes and its checks (pure): which TD measurements are allowed (MRTD, RTMR0-3,
 * MRCONFIGID for Kata initdata), which TDX module (MRSEAM, MRSIGNERSEAM), TD attributes (debug refused unless
 * allowed; only known bits), XFAM, a minimum TEE_TCB_SVN, the REPORT_DATA binding, and which collateral TCB statuses
 * are acceptable. JSON form for `attestctl verify tdx --policy FILE` and the key broker; unknown keys refused.
 */
import { z } from "zod";
import { formatProblems, problemCount, problemsFromIssues } from "../../../core/index.js";
import { AttestationError } from "../errors.js";
import type { PolicyFailure } from "../validate/validate.js";
import { TCB_STATUSES } from "./collateral.js";
import { decodeTdAttributes } from "./quote.js";
import type { VerifiedTdxQuote } from "./verify.js";

const hex = (bytes: number, what: string) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${what}: ${bytes * 2} lower-case hex characters`);
const list = (bytes: number, what: string) =>
  z
    .array(hex(bytes, what))
    .min(1)
    .refine((a) => new Set(a).size === a.length, "values must be unique");

/** Known TDATTRIBUTES bits (debug 0, SEPT_VE_DISABLE 28, PKS 30, KL 31, PERFMON 63); others are refused. */
const KNOWN_TD_ATTRIBUTES = (1n << 0n) | (1n << 28n) | (1n << 30n) | (1n << 31n) | (1n << 63n);

/** zod schema of the TDX policy JSON. */
export const tdxPolicySchema = z.strictObject({
  /** Allowed MRTDs (the TD's build-time measurement, 96 hex). Required. */
  mrTd: list(48, "mrTd"),
  /** Allowed values per RTMR index ("0".."3"), 96 hex each. Absent index: not checked. */
  rtmrs: z
    .strictObject({
      "0": list(48, "rtmr0").optional(),
      "1": list(48, "rtmr1").optional(),
      "2": list(48, "rtmr2").optional(),
      "3": list(48, "rtmr3").optional(),
    })
    .default({}),
  /** Allowed MRCONFIGIDs (Kata: the initdata digest, zero-padded). Absent: not checked. */
  mrConfigId: list(48, "mrConfigId").optional(),
  /** Allowed TDX modules (MRSEAM). Absent: not checked. */
  mrSeam: list(48, "mrSeam").optional(),
  /** Allowed module signers (MRSIGNERSEAM); default: all zero (Intel). */
  mrSignerSeam: list(48, "mrSignerSeam").default(["0".repeat(96)]),
  /** Accept a debuggable TD (default false: its memory is readable by the host). */
  allowDebug: z.boolean().default(false),
  /** Allowed XFAM values (16 hex, little-endian as in the quote). Absent: not checked. */
  xfam: list(8, "xfam").optional(),
  /** Minimum TEE_TCB_SVN, compared byte by byte (32 hex). Absent: not checked. */
  minTeeTcbSvn: hex(16, "minTeeTcbSvn").optional(),
  /** Collateral TCB statuses accepted (default UpToDate and SWHardeningNeeded, the latter with a warning). */
  tcbStatuses: z.array(z.enum(TCB_STATUSES)).min(1).default(["UpToDate", "SWHardeningNeeded"]),
  /** Refuse a quote checked without collateral (default true: fail closed). */
  requireCollateral: z.boolean().default(true),
});

/** A parsed TDX policy. */
export type TdxPolicy = z.infer<typeof tdxPolicySchema>;

/** Parses a policy document; every problem listed by path -> `POLICY_INVALID`. */
export function parseTdxPolicy(doc: unknown): TdxPolicy {
  const r = tdxPolicySchema.safeParse(doc);
  if (r.success) return r.data;
  const problems = problemsFromIssues(r.error.issues, { prefix: "policy" });
  throw new AttestationError(
    "POLICY_INVALID",
    `invalid TDX policy (${problemCount(problems)}):\n${formatProblems(problems, "\n")}`,
    { problems },
  );
}

/** What a TDX policy check found. */
export interface TdxValidation {
  readonly failures: readonly PolicyFailure[];
  readonly warnings: readonly string[];
}

/**
 * Checks a verified quote against a policy (and the caller's expected REPORT_DATA binding). Never throws for the
 * quote's content: every failure is listed with its code and field path.
 */
export function validateTdxQuote(
  v: VerifiedTdxQuote,
  policy: TdxPolicy,
  expectedReportData?: Uint8Array,
): TdxValidation {
  const failures: PolicyFailure[] = [];
  const warnings: string[] = [];
  const fail = (code: PolicyFailure["code"], path: string, message: string) => failures.push({ code, path, message });
  const b = v.quote.body;
  const h = (x: Buffer) => x.toString("hex");
  if (!policy.mrTd.includes(h(b.mrTd)))
    fail("MEASUREMENT_NOT_ALLOWED", "quote.body.mrTd", `MRTD ${h(b.mrTd)} is not allowed`);
  for (const i of [0, 1, 2, 3] as const) {
    const allowed = policy.rtmrs[String(i) as "0" | "1" | "2" | "3"];
    if (allowed && !allowed.includes(h(b.rtmrs[i])))
      fail("MEASUREMENT_NOT_ALLOWED", `quote.body.rtmr${i}`, `RTMR${i} ${h(b.rtmrs[i])} is not allowed`);
  }
  if (policy.mrConfigId && !policy.mrConfigId.includes(h(b.mrConfigId)))
    fail("HOST_DATA_MISMATCH", "quote.body.mrConfigId", "MRCONFIGID is not an allowed value");
  if (policy.mrSeam && !policy.mrSeam.includes(h(b.mrSeam)))
    fail("FIELD_MISMATCH", "quote.body.mrSeam", "the TDX module (MRSEAM) is not allowed");
  if (!policy.mrSignerSeam.includes(h(b.mrSignerSeam)))
    fail("FIELD_MISMATCH", "quote.body.mrSignerSeam", "the TDX module signer (MRSIGNERSEAM) is not allowed");
  const attrs = b.tdAttributes.readBigUInt64LE(0);
  if (decodeTdAttributes(b.tdAttributes).debug && !policy.allowDebug)
    fail("DEBUG_ALLOWED", "quote.body.tdAttributes.debug", "the TD is debuggable (its memory is readable)");
  if ((attrs & ~KNOWN_TD_ATTRIBUTES) !== 0n)
    fail(
      "GUEST_POLICY",
      "quote.body.tdAttributes",
      `unknown TD attribute bits 0x${(attrs & ~KNOWN_TD_ATTRIBUTES).toString(16)}`,
    );
  if (policy.xfam && !policy.xfam.includes(h(b.xfam))) fail("FIELD_MISMATCH", "quote.body.xfam", "XFAM is not allowed");
  if (policy.minTeeTcbSvn) {
    const min = Buffer.from(policy.minTeeTcbSvn, "hex");
    const below = [...min].findIndex((m, i) => b.teeTcbSvn[i]! < m);
    if (below >= 0)
      fail("TCB_BELOW_FLOOR", `quote.body.teeTcbSvn[${below}]`, `TEE_TCB_SVN byte ${below} is below the minimum`);
  }
  if (expectedReportData !== undefined && !Buffer.from(expectedReportData).equals(b.reportData))
    fail("REPORT_DATA_MISMATCH", "quote.body.reportData", "REPORT_DATA differs from the expected binding");
  const c = v.collateral;
  if (!c) {
    if (policy.requireCollateral)
      fail(
        "COLLATERAL_UNAVAILABLE",
        "collateral",
        "the policy requires Intel collateral (the TCB level) and none was checked",
      );
    else warnings.push("no collateral: the TCB level was not checked");
  } else if (!policy.tcbStatuses.includes(c.tcb.status)) {
    fail(
      c.tcb.status === "Revoked" ? "CERTIFICATE_REVOKED" : "TCB_BELOW_FLOOR",
      "collateral.tcb.status",
      `TCB status ${c.tcb.status} is not accepted (${c.tcb.advisoryIds.join(", ") || "no advisories"})`,
    );
  } else if (c.tcb.status !== "UpToDate")
    warnings.push(`TCB status ${c.tcb.status}; advisories: ${c.tcb.advisoryIds.join(", ") || "none"}`);
  return { failures, warnings };
}
