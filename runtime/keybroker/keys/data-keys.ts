/**
 * Model data keys: imported once through the admin API, wrapped at once under the active KEK
 * (AES-256-GCM inside the HSM, AAD naming the resource and version so wrapped blobs cannot be
 * swapped) and kept only in that form. The plaintext buffer is zeroed as soon as it is wrapped.
 * Release unwraps inside the HSM and hands the plaintext to the caller, who encrypts it to the
 * attested TEE key and zeroes it.
 */
import { KeyBrokerError } from "../errors.js";
import type { BrokerState, DataKeyVersion, KeyVersionRecord } from "../state/state.js";
import type { Keyring } from "./keyring.js";

/** `repository/type/tag`, each segment letters, digits, `.`, `_`, `-`. */
export const RESOURCE_ID = /^[A-Za-z0-9._-]{1,64}\/[A-Za-z0-9._-]{1,64}\/[A-Za-z0-9._-]{1,128}$/;

/** Accepted data-key lengths in bytes (AES-128/192/256). */
export const DATA_KEY_LENGTHS: readonly number[] = [16, 24, 32];

/** The GCM additional data binding a wrapped blob to its resource and version. */
export function dataKeyAad(resource: string, version: number): string {
  return `ci-data-key|${resource}|v${version}`;
}

/**
 * Wraps and stores a new version of the data key of `resource`, makes it active, and zeroes
 * `plaintext`. Throws DATA_KEY_INVALID for a bad resource id or length. Returns the version.
 */
export function importDataKey(
  state: BrokerState,
  keyring: Keyring,
  resource: string,
  plaintext: Buffer,
  now: Date,
): number {
  try {
    const problems: { path: string; message: string }[] = [];
    if (!RESOURCE_ID.test(resource))
      problems.push({ path: "resource", message: "must be repository/type/tag (letters, digits, '.', '_', '-')" });
    if (!DATA_KEY_LENGTHS.includes(plaintext.length))
      problems.push({ path: "key", message: `must be 16, 24 or 32 bytes, got ${plaintext.length}` });
    if (problems.length > 0) {
      throw new KeyBrokerError(
        "DATA_KEY_INVALID",
        `importing a data key: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
        { problems },
      );
    }
    const existing = state.dataKeys[resource];
    const version = Math.max(0, ...(existing?.versions.map((v) => v.version) ?? [])) + 1;
    const kek = state.keys.kek?.versions.find((v) => v.version === state.keys.kek?.active);
    const w = keyring.wrap(dataKeyAad(resource, version), plaintext, kek);
    const record: DataKeyVersion = {
      version,
      importedAt: now.toISOString(),
      length: plaintext.length,
      wrapped: { [String(w.kek)]: { iv: w.iv, ct: w.ct } },
    };
    const ds = existing ?? { active: version, versions: [] };
    ds.versions.push(record);
    ds.active = version;
    state.dataKeys[resource] = ds;
    return version;
  } finally {
    plaintext.fill(0);
  }
}

/** True when `resource` holds a data key. */
export function hasDataKey(state: BrokerState, resource: string): boolean {
  return state.dataKeys[resource] !== undefined;
}

/**
 * Unwraps the active version of `resource` (inside the HSM, on a pooled session) with the newest
 * KEK version that wrapped it. The caller must zero the returned buffer after use.
 */
export async function unwrapDataKey(
  state: BrokerState,
  keyring: Keyring,
  resource: string,
): Promise<{ key: Buffer; version: number }> {
  const ds = state.dataKeys[resource];
  const v = ds?.versions.find((x) => x.version === ds.active);
  if (!ds || !v) throw new KeyBrokerError("RESOURCE_NOT_FOUND", `no resource ${resource}`);
  const keks = Object.keys(v.wrapped)
    .map(Number)
    .sort((a, b) => b - a);
  const kek = keks[0];
  const blob = kek === undefined ? undefined : v.wrapped[String(kek)];
  if (kek === undefined || !blob)
    throw new KeyBrokerError("STATE_CORRUPT", `data key ${resource} v${v.version} has no wrapped form`);
  return { key: await keyring.unwrapAsync(dataKeyAad(resource, v.version), kek, blob.iv, blob.ct), version: v.version };
}

/**
 * For a KEK rotation, inside its commit: wraps every version of every data key of `draft` under the
 * new KEK `rec` (unwrapping each with its newest existing KEK inside the HSM), adding the new wrapped
 * forms to `draft`. Old wrapped forms are kept.
 */
export function rewrapAll(draft: BrokerState, keyring: Keyring, rec: KeyVersionRecord): void {
  const keks = draft.keys.kek?.versions ?? [];
  for (const [resource, ds] of Object.entries(draft.dataKeys)) {
    for (const v of ds.versions) {
      const newest = Object.keys(v.wrapped)
        .map(Number)
        .sort((a, b) => b - a)[0];
      const blob = newest === undefined ? undefined : v.wrapped[String(newest)];
      const kek = keks.find((k) => k.version === newest);
      if (newest === undefined || !blob || !kek)
        throw new KeyBrokerError("STATE_CORRUPT", `data key ${resource} v${v.version} has no wrapped form`);
      const aad = dataKeyAad(resource, v.version);
      const plain = keyring.unwrapWith(kek, aad, blob.iv, blob.ct);
      try {
        const w = keyring.wrap(aad, plain, rec);
        v.wrapped[String(rec.version)] = { iv: w.iv, ct: w.ct };
      } finally {
        plain.fill(0);
      }
    }
  }
}
