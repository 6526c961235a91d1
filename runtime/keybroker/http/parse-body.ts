/** Body parsing for the broker's listeners: untrusted JSON against a protocol schema. */
import type { z } from "zod";
import { formatProblems, problemsFromIssues } from "../../../core/index.js";
import { KeyBrokerError } from "../errors.js";

/** Parses untrusted JSON with a schema; BODY_INVALID lists every problem with its path. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const problems = problemsFromIssues(r.error.issues, { root: "(body)" });
  throw new KeyBrokerError("BODY_INVALID", `invalid ${what}: ${formatProblems(problems)}`, { problems });
}
