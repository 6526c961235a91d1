/**
 * What a client trusts (its pins), as JSON parsed strictly with every problem reported at once:
 *
 * ```json
 * { "attestation": { "allowedRoots": ["amd-genoa"], "tcbFloors": { "Genoa": { "bootloader": 9, "tee": 0, "snp": 23, "microcode": 72 } } },
 *   "releaseKeys": ["-----BEGIN PUBLIC KEY-----\n..."],
 *   "simulatedRoot": { "product": "Genoa", "ark": "-----BEGIN CERTIFICATE-----...", "ask": "...", "asvk": "..." } }
 * ```
 *
 * `attestation` is the verifier's SNP policy (runtime/attestation: pinned AMD roots by default,
 * never the simulated one; no debug; TCB floors; allowed measurements). `releaseKeys` verify the
 * golden manifests bundles carry (a measurement counts only in an active manifest signed by one of
 * them). `simulatedRoot` is the sandbox's generated ARK, accepted only when `allowedRoots` names
 * `simulated`, and required then.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { z } from "zod";
import { formatProblems, problemCount, problemsFromIssues, type Problem } from "../../core/index.js";
import {
  anchorsFor,
  attestationPolicySchema,
  SNP_PRODUCTS,
  trustAnchor,
  type SnpAttestationPolicy,
  type TrustAnchor,
} from "../attestation/index.js";
import { ClientError } from "./errors.js";

const PEM = (what: string) => z.string().regex(/-----BEGIN [A-Z ]+-----[\s\S]+-----END [A-Z ]+-----/, `a PEM ${what}`);

/** Schema of the trust policy JSON. */
export const clientTrustSchema = z.strictObject({
  attestation: attestationPolicySchema.prefault({}),
  releaseKeys: z.array(PEM("public key")).max(16).default([]),
  simulatedRoot: z
    .strictObject({
      product: z.enum(SNP_PRODUCTS),
      ark: PEM("certificate"),
      ask: PEM("certificate"),
      asvk: PEM("certificate").optional(),
    })
    .optional(),
});

/** The trust policy JSON before defaults. */
export type ClientTrustInput = z.input<typeof clientTrustSchema>;

/** What the client verifies bundles against. */
export interface ClientTrust {
  /** Roots a chain may end in (pinned AMD ARKs; the simulated ARK only when named). */
  readonly anchors: readonly TrustAnchor[];
  readonly policy: SnpAttestationPolicy;
  /** Release signing keys (EC P-384) of golden manifests. */
  readonly releaseKeys: readonly KeyObject[];
}

/**
 * Parses a trust policy (a JSON value).
 *
 * @example const trust = parseClientTrust(JSON.parse(readFileSync("trust.json", "utf8")));
 * @throws ClientError `CLIENT_CONFIG_INVALID` listing every problem (`trust.attestation.tcbFloors.Genoa.snp`).
 */
export function parseClientTrust(value: unknown): ClientTrust {
  const r = clientTrustSchema.safeParse(value);
  const problems: Problem[] = r.success ? [] : problemsFromIssues(r.error.issues, { prefix: "trust" });
  let result: ClientTrust | undefined;
  if (r.success) {
    const t = r.data;
    const simulated = t.attestation.allowedRoots.includes("simulated");
    if (simulated && t.simulatedRoot === undefined)
      problems.push({ path: "trust.simulatedRoot", message: "required: attestation.allowedRoots lists simulated" });
    if (!simulated && t.simulatedRoot !== undefined)
      problems.push({ path: "trust.simulatedRoot", message: "only when attestation.allowedRoots lists simulated" });
    if (t.releaseKeys.length === 0 && t.attestation.measurements === undefined)
      problems.push({
        path: "trust.releaseKeys",
        message: "at least one release key (or attestation.measurements) is needed to judge measurements",
      });
    const releaseKeys: KeyObject[] = [];
    t.releaseKeys.forEach((pem, i) => {
      try {
        const k = createPublicKey(pem);
        if (k.asymmetricKeyType !== "ec" || k.asymmetricKeyDetails?.namedCurve !== "secp384r1")
          throw new Error("not P-384");
        releaseKeys.push(k);
      } catch {
        problems.push({ path: `trust.releaseKeys[${i}]`, message: "not an EC P-384 public key" });
      }
    });
    let simulatedAnchors: TrustAnchor[] = [];
    if (simulated && t.simulatedRoot !== undefined) {
      const s = t.simulatedRoot;
      try {
        simulatedAnchors = [
          trustAnchor("simulated", s.product, { ark: s.ark, ask: s.ask, ...(s.asvk ? { asvk: s.asvk } : {}) }),
        ];
      } catch (e) {
        problems.push({ path: "trust.simulatedRoot", message: `not a usable ARK/ASK (${(e as Error).message})` });
      }
    }
    if (problems.length === 0)
      result = {
        anchors: anchorsFor(t.attestation.allowedRoots, simulatedAnchors),
        policy: t.attestation,
        releaseKeys,
      };
  }
  if (result === undefined)
    throw new ClientError(
      "CLIENT_CONFIG_INVALID",
      `invalid trust policy (${problemCount(problems)}): ${formatProblems(problems)}`,
      { problems },
    );
  return result;
}
