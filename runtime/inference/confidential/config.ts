/**
 * The runtime config's `attestation` section: where the evidence of attestation bundles comes from
 * (absent: the same provider as the KBS handshake, `keyBroker.evidence`), how long a bundle (and its
 * OHTTP key) lives, the signed golden manifest to publish, and the sandbox's simulation switches.
 *
 *   "attestation": { "bundleLifetimeSeconds": 3600, "manifestFile": "golden.jws",
 *                    "launch": { "release": "2026.11.0", "launchShape": "runtime-small" } }
 *
 * Pure: parses a document; every problem is reported at once with its path.
 */
import { z } from "zod";
import { formatProblems, problemCount, problemsFromIssues, type Problem } from "../../../core/index.js";
import { evidenceOptionsSchema, type EvidenceOptions } from "../evidence.js";
import { ConfidentialError } from "./errors.js";

const label = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/, "letters, digits, '.', '_', '-' (at most 64)");

/** Schema of the `attestation` section. */
export const attestationConfigSchema = z.strictObject({
  evidence: evidenceOptionsSchema.optional().describe("evidence of the bundles; absent: keyBroker.evidence"),
  bundleLifetimeSeconds: z.number().int().min(60).max(86_400).default(3600),
  manifestFile: z.string().min(1).optional().describe("the signed golden manifest (compact JWS) published in bundles"),
  launch: z.strictObject({ release: label.optional(), launchShape: label.optional() }).optional(),
  noncesPerMinute: z.number().int().min(0).max(6000).default(60),
  maxReplayEntries: z.number().int().min(1000).max(10_000_000).default(1_000_000),
  /** Sandbox only (simulated evidence): bundles whose binding names another key, or whose window has passed. */
  simulate: z
    .strictObject({ unboundKeyConfig: z.boolean().default(false), expired: z.boolean().default(false) })
    .optional(),
});

/** The parsed section, with the effective evidence options. */
export type AttestationConfig = Omit<z.infer<typeof attestationConfigSchema>, "evidence"> & {
  readonly evidence: EvidenceOptions;
};

/**
 * Parses the section; `fallback` is the KBS handshake's evidence options (`keyBroker.evidence`).
 * Undefined when the section is absent and `fallback` is not evidence options (a custom key-release
 * seam): the runtime then serves no confidential endpoint, and clients, finding no bundle, send nothing.
 * @throws ConfidentialError `ATTESTATION_CONFIG_INVALID` listing every problem (`attestation.bundleLifetimeSeconds`).
 */
export function parseAttestationConfig(section: unknown, fallback: unknown): AttestationConfig | undefined {
  if (section === undefined && !evidenceOptionsSchema.safeParse(fallback).success) return undefined;
  const r = attestationConfigSchema.safeParse(section ?? {});
  const problems: Problem[] = r.success ? [] : problemsFromIssues(r.error.issues, { prefix: "attestation" });
  let evidence: EvidenceOptions | undefined;
  if (r.success) {
    if (r.data.evidence !== undefined) evidence = r.data.evidence;
    else {
      const f = evidenceOptionsSchema.safeParse(fallback);
      if (f.success) evidence = f.data;
      else
        problems.push({
          path: "attestation.evidence",
          message: "absent, and keyBroker.evidence is not valid evidence options",
        });
    }
    if (r.data.simulate !== undefined && evidence !== undefined && evidence.kind !== "simulated-snp")
      problems.push({ path: "attestation.simulate", message: "only with simulated-snp evidence (the sandbox)" });
  }
  if (!r.success || evidence === undefined || problems.length > 0)
    throw new ConfidentialError(
      "ATTESTATION_CONFIG_INVALID",
      `invalid attestation section (${problemCount(problems)}): ${formatProblems(problems)}`,
      { problems },
    );
  return { ...r.data, evidence };
}
