/**
 * Crash-safe creation of the broker's HSM key versions, for one replica or many sharing one token
 * and one store: first versions (adopted or created), rotation, and recovery of a rotation a crash
 * interrupted.
 *
 * Rotation protocol (each step durable before the next; every document write goes through the
 * store's locked update, so replicas serialise):
 *   1. take the lease: write `pendingRotation` {role, version, label, owner, leaseUntil}; refused
 *      (ROTATION_IN_PROGRESS) while another replica holds an unexpired lease, so two replicas never
 *      rotate at once; an expired lease (its owner died) is recovered first;
 *   2. create the new key version inside the HSM under its versioned label;
 *   3. commit, in one locked write: check the lease is still ours, derive what depends on the new
 *      key from the latest document (CA certificate at creation; every data key re-wrapped under a
 *      new KEK), make the new version active, keep the old one `retired`, clear the lease.
 * A kill -9 (or a store outage) before step 3 leaves the previous versions intact; the owner at its
 * next start, or any replica once the lease expired, destroys the never-activated HSM object and
 * clears the marker. No committed version is ever destroyed, so every key version stays usable.
 */
import type { KeyKind } from "../hsm/pkcs11-objects.js";
import { jwkFromPoint } from "../../../core/index.js";
import { KeyBrokerError } from "../errors.js";
import {
  versionLabel,
  type BrokerState,
  type KeyRole,
  type KeyVersionRecord,
  type PendingRotation,
  type RoleState,
} from "../state/state.js";
import { caCertificate } from "./ca-certificate.js";
import { kindsOf, type KeyringOptions } from "./keyring-config.js";

/** True when `p` may be recovered by this replica now: its own, a single-replica store's, or an expired lease. */
export function mayRecover(p: PendingRotation, o: Pick<KeyringOptions, "replica" | "now">): boolean {
  return (
    p.owner === undefined ||
    p.owner === o.replica ||
    p.leaseUntil === undefined ||
    Date.parse(p.leaseUntil) <= o.now().getTime()
  );
}

/** Destroys the HSM objects of an uncommitted pending version (never a committed one). */
function destroyUncommitted(o: KeyringOptions, draft: BrokerState, p: PendingRotation): void {
  const committed = draft.keys[p.role]?.versions.some((v) => v.label === p.label) ?? false;
  if (committed) return;
  o.hsm.use((token) => {
    for (const kind of kindsOf(p.role)) {
      for (const h of token.find(kind, p.label)) token.destroy(h);
      o.hsm.forget(kind, p.label);
    }
  });
}

/**
 * Undoes a rotation a crash interrupted before its commit, when this replica may (see mayRecover);
 * returns its label, if one was undone.
 */
export async function recoverPendingRotation(o: KeyringOptions): Promise<string | undefined> {
  const p = o.state().pendingRotation;
  if (!p || !mayRecover(p, o)) return undefined;
  return o.update((draft) => {
    const now = draft.pendingRotation;
    if (!now || now.label !== p.label || !mayRecover(now, o)) return undefined;
    destroyUncommitted(o, draft, now);
    delete draft.pendingRotation;
    return now.label;
  });
}

/** A new key version of `role` inside the HSM (not yet recorded anywhere). */
function createVersion(
  o: KeyringOptions,
  role: KeyRole,
  version: number,
  label: string,
  createdAt: string,
): KeyVersionRecord {
  return o.hsm.use((token) => {
    for (const kind of kindsOf(role)) o.hsm.forget(kind, label);
    if (role === "kek") {
      token.generateAesKey(label);
      return { version, label, createdAt, status: "active" } as KeyVersionRecord;
    }
    if (role === "session") {
      token.generateHmacKey(label);
      return { version, label, createdAt, status: "active" } as KeyVersionRecord;
    }
    const pair = token.generateEcKeyPair(label);
    const point = token.ecPoint(pair.publicKey);
    const publicJwk = jwkFromPoint(point);
    if (role === "signing") return { version, label, createdAt, status: "active", publicJwk } as KeyVersionRecord;
    return {
      version,
      label,
      createdAt,
      status: "active",
      publicJwk,
      certPem: caCertificate(point, version, o.now(), (tbs) => token.signEs384(pair.privateKey, tbs)),
    } as KeyVersionRecord;
  });
}

/**
 * The `<base>-v1` objects of `role` an operator pre-created inside the token, as version 1, when
 * there is exactly one object of each kind the role needs, each generated inside the token and never
 * extractable, and no `-v2`. Undefined when the token has no `-v1` object of the role. Anything else is
 * HSM_KEY_CONFLICT: the token holds keys this state does not record (state lost or replaced, another
 * broker on the same token) or keys whose value was outside the token; overwriting them would destroy
 * keys that protect data and anchor trust, so the broker stops instead.
 */
