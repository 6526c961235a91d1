/**
 * Trustee's TDX evidence (`tee-evidence.primary_evidence` for tee `tdx`), as its attester serialises it:
 * `{ "cc_eventlog": "<base64 of the CCEL ACPI table data>", "quote": "<base64 of the quote>", "aa_eventlog": "..." }`,
 * `cc_eventlog` and `aa_eventlog` left out when absent (serde `skip_serializing_if`), base64 standard with padding.
 * Pure: bytes to JSON and back, every malformed field reported with its path.
 */

/** A field problem of TDX evidence JSON. */
export interface TdxJsonProblem {
  readonly path: string;
  readonly message: string;
}

/** The decoded evidence. */
export type TdxJsonResult =
  | {
      readonly ok: true;
      readonly quote: Buffer;
      readonly ccEventLog: Buffer | undefined;
      readonly aaEventLog: string | undefined;
    }
  | { readonly ok: false; readonly problems: readonly TdxJsonProblem[] };

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Largest quote accepted (real ones are about 5 KB, padded buffers 8 KB). */
const MAX_QUOTE = 64 * 1024;
/** Largest CC event log accepted. */
const MAX_EVENT_LOG = 4 * 1024 * 1024;

/**
 * The evidence JSON Trustee's TDX attester sends for `quote` (and the CCEL data, when given).
 *
 * @example
 * const primary = trusteeTdxEvidenceJson(quote); // { quote: "BAACAIEAAAA..." }
 */
export function trusteeTdxEvidenceJson(
  quote: Uint8Array,
  ccEventLog?: Uint8Array,
): { cc_eventlog?: string; quote: string } {
  return {
    ...(ccEventLog ? { cc_eventlog: Buffer.from(ccEventLog).toString("base64") } : {}),
    quote: Buffer.from(quote).toString("base64"),
  };
}

/**
 * Decodes Trustee's TDX evidence JSON; `path` is its field path in the request.
 *
 * @example
 * const r = tdxQuoteFromTrusteeJson(att["tee-evidence"].primary_evidence, "tee-evidence.primary_evidence");
 * if (r.ok) appraise(r.quote);
 */
export function tdxQuoteFromTrusteeJson(evidence: unknown, path: string): TdxJsonResult {
  const problems: TdxJsonProblem[] = [];
  if (typeof evidence !== "object" || evidence === null || Array.isArray(evidence))
    return { ok: false, problems: [{ path, message: "must be an object" }] };
  const ev = evidence as Record<string, unknown>;
  for (const k of Object.keys(ev))
    if (!["cc_eventlog", "quote", "aa_eventlog"].includes(k))
      problems.push({ path: `${path}.${k}`, message: "unknown field" });
  const b64 = (name: string, max: number, required: boolean): Buffer | undefined => {
    const v = ev[name];
    if (v === undefined || v === null) {
      if (required) problems.push({ path: `${path}.${name}`, message: "is required" });
      return undefined;
    }
    if (typeof v !== "string" || v.length === 0 || !B64.test(v)) {
      problems.push({ path: `${path}.${name}`, message: "must be standard base64" });
      return undefined;
    }
    const bytes = Buffer.from(v, "base64");
    if (bytes.length > max) problems.push({ path: `${path}.${name}`, message: `must be at most ${max} bytes` });
    return bytes;
  };
  const quote = b64("quote", MAX_QUOTE, true);
  const ccEventLog = b64("cc_eventlog", MAX_EVENT_LOG, false);
  const aa = ev["aa_eventlog"];
  if (aa !== undefined && aa !== null && (typeof aa !== "string" || aa.length > MAX_EVENT_LOG))
    problems.push({ path: `${path}.aa_eventlog`, message: "must be a string" });
  if (problems.length > 0 || quote === undefined) return { ok: false, problems };
  return { ok: true, quote, ccEventLog, aaEventLog: typeof aa === "string" ? aa : undefined };
}
