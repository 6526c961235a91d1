/**
 * Golden manifests held by the broker: imported as signed JWS (verified with the pinned release
 * signing key by measurements/manifest, never re-implemented here), kept verbatim in the state,
 * and given an effective status by the operator: a pending manifest may be activated, any manifest
 * retired; a manifest signed as retired can never be activated (that needs a newly signed one).
 */
import { createHash } from "node:crypto";
import {
  ManifestError,
  type GoldenManifest,
  verifySignedManifest,
  type ManifestKey,
} from "../../../measurements/manifest/index.js";
import { KeyBrokerError } from "../errors.js";
import type { BrokerState, ManifestRecord } from "../state/state.js";

/** Verified manifests by id (the parsed, signature-checked payloads). */
export type VerifiedManifests = Map<string, GoldenManifest>;

/** The id of a signed manifest: SHA-256 of its JWS text (hex). */
export function manifestId(jws: string): string {
  return createHash("sha256").update(jws, "utf8").digest("hex");
}

/** Verifies one JWS with the pinned key; maps failures to MANIFEST_SIGNATURE_INVALID / MANIFEST_INVALID. */
export async function verifyManifestJws(jws: string, key: ManifestKey): Promise<GoldenManifest> {
  try {
    return await verifySignedManifest(jws, key);
  } catch (e) {
    if (e instanceof ManifestError) {
      const code = e.code === "MANIFEST_SIGNATURE_INVALID" ? "MANIFEST_SIGNATURE_INVALID" : "MANIFEST_INVALID";
      throw new KeyBrokerError(code, e.message, { cause: e });
    }
    throw e;
  }
}

/**
 * Re-verifies every stored manifest at start-up. Returns the verified ones and the ids that no
 * longer verify (e.g. the pinned key changed); those are ignored, never trusted.
 */
export async function loadManifests(
  state: BrokerState,
  key: ManifestKey,
): Promise<{ verified: VerifiedManifests; rejected: string[] }> {
  const verified: VerifiedManifests = new Map();
  const rejected: string[] = [];
  for (const rec of state.manifests) {
    try {
      verified.set(rec.id, await verifyManifestJws(rec.jws, key));
    } catch {
      rejected.push(rec.id);
    }
  }
  return { verified, rejected };
}

/** Adds a verified manifest to the state (idempotent by id); the record starts with the signed status. */
export function addManifest(
  state: BrokerState,
  jws: string,
  manifest: GoldenManifest,
  now: Date,
): { record: ManifestRecord; added: boolean } {
  const id = manifestId(jws);
  const existing = state.manifests.find((m) => m.id === id);
  if (existing) return { record: existing, added: false };
  const record: ManifestRecord = {
    id,
    release: manifest.release,
    jws,
    status: manifest.status,
    importedAt: now.toISOString(),
  };
  if (manifest.status === "active") record.activatedAt = record.importedAt;
  if (manifest.status === "retired") record.retiredAt = record.importedAt;
  state.manifests.push(record);
  return { record, added: true };
}

/** Ids of the manifests whose effective status is active (verified ones only). */
export function activeIds(state: BrokerState, verified: VerifiedManifests): string[] {
  return state.manifests.filter((m) => m.status === "active" && verified.has(m.id)).map((m) => m.id);
}

/** Changes the effective status of a manifest (activate or retire). Throws MANIFEST_UNKNOWN / MANIFEST_STATE_CONFLICT. */
export function setManifestStatus(
  state: BrokerState,
  verified: VerifiedManifests,
  id: string,
  to: "active" | "retired",
  now: Date,
): ManifestRecord {
  const rec = state.manifests.find((m) => m.id === id);
  const signed = verified.get(id);
  if (!rec || !signed) throw new KeyBrokerError("MANIFEST_UNKNOWN", `no verified manifest with id ${id}`);
  if (to === "active") {
    if (signed.status === "retired")
      throw new KeyBrokerError(
        "MANIFEST_STATE_CONFLICT",
        `manifest ${id.slice(0, 12)} (release ${rec.release}) is signed as retired; sign a new manifest to activate it`,
      );
    if (rec.status === "retired")
      throw new KeyBrokerError(
        "MANIFEST_STATE_CONFLICT",
        `manifest ${id.slice(0, 12)} (release ${rec.release}) was retired; retirement is final`,
      );
    if (rec.status !== "active") {
      rec.status = "active";
      rec.activatedAt = now.toISOString();
    }
  } else if (rec.status !== "retired") {
    rec.status = "retired";
    rec.retiredAt = now.toISOString();
  }
  return rec;
}

/** The manifests as the policy sees them: each verified payload with the broker's effective status. */
export function effectiveManifests(state: BrokerState, verified: VerifiedManifests): GoldenManifest[] {
  const out: GoldenManifest[] = [];
  for (const rec of state.manifests) {
    const m = verified.get(rec.id);
    if (m) out.push({ ...m, status: rec.status });
  }
  return out;
}
