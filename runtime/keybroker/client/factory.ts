/**
 * `KeyRelease` from plain options, for runtime/inference/main.ts (its `keyBroker` config section):
 *
 *   { "url": "https://127.0.0.1:8444", "caFile": ".sandbox/keybroker/state/ca.pem",
 *     "evidence": { "kind": "simulated-snp", "dir": ".sandbox/snp", "measurement": "<96 hex>" },
 *     "sessionKey": false }
 *
 * Relative paths resolve against `baseDir` (default the working directory). Only the simulated SNP
 * provider is built from options; a hardware provider is passed programmatically
 * (`new KbsClient({ url, ca, evidence })`).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { SimulatedSnp } from "../../attestation/evidence/simulated.js";
import { KeyBrokerError } from "../errors.js";
import { KbsClient, type EvidenceProvider, type ReleasedCredentials } from "./kbs-client.js";
import { simulatedSnpEvidence } from "./snp-evidence.js";

const tcb = z.strictObject({ bootloader: z.number().int(), tee: z.number().int(), snp: z.number().int(), microcode: z.number().int(), fmc: z.number().int().optional() });

/** Options schema. */
export const keyReleaseOptionsSchema = z.strictObject({
  url: z.string().url(),
  caFile: z.string().min(1),
  evidence: z.strictObject({
    kind: z.literal("simulated-snp"),
    dir: z.string().min(1),
    measurement: z.string().regex(/^[0-9a-f]{96}$/),
    reportedTcb: tcb.optional(),
    debug: z.boolean().optional(),
  }),
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
    const problems = r.error.issues.map((i) => ({ path: `keyBroker.${i.path.join(".")}`, message: i.message }));
    throw new KeyBrokerError("CONFIG_INVALID", `invalid key broker client options: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`, { details: { problems } });
  }
  const o = r.data;
  return {
    async release(request) {
      const ca = readFileSync(resolve(baseDir, o.caFile), "utf8");
      const sim = await SimulatedSnp.open({ dir: resolve(baseDir, o.evidence.dir) });
      const evidence: EvidenceProvider = simulatedSnpEvidence(sim, {
        measurement: o.evidence.measurement,
        ...(o.evidence.reportedTcb ? { reportedTcb: o.evidence.reportedTcb } : {}),
        ...(o.evidence.debug ? { policy: { smt: true, debug: true } } : {}),
      });
      const client = new KbsClient({ url: o.url, ca, evidence });
      try {
        return await client.release({ keyIds: request.keyIds, sessionKey: o.sessionKey });
      } finally {
        client.close();
      }
    },
  };
}
