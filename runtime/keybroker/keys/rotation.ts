/**
 * Crash-safe creation of the broker's HSM key versions: first-start adoption of pre-created keys,
 * rotation, and recovery of a rotation a crash interrupted.
 *
 * Rotation protocol (each step durable before the next):
 *   1. record `pendingRotation` {role, version, label} in the state file;
 *   2. create the new key version inside the HSM under its versioned label;
 *   3. derive what depends on it (CA certificate; model data keys re-wrapped under a new KEK);
 *   4. commit: one atomic state write makes the new version active, keeps the old one as
 *      `retired` (still usable to verify and unwrap) and clears `pendingRotation`.
 * A kill -9 before step 4 leaves the old state intact; on restart `recoverPendingRotation()`
 * destroys the never-activated HSM object and clears the marker. No committed version is ever
 * destroyed, so every key version stays usable.
 */
import type { KeyKind } from "../hsm/pkcs11-objects.js";
import { jwkFromPoint } from "../../../core/index.js";
import { KeyBrokerError } from "../errors.js";
import { versionLabel, type KeyRole, type KeyVersionRecord, type RoleState } from "../state/state.js";
import { caCertificate } from "./ca-certificate.js";
import { kindsOf, type KeyringOptions } from "./keyring-config.js";

/**
 * Records pre-created `<base>-v1` objects of `role` as its version 1, when there is exactly one
 * object of each kind the role needs, each generated inside the token and never extractable, and
 * no `-v2`. Returns false when the token has no `-v1` object of the role. Anything else is
 * HSM_KEY_CONFLICT: the token holds keys this state does not record (state.json lost or replaced,
 * another broker on the same token) or keys whose value was outside the token; overwriting them
 * would destroy keys that protect data and anchor trust, so the broker stops instead.
 */
export function adoptFirstVersion(o: KeyringOptions, role: KeyRole): boolean {
  const base = o.labels[role];
  const label = versionLabel(base, 1);
  return o.hsm.use((token) => {
    const found = kindsOf(role).map((kind) => ({ kind, handles: token.find(kind, label) }));
    if (found.every((f) => f.handles.length === 0)) return false;
    const conflict = (why: string) =>
      new KeyBrokerError(
        "HSM_KEY_CONFLICT",
        `the token holds "${label}" (${role}) but the broker's state records no ${role} key: ${why}; restore state.json, or use other key labels`,
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
    o.state.keys[role] = { active: 1, versions: [rec] };
    o.save();
    return true;
  });
}

/** Undoes a rotation a crash interrupted before its commit; returns its label, if any. */
export function recoverPendingRotation(o: KeyringOptions): string | undefined {
  const p = o.state.pendingRotation;
  if (!p) return undefined;
  const committed = o.state.keys[p.role]?.versions.some((v) => v.label === p.label) ?? false;
  if (!committed) {
    o.hsm.use((token) => {
      for (const kind of kindsOf(p.role)) {
        for (const h of token.find(kind, p.label)) token.destroy(h);
        o.hsm.forget(kind, p.label);
      }
    });
  }
  delete o.state.pendingRotation;
  o.save();
  return p.label;
}

/**
 * One rotation of `role` (Keyring.rotate holds the one-at-a-time guard and undoes a failed one):
 * the protocol steps of the file comment, each durable before the next.
 */
export function rotateOnce(
  o: KeyringOptions,
  role: KeyRole,
  derive?: (rec: KeyVersionRecord) => () => void,
): KeyVersionRecord {
  const rs: RoleState | undefined = o.state.keys[role];
  const version = Math.max(0, ...(rs?.versions.map((v) => v.version) ?? [])) + 1;
  const label = versionLabel(o.labels[role], version);
  // Checked before the pending marker exists: undoing a failed rotation destroys what is under
  // the marker's label, and objects the state does not know must never be destroyed or overwritten.
  o.hsm.use((token) => {
    if (kindsOf(role).some((kind) => token.find(kind, label).length > 0)) {
      throw new KeyBrokerError(
        "HSM_KEY_CONFLICT",
        `the token already holds "${label}", which the broker's state does not record (state.json lost or replaced, or another broker on the same token); nothing was overwritten`,
      );
    }
  });
  const startedAt = o.now().toISOString();
  o.state.pendingRotation = { role, version, label, startedAt };
  o.save();
  o.crashPoint?.("rotation:pending-saved");

  const rec = o.hsm.use((token) => {
    for (const kind of kindsOf(role)) o.hsm.forget(kind, label);
    const createdAt = startedAt;
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
  o.crashPoint?.("rotation:hsm-created");

  const apply = derive?.(rec);
  o.crashPoint?.("rotation:derived");

  const now = o.now().toISOString();
  const next: RoleState = rs ?? { active: version, versions: [] };
  for (const v of next.versions) {
    if (v.status === "active") {
      v.status = "retired";
      v.retiredAt = now;
    }
  }
  next.versions.push(rec);
  next.active = version;
  o.state.keys[role] = next;
  apply?.();
  delete o.state.pendingRotation;
  o.save();
  o.crashPoint?.("rotation:committed");
  return rec;
}
