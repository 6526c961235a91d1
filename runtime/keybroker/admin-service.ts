/**
 * Operator operations (the admin listener, mTLS with the operator CA): import a model data key
 * (wrapped at once, plaintext zeroed), import / activate / retire golden manifests, rotate, and
 * list key versions (labels and public parts only). Each is audited with the operator's identity.
 */
import type { KeyBroker } from "./broker.js";
import { KeyBrokerError, isKeyBrokerError } from "./errors.js";
import { importDataKey, rewrapAll } from "./keys/data-keys.js";
import { activeIds, addManifest, manifestId, setManifestStatus, verifyManifestJws } from "./release/manifests.js";
import { activeSetChanged, startEpoch } from "./session/epochs.js";
import type { AuditEntry } from "./state/audit.js";
import { KEY_ROLES, type BrokerState, type EpochRecord, type KeyRole, type ManifestRecord } from "./state/state.js";

/** Rotation targets: a new session epoch, or a new version of an HSM key role. */
export const ROTATION_TARGETS = ["epoch", ...KEY_ROLES] as const;
/** What `rotate` renews. */
export type RotationTarget = (typeof ROTATION_TARGETS)[number];

async function audited<T>(
  broker: KeyBroker,
  entry: AuditEntry,
  fn: () => Promise<T> | T,
  granted: (r: T) => Partial<AuditEntry>,
): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    if (isKeyBrokerError(e) && e.code !== "AUDIT_UNAVAILABLE")
      await broker.record({ ...entry, decision: "denied", code: e.code });
    throw e;
  }
  await broker.record({ ...entry, decision: "granted", ...granted(result) });
  return result;
}

/** Wraps `key` under the active KEK as a new version of `resource`; `key` is zeroed. */
export function adminImportDataKey(
  broker: KeyBroker,
  who: string,
  resource: string,
  key: Buffer,
): Promise<{ resource: string; version: number; kek: number }> {
  return audited(
    broker,
    { event: "admin.data-key.import", decision: "info", who, resource: resource.slice(0, 200) },
    () =>
      broker.update((draft) => {
        const version = importDataKey(draft, broker.keyring, resource, key, broker.now());
        return { resource, version, kek: draft.keys.kek?.active ?? 0 };
      }),
    (r) => ({ key: `data-key:v${r.version}`, detail: `wrapped under kek v${r.kek}` }),
  );
}

/** A manifest as listed (the JWS is public; it is returned so operators can re-check it). */
export type ManifestView = Omit<ManifestRecord, "jws"> & { readonly verified: boolean };

function manifestView(broker: KeyBroker, m: ManifestRecord): ManifestView {
  const { jws: _jws, ...rest } = m;
  return { ...rest, verified: broker.verifiedManifests.has(m.id) };
}

/**
 * Inside a document change: starts a new epoch when `change` altered the set of active manifests.
 * Returns the new epoch, if one started.
 */
function withEpochOnActiveChange<T>(
  broker: KeyBroker,
  draft: BrokerState,
  change: () => T,
): { result: T; epoch?: EpochRecord } {
  const before = activeIds(draft, broker.verifiedManifests);
  const result = change();
  const after = activeIds(draft, broker.verifiedManifests);
  if (!activeSetChanged(before, after)) return { result };
  return { result, epoch: startEpoch(draft, "manifest-changed", broker.now(), `${after.length} active manifest(s)`) };
}

async function auditEpoch(broker: KeyBroker, who: string, e: EpochRecord | undefined): Promise<void> {
  if (e) await broker.record({ event: "rotation", decision: "info", who, epoch: e.epoch, detail: "manifest-changed" });
}

/** Verifies a signed manifest with the pinned release key and stores it (status as signed). */
export function adminImportManifest(
  broker: KeyBroker,
  who: string,
  jws: string,
): Promise<{ manifest: ManifestView; added: boolean; epoch?: number }> {
  return audited(
    broker,
    { event: "admin.manifest.import", decision: "info", who },
    async () => {
      if (typeof jws !== "string" || jws.length === 0)
        throw new KeyBrokerError("BODY_INVALID", "jws: required (compact JWS of a golden manifest)", {
          problems: [{ path: "jws", message: "required" }],
        });
      const manifest = await verifyManifestJws(jws, broker.manifestKey);
      broker.verifiedManifests.set(manifestId(jws), manifest);
      const { result, epoch: e } = await broker.update((draft) =>
        withEpochOnActiveChange(broker, draft, () => addManifest(draft, jws, manifest, broker.now())),
      );
      await auditEpoch(broker, who, e);
      return { manifest: manifestView(broker, result.record), added: result.added, ...(e ? { epoch: e.epoch } : {}) };
    },
    (r) => ({
      release: r.manifest.release,
      detail: `manifest ${r.manifest.id.slice(0, 16)} ${r.added ? "imported" : "already present"} as ${r.manifest.status}`,
    }),
  );
}

