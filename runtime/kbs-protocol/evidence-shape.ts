/**
 * The outer bounds of `tee-evidence.primary_evidence` before anything hashes or decodes it: the value
 * is untrusted JSON of any shape, and the code after it (canonical JSON for the audit digest, the
 * evidence decoders) recurses over it and expects integers. Evidence of every supported shape (SNP
 * report bytes as base64, or Trustee's SNP attester's JSON fields) is at most a few levels deep and
 * holds only integers, so anything deeper than {@link EVIDENCE_MAX_DEPTH} or holding a number that is
 * not a safe integer (fractions, exponents beyond 2^53, the infinities JSON.parse makes of 1e400) is
 * refused with its field path. The walk is iterative: nesting cannot overflow the stack.
 */

/** Deepest nesting of arrays and objects accepted in evidence (the SNP JSON shape needs 4). */
export const EVIDENCE_MAX_DEPTH = 16;

/** One problem with its field path. */
export interface EvidenceShapeProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Problems of an evidence value (empty when it is within bounds); at most `limit` are reported.
 *
 * @example evidenceShapeProblems({ a: 1.5 }, "tee-evidence.primary_evidence") // [{ path: "...primary_evidence.a", message: "must be an integer ..." }]
 */
export function evidenceShapeProblems(value: unknown, path: string, limit = 10): EvidenceShapeProblem[] {
  const problems: EvidenceShapeProblem[] = [];
  const stack: { v: unknown; p: string; d: number }[] = [{ v: value, p: path, d: 0 }];
  while (stack.length > 0 && problems.length < limit) {
    const { v, p, d } = stack.pop() as { v: unknown; p: string; d: number };
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v))
        problems.push({ path: p, message: "must be an integer between -(2^53 - 1) and 2^53 - 1" });
    } else if (typeof v === "object" && v !== null) {
      if (d >= EVIDENCE_MAX_DEPTH) {
        problems.push({ path: p, message: `nested deeper than ${EVIDENCE_MAX_DEPTH} levels` });
        continue;
      }
      if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], p: `${p}[${i}]`, d: d + 1 });
      else for (const [k, x] of Object.entries(v)) stack.push({ v: x, p: `${p}.${k}`, d: d + 1 });
    }
  }
  return problems;
}
