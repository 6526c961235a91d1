/** Body parsing for the broker's listeners: untrusted JSON against a protocol schema. */
import type { z } from "zod";
import { KeyBrokerError } from "../errors.js";

/** Parses untrusted JSON with a schema; BODY_INVALID lists every problem with its path. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message }));
  throw new KeyBrokerError(
    "BODY_INVALID",
    `invalid ${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    { details: { problems } },
  );
}