/** Activates or retires a manifest; a change of the active set starts a new epoch. */
export function adminSetManifestStatus(
  broker: KeyBroker,
  who: string,
  id: string,
  to: "active" | "retired",
): Promise<{ manifest: ManifestView; epoch?: number }> {
  return audited(
    broker,
    { event: to === "active" ? "admin.manifest.activate" : "admin.manifest.retire", decision: "info", who },
    async () => {
      const { result: rec, epoch: e } = await broker.update((draft) =>
        withEpochOnActiveChange(broker, draft, () =>
          setManifestStatus(draft, broker.verifiedManifests, id, to, broker.now()),
        ),
      );
      await auditEpoch(broker, who, e);
      return { manifest: manifestView(broker, rec), ...(e ? { epoch: e.epoch } : {}) };
    },
    (r) => ({ release: r.manifest.release, detail: `manifest ${r.manifest.id.slice(0, 16)} now ${r.manifest.status}` }),
  );
}

/** Lists manifests (without their JWS). */
export function adminListManifests(broker: KeyBroker): ManifestView[] {
  return broker.state.manifests.map((m) => manifestView(broker, m));
}

/**
 * Rotates on demand: `epoch` starts a new session epoch; a key role creates and activates a new
 * HSM key version (kek also re-wraps every data key; session also starts a new epoch).
 */
export function adminRotate(
  broker: KeyBroker,
  who: string,
  target: string,
): Promise<{ target: RotationTarget; version?: number; epoch: number }> {
  return audited(
    broker,
    { event: "admin.rotate", decision: "info", who, detail: `target ${String(target).slice(0, 20)}` },
    async () => {
      if (!(ROTATION_TARGETS as readonly string[]).includes(target)) {
        throw new KeyBrokerError("BODY_INVALID", `target: must be one of ${ROTATION_TARGETS.join(", ")}`, {
          problems: [{ path: "target", message: `must be one of ${ROTATION_TARGETS.join(", ")}` }],
        });
      }
      const t = target as RotationTarget;
      if (t === "epoch") {
        const e = await broker.update((draft) => startEpoch(draft, "on-demand", broker.now()));
        return { target: t, epoch: e.epoch };
      }
      const role: KeyRole = t;
      const rec = await broker.keyring.rotate(role, (r, draft) => {
        if (role === "kek") rewrapAll(draft, broker.keyring, r);
        // A new session-derivation secret is a new epoch, in the same commit.
        if (role === "session") startEpoch(draft, "on-demand", broker.now(), "session-key secret rotated");
      });
      return { target: t, version: rec.version, epoch: broker.epoch() };
    },
    (r) => ({ key: r.version === undefined ? undefined : `${r.target}:v${r.version}`, epoch: r.epoch }),
  );
}

/** Key versions by role (labels, status, public JWK and CA certificate only) and data-key versions (no wrapped bytes). */
export function adminListKeys(broker: KeyBroker): {
  roles: Record<
    string,
    {
      active: number;
      versions: {
        version: number;
        label: string;
        status: string;
        createdAt: string;
        retiredAt?: string;
        publicJwk?: unknown;
        certPem?: string;
      }[];
    }
  >;
  dataKeys: {
    resource: string;
    active: number;
    versions: { version: number; importedAt: string; length: number; kekVersions: number[] }[];
  }[];
  epochs: readonly EpochRecord[];
  caBundle: string;
  hsmAvailable: boolean;
} {
  const roles: ReturnType<typeof adminListKeys>["roles"] = {};
  for (const role of KEY_ROLES) {
    const rs = broker.state.keys[role];
    if (!rs) continue;
    roles[role] = {
      active: rs.active,
      versions: rs.versions.map((v) => ({
        version: v.version,
        label: v.label,
        status: v.status,
        createdAt: v.createdAt,
        ...(v.retiredAt ? { retiredAt: v.retiredAt } : {}),
        ...(v.publicJwk ? { publicJwk: v.publicJwk } : {}),
        ...(v.certPem ? { certPem: v.certPem } : {}),
      })),
    };
  }
  const dataKeys = Object.entries(broker.state.dataKeys).map(([resource, ds]) => ({
    resource,
    active: ds.active,
    versions: ds.versions.map((v) => ({
      version: v.version,
      importedAt: v.importedAt,
      length: v.length,
      kekVersions: Object.keys(v.wrapped)
        .map(Number)
        .sort((a, b) => a - b),
    })),
  }));
  return {
    roles,
    dataKeys,
    epochs: broker.state.epochs,
    caBundle: broker.caBundle(),
    hsmAvailable: broker.hsm.available,
  };
}