export function adoptableFirstVersion(o: KeyringOptions, role: KeyRole): KeyVersionRecord | undefined {
  const base = o.labels[role];
  const label = versionLabel(base, 1);
  return o.hsm.use((token) => {
    const found = kindsOf(role).map((kind) => ({ kind, handles: token.find(kind, label) }));
    if (found.every((f) => f.handles.length === 0)) return undefined;
    const conflict = (why: string) =>
      new KeyBrokerError(
        "HSM_KEY_CONFLICT",
        `the token holds "${label}" (${role}) but the broker's state records no ${role} key: ${why}; restore state.json (or the store), or use other key labels`,
      );
    if (found.some((f) => f.handles.length !== 1)) throw conflict("not exactly one object of each kind");
    if (kindsOf(role).some((kind) => token.find(kind, versionLabel(base, 2)).length > 0))
      throw conflict(`later versions exist too (state.json lost after a rotation?)`);
    const handle = (kind: KeyKind) => found.find((f) => f.kind === kind)?.handles[0] as Buffer;
    const secret = role === "kek" ? "aes" : role === "session" ? "hmac" : "ec-private";
    if (!token.generatedInside(handle(secret)))
      throw conflict(
        "it was not generated inside the token or its value was exposed (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE)",
      );
    const createdAt = o.now().toISOString();
    let rec: KeyVersionRecord = { version: 1, label, createdAt, status: "active" };
    if (role === "signing" || role === "ca") {
      const point = token.ecPoint(handle("ec-public"));
      rec = { ...rec, publicJwk: jwkFromPoint(point) };
      if (role === "ca")
        rec = {
          ...rec,
          certPem: caCertificate(point, 1, o.now(), (tbs) => token.signEs384(handle("ec-private"), tbs)),
        };
    }
    return rec;
  });
}

/**
 * Gives every role without a version its version 1 (adopted from the token, or created), in one
 * locked document write: replicas starting together create each key once. A crash after the HSM
 * created a key and before the write leaves a `-v1` object that the next start adopts.
 */
export async function initialiseRoles(
  o: KeyringOptions,
  roles: readonly KeyRole[],
): Promise<{ created: KeyRole[]; adopted: KeyRole[] }> {
  if (roles.every((r) => o.state().keys[r] !== undefined)) return { created: [], adopted: [] };
  return o.update((draft) => {
    const created: KeyRole[] = [];
    const adopted: KeyRole[] = [];
    for (const role of roles) {
      if (draft.keys[role]) continue;
      let rec = adoptableFirstVersion(o, role);
      if (rec) adopted.push(role);
      else {
        rec = createVersion(o, role, 1, versionLabel(o.labels[role], 1), o.now().toISOString());
        created.push(role);
      }
      draft.keys[role] = { active: 1, versions: [rec] };
    }
    return { created, adopted };
  });
}

/**
 * One rotation of `role` (Keyring.rotate holds the one-at-a-time guard of this process): the protocol
 * of the file comment. `derive` runs inside the commit on the latest document with the new version's
 * record (re-wrapping the data keys under a new KEK).
 */
export async function rotateOnce(
  o: KeyringOptions,
  role: KeyRole,
  derive?: (rec: KeyVersionRecord, draft: BrokerState) => void,
): Promise<KeyVersionRecord> {
  const startedAt = o.now().toISOString();
  const pending = await o.update((draft): PendingRotation => {
    const held = draft.pendingRotation;
    if (held) {
      if (!mayRecover(held, o))
        throw new KeyBrokerError(
          "ROTATION_IN_PROGRESS",
          `replica ${held.owner ?? "?"} is rotating ${held.role} (lease until ${held.leaseUntil ?? "?"})`,
        );
      destroyUncommitted(o, draft, held);
      delete draft.pendingRotation;
    }
    const rs: RoleState | undefined = draft.keys[role];
    const version = Math.max(0, ...(rs?.versions.map((v) => v.version) ?? [])) + 1;
    const label = versionLabel(o.labels[role], version);
    // Checked before the marker exists: undoing a failed rotation destroys what is under the
    // marker's label, and objects the state does not know must never be destroyed or overwritten.
    o.hsm.use((token) => {
      if (kindsOf(role).some((kind) => token.find(kind, label).length > 0))
        throw new KeyBrokerError(
          "HSM_KEY_CONFLICT",
          `the token already holds "${label}", which the broker's state does not record (state lost or replaced, or another broker on the same token); nothing was overwritten`,
        );
    });
    const p: PendingRotation = {
      role,
      version,
      label,
      startedAt,
      owner: o.replica,
      leaseUntil: new Date(o.now().getTime() + o.leaseMs).toISOString(),
    };
    draft.pendingRotation = p;
    return p;
  });
  try {
    await o.crashPoint?.("rotation:pending-saved");
    const rec = createVersion(o, role, pending.version, pending.label, startedAt);
    await o.crashPoint?.("rotation:hsm-created");
    await o.update(async (draft) => {
      const p = draft.pendingRotation;
      if (p?.label !== pending.label || p.owner !== pending.owner)
        throw new KeyBrokerError(
          "ROTATION_IN_PROGRESS",
          `the rotation lease of ${pending.label} expired and was recovered by another replica; nothing was committed`,
        );
      derive?.(rec, draft);
      await o.crashPoint?.("rotation:derived");
      const now = o.now().toISOString();
      const next: RoleState = draft.keys[role] ?? { active: pending.version, versions: [] };
      for (const v of next.versions) {
        if (v.status === "active") {
          v.status = "retired";
          v.retiredAt = now;
        }
      }
      next.versions.push(rec);
      next.active = pending.version;
      draft.keys[role] = next;
      delete draft.pendingRotation;
    });
    await o.crashPoint?.("rotation:committed");
    return rec;
  } catch (e) {
    // Undo the never-activated version now if the HSM and the store allow; otherwise the owner's next
    // start or any replica after the lease will.
    try {
      await o.update((draft) => {
        const p = draft.pendingRotation;
        if (p?.label !== pending.label || p.owner !== pending.owner) return;
        destroyUncommitted(o, draft, p);
        delete draft.pendingRotation;
      });
    } catch {
      // HSM or store unavailable: the marker stays, with its lease
    }
    throw e;
  }
}
