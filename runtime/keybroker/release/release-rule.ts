/**
 * Release decisions (pure): the verifier's verdict (appraised against the golden manifests, TCB
 * floors, chip allowlist and launch policy by runtime/attestation) at /attest; per-resource rules
 * at /resource. Only the drift classes in RELEASABLE_DRIFT_CLASSES (`ok`, `platform-updated`) of
 * accepted evidence ever get a token.
 */
import { RELEASABLE_DRIFT_CLASSES, type DriftClass, type EvidenceClaims } from "../../../measurements/drift/index.js";
import { ManifestSet, type GoldenManifest } from "../../../measurements/manifest/index.js";
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

/** The broker's resource policy (from its config). */
export interface ReleaseRule {
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

/** Verifier codes meaning the evidence is not bound to this session (mismatch or replay). */
const BINDING_FAILURES = new Set(["REPORT_DATA_MISMATCH", "REPORT_DATA_REPLAYED", "INIT_DATA_MISMATCH"]);

/**
 * Decides whether an appraised piece of evidence earns a token: accepted by the verifier (no
 * failure) and a drift class in RELEASABLE_DRIFT_CLASSES; the release and launch shape are those
 * of the active manifest holding the measurement. Evidence that is not authentic or not bound
 * (no claims, or a REPORT_DATA mismatch or replay) is EVIDENCE_REJECTED (401); any other refusal,
 * including authentic evidence from a guest outside the policy (class `invalid-evidence` with the
 * verifier's policy failures), is ATTESTATION_DENIED (403).
 *
 * @example decideAttestation(verdict, manifests).granted // true only for ok / platform-updated
 */
export function decideAttestation(verdict: EvidenceVerdict, manifests: readonly GoldenManifest[]): AttestationDecision {
  const { driftClass, claims } = verdict;
  const notAuthentic = claims === undefined || verdict.failures.some((f) => BINDING_FAILURES.has(f.code));
  const code = driftClass === "invalid-evidence" && notAuthentic ? "EVIDENCE_REJECTED" : "ATTESTATION_DENIED";
  const failures = verdict.failures.map((f) => `${f.code} at ${f.path}`).join("; ");
  if (!verdict.accepted || !claims)
    return { granted: false, driftClass, ...(claims ? { claims } : {}), code, reason: failures || verdict.reason };
  if (!RELEASABLE_DRIFT_CLASSES.includes(driftClass))
    return { granted: false, driftClass, claims, code, reason: verdict.reason };
  const match = new ManifestSet(manifests)
    .lookup(claims.measurement)
    .find((m) => m.status === "active" && m.manifest.platform === claims.tee);
  if (!match)
    return {
      granted: false,
      driftClass,
      claims,
      code: "ATTESTATION_DENIED",
      reason: "no active manifest holds the measurement",
    };
  return {
    granted: true,
    driftClass,
    claims,
    release: match.manifest.release,
    launchShape: match.shape,
    reason: verdict.reason,
  };
}

// Patterns come from the configuration (a bounded set): each is compiled once, not per request.
const compiled = new Map<string, RegExp>();

/** Glob match where `*` is any run of characters other than `/` (or any characters when `slash` is true). */
export function globMatch(pattern: string, value: string, slash = false): boolean {
  const key = `${slash ? "s" : "-"}${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    const any = slash ? ".*" : "[^/]*";
    re = new RegExp(
      `^${pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(any)}$`,
    );
    compiled.set(key, re);
  }
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
export function decideResource(
  rules: readonly ResourceRule[],
  resource: string,
  subject: ResourceSubject,
): string | undefined {
  const rule = rules.find((r) => globMatch(r.resource, resource));
  if (!rule) return `no resource rule allows ${resource}`;
  if (rule.releases && !rule.releases.includes(subject.release))
    return `release ${subject.release} may not read ${resource}`;
  if (rule.launchShapes && !rule.launchShapes.some((p) => globMatch(p, subject.launchShape, true))) {
    return `launch shape ${subject.launchShape} may not read ${resource}`;
  }
  return undefined;
}
