/**
 * `KeyRelease` from plain options, for runtime/inference/main.ts (its `keyBroker` config section):
 *
 *   { "url": "https://127.0.0.1:8444", "caFile": ".sandbox/keybroker/state/ca.pem",
 *     "evidence": { "kind": "simulated-snp", "dir": ".sandbox/snp", "measurement": "<96 hex>" },
 *     "sessionKey": false }
 *
 * Relative paths resolve against `baseDir` (default the working directory). `evidence.kind` is
 * `simulated-snp` (dev: `dir`, `measurement`, optional `reportedTcb`, `debug`), `configfs-tsm`
 * (optional `root`) or `snpguest` (optional `binary`): the verifier's providers.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { KbsClient, kbsEvidence, type ReleasedCredentials } from "../attester/index.js";
import { formatProblems, problemsFromIssues } from "../../core/index.js";
import { InferenceError } from "./errors.js";
import { evidenceOptionsSchema, evidenceProviderFor } from "./evidence.js";

/** Options schema. */
export const keyReleaseOptionsSchema = z.strictObject({
  url: z.string().url(),
  caFile: z.string().min(1),
  evidence: evidenceOptionsSchema,
  sessionKey: z.boolean().default(false),
});

/** What runtime/inference calls at boot. */
export interface KeyReleaseClient {
  release(request: { readonly keyIds: readonly string[] }): Promise<ReleasedCredentials>;
}

/**
 * Builds the boot seam from options (validated; CONFIG_INVALID lists every problem).
 *
 * @example const keyRelease = keyReleaseFromOptions(config.keyBroker, dirname(configFile));
 */
export function keyReleaseFromOptions(options: Record<string, unknown>, baseDir = process.cwd()): KeyReleaseClient {
  const r = keyReleaseOptionsSchema.safeParse(options);
  if (!r.success) {
    const problems = problemsFromIssues(r.error.issues, { prefix: "keyBroker" });
    throw new InferenceError("CONFIG_INVALID", `invalid key broker client options: ${formatProblems(problems)}`, {
      problems,
    });
  }
  const o = r.data;
  return {
    async release(request) {
      const ca = readFileSync(resolve(baseDir, o.caFile), "utf8");
      const evidence = kbsEvidence(evidenceProviderFor(o.evidence, baseDir));
      const client = new KbsClient({ url: o.url, ca, evidence });
      try {
        return await client.release({ keyIds: request.keyIds, sessionKey: o.sessionKey });
      } finally {
        client.close();
      }
    },
  };
}
