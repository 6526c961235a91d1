/**
 * Release decisions (pure): the verifier's verdict against the active golden manifest set, TCB
 * floors and the chip allowlist at /attest; per-resource rules at /resource. Only the drift
 * classes in RELEASABLE_DRIFT_CLASSES (`ok`, `platform-updated`) ever get a token.
 */
import { assessDrift } from "../../../measurements/drift/classify.js";
import { RELEASABLE_DRIFT_CLASSES, type DriftClass, type EvidenceClaims, type PlatformInventory } from "../../../measurements/drift/types.js";
import type { GoldenManifest, TcbFloors } from "../../../measurements/manifest/types.js";
import type { KeyBrokerErrorCode } from "../errors.js";
import type { EvidenceVerdict } from "./verifier-port.js";

/** Who may read a resource. The first rule whose `resource` pattern matches decides. */
export interface ResourceRule {
  /** `repository/type/tag` pattern; `*` matches any characters except `/` (e.g. `*\/model/*`). */
  readonly resource: string;
  /** Launch-shape name patterns (`*` wildcard) of the matched manifest; absent: any shape. */
  readonly launchShapes?: readonly string[];
  /** Release ids allowed; absent: any active release. */
  readonly releases?: readonly string[];
}

/** The broker's release policy (from its config). */
export interface ReleasePolicy {
  /** Extra TCB floors per product, combined with the manifests' floors (strictest wins). */
  readonly tcbFloors?: TcbFloors;
  /** Accepted chip ids (lower-case hex); absent: any chip. Manifests' own allowlists apply too. */
  readonly chipAllowlist?: readonly string[];
  readonly resourceRules: readonly ResourceRule[];
}

/** Outcome of an attestation. */
export type AttestationDecision =
  | {
      readonly granted: true;
      readonly driftClass: DriftClass;
      readonly claims: EvidenceClaims;
      readonly release: string;
      readonly launchShape: string;
      readonly reason: string;
    }
  | {
      readonly granted: false;
      readonly driftClass: DriftClass;
      readonly claims?: EvidenceClaims;
      readonly code: Extract<KeyBrokerErrorCode, "EVIDENCE_REJECTED" | "ATTESTATION_DENIED">;
      readonly reason: string;
    };

/** Inputs of decideAttestation. */
export interface AttestationInput {
  readonly verdict: EvidenceVerdict;
  /** Every imported, signature-verified manifest with the broker's effective status. */
  readonly manifests: readonly GoldenManifest[];
  readonly policy: ReleasePolicy;
  /** Nodes the broker has seen (for `platform-updated`); absent: never reported. */
  readonly inventory?: PlatformInventory;
}

/**
 * Decides whether attested evidence earns a token.
 *
 * @example decideAttestation({ verdict, manifests, policy }).granted // true only for ok / platform-updated
 */
export function decideAttestation(input: AttestationInput): AttestationDecision {
  const { verdict } = input;
  if (!verdict.authentic) {
    const reason = verdict.problems.map((p) => `${p.code} at ${p.path}`).join("; ") || "evidence failed verification";
    return { granted: false, driftClass: "invalid-evidence", code: "EVIDENCE_REJECTED", reason };
  }
  const claims = verdict.claims;
  const assessment = assessDrift({
    claims,
    evidenceValid: true,
    manifests: input.manifests,
    ...(input.inventory ? { inventory: input.inventory } : {}),
    ...(input.policy.tcbFloors ? { floors: input.policy.tcbFloors } : {}),
  });
  const { driftClass } = assessment;
  if (!RELEASABLE_DRIFT_CLASSES.includes(driftClass)) {
    return { granted: false, driftClass, claims, code: "ATTESTATION_DENIED", reason: assessment.reason };
  }
  const match = assessment.matches.find((m) => m.status === "active");
  if (!match) return { granted: false, driftClass, claims, code: "ATTESTATION_DENIED", reason: "no active manifest holds the measurement" };
  const chip = claims.chipId.toLowerCase();
  const lists = [input.policy.chipAllowlist, match.manifest.chipAllowlist].filter((l): l is readonly string[] => l !== undefined);
  for (const list of lists) {
    if (!list.map((c) => c.toLowerCase()).includes(chip)) {
      return { granted: false, driftClass, claims, code: "ATTESTATION_DENIED", reason: `chip ${chip.slice(0, 16)}… is not in the chip allowlist` };
    }
  }
  return { granted: true, driftClass, claims, release: match.manifest.release, launchShape: match.shape, reason: assessment.reason };
}

/** Glob match where `*` is any run of characters other than `/` (or any characters when `slash` is true). */
export function globMatch(pattern: string, value: string, slash = false): boolean {
  const any = slash ? ".*" : "[^/]*";
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(any)}$`);
  return re.test(value);
}

/** What a resource request is judged on: the token's claims. */
export interface ResourceSubject {
  readonly release: string;
  readonly launchShape: string;
}

/**
 * Decides a resource request: the first rule whose pattern matches decides; none matching denies.
 * Returns undefined when allowed, or the reason it is forbidden.
 */
export function decideResource(rules: readonly ResourceRule[], resource: string, subject: ResourceSubject): string | undefined {
  const rule = rules.find((r) => globMatch(r.resource, resource));
  if (!rule) return `no resource rule allows ${resource}`;
  if (rule.releases && !rule.releases.includes(subject.release)) return `release ${subject.release} may not read ${resource}`;
  if (rule.launchShapes && !rule.launchShapes.some((p) => globMatch(p, subject.launchShape, true))) {
    return `launch shape ${subject.launchShape} may not read ${resource}`;
  }
  return undefined;
}
