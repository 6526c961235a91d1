/**
 * The broker's HSM keys by role and version, and their crash-safe rotation.
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
import { randomBytes } from "node:crypto";
import type { HsmBackend, ExpectedKey } from "../hsm/backend.js";
import type { KeyKind } from "../hsm/pkcs11.js";
import {
  buildCertificate,
  ecdsaSha384RawSigner,
  ecProfileSpec,
  jwkFromPoint,
  pointFromJwk,
  type EcPublicJwk,
  toPem,
} from "../../../core/index.js";
import { KeyBrokerError } from "../errors.js";
import { teeKeyCheck } from "./tee-key.js";
import {
  KEY_ROLES,
  versionLabel,
  type BrokerState,
  type KeyRole,
  type KeyVersionRecord,
  type RoleState,
} from "../state/state.js";

/** Base labels per role (versions are appended as `-v<n>`). */
export type KeyLabels = Readonly<Record<KeyRole, string>>;

/** Default base labels (the stack config's `hsm.keyLabels` defaults, plus the session secret). */
export const DEFAULT_KEY_LABELS: KeyLabels = {
  kek: "ci-kek",
  signing: "ci-token-signing",
  ca: "ci-broker-ca",
  session: "ci-session-root",
};

/** Validity of a broker CA certificate, in days. */
export const CA_VALIDITY_DAYS = 3650;

/** Named instants where a test may crash the process (kill -9) during rotation. */
export type CrashPoint = "rotation:pending-saved" | "rotation:hsm-created" | "rotation:derived" | "rotation:committed";

/** What the keyring needs from its owner. */
export interface KeyringOptions {
  readonly hsm: HsmBackend;
  readonly labels: KeyLabels;
  /** The live state (mutated in place) and how to persist it. */
  readonly state: BrokerState;
  readonly save: () => void;
  readonly now: () => Date;
  /** Test hook: called at each crash point. */
  readonly crashPoint?: (point: CrashPoint) => void;
}

function kindsOf(role: KeyRole): KeyKind[] {
  switch (role) {
    case "kek":
      return ["aes"];
    case "session":
      return ["hmac"];
    case "signing":
    case "ca":
      return ["ec-private", "ec-public"];
  }
}

/** Keys of every committed version of every role (checked at each HSM connect). */
export function expectedKeys(state: BrokerState): ExpectedKey[] {
  const out: ExpectedKey[] = [];
  for (const role of KEY_ROLES) {
    for (const v of state.keys[role]?.versions ?? [])
      for (const kind of kindsOf(role)) out.push({ kind, label: v.label });
  }
  return out;
}

/** Versioned HSM keys of the broker. */
export class Keyring {
  private rotating = false;

  constructor(private readonly o: KeyringOptions) {}

  /** The record of the active version of `role`; throws when the role has no key yet. */
  active(role: KeyRole): KeyVersionRecord {
    const rs = this.o.state.keys[role];
    const rec = rs?.versions.find((v) => v.version === rs.active);
    if (!rec) throw new KeyBrokerError("HSM_KEY_MISSING", `no active ${role} key version`);
    return rec;
  }

  /** A specific version of `role`, or undefined. */
  version(role: KeyRole, version: number): KeyVersionRecord | undefined {
    return this.o.state.keys[role]?.versions.find((v) => v.version === version);
  }

  /** Versions of `role`, oldest first. */
  versions(role: KeyRole): readonly KeyVersionRecord[] {
    return this.o.state.keys[role]?.versions ?? [];
  }

  /**
   * Completes start-up: undoes an interrupted rotation, then gives every role that has no version
   * yet (first start) its version 1: the token's `<base>-v1` objects when an operator pre-created
   * them inside the token (an HSM policy may forbid key generation by the user), else new keys.
   * Returns the roles created and adopted. HSM_KEY_CONFLICT when the token holds objects the state
   * does not explain (see adopt).
   */
  initialise(): { created: KeyRole[]; adopted: KeyRole[] } {
    this.recoverPendingRotation();
    const created: KeyRole[] = [];
    const adopted: KeyRole[] = [];
    for (const role of KEY_ROLES) {
      if (this.o.state.keys[role]) continue;
      if (this.adopt(role)) adopted.push(role);
      else {
        this.rotate(role);
        created.push(role);
      }
    }
    return { created, adopted };
  }

  /**
   * Records pre-created `<base>-v1` objects of `role` as its version 1, when there is exactly one
   * object of each kind the role needs, each generated inside the token and never extractable, and
   * no `-v2`. Returns false when the token has no `-v1` object of the role. Anything else is
   * HSM_KEY_CONFLICT: the token holds keys this state does not record (state.json lost or replaced,
   * another broker on the same token) or keys whose value was outside the token; overwriting them
   * would destroy keys that protect data and anchor trust, so the broker stops instead.
   */
  private adopt(role: KeyRole): boolean {
    const base = this.o.labels[role];
    const label = versionLabel(base, 1);
    return this.o.hsm.use((token) => {
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
      const createdAt = this.o.now().toISOString();
      let rec: KeyVersionRecord = { version: 1, label, createdAt, status: "active" };
      if (role === "signing" || role === "ca") {
        const point = token.ecPoint(handle("ec-public"));
        rec = { ...rec, publicJwk: jwkFromPoint(point) };
        if (role === "ca")
          rec = {
            ...rec,
            certPem: caCertificate(point, 1, this.o.now(), (tbs) => token.signEs384(handle("ec-private"), tbs)),
          };
      }
      this.o.state.keys[role] = { active: 1, versions: [rec] };
      this.o.save();
      return true;
    });
  }

  /** Undoes a rotation a crash interrupted before its commit; returns its label, if any. */
  recoverPendingRotation(): string | undefined {
    const p = this.o.state.pendingRotation;
    if (!p) return undefined;
    const committed = this.o.state.keys[p.role]?.versions.some((v) => v.label === p.label) ?? false;
    if (!committed) {
      this.o.hsm.use((token) => {
        for (const kind of kindsOf(p.role)) {
          for (const h of token.find(kind, p.label)) token.destroy(h);
          this.o.hsm.forget(kind, p.label);
        }
      });
    }
    delete this.o.state.pendingRotation;
    this.o.save();
    return p.label;
  }

  /**
   * Creates and activates a new version of `role` (see the file comment for the crash-safe
   * protocol). `derive` runs after the HSM key exists, with the new version's record, and returns
   * the state change to apply in the commit (re-wrapped data keys under a new KEK); it must not
   * touch the state itself. Returns the new record.
   */
  rotate(role: KeyRole, derive?: (rec: KeyVersionRecord) => () => void): KeyVersionRecord {
    if (this.rotating) throw new KeyBrokerError("ROTATION_IN_PROGRESS", `a rotation is already running`);
    this.rotating = true;
    try {
      if (this.o.state.pendingRotation) this.recoverPendingRotation();
      return this.rotateOnce(role, derive);
    } catch (e) {
      // Undo the never-activated version now if the HSM allows; otherwise start-up will.
      try {
        if (this.o.state.pendingRotation) this.recoverPendingRotation();
      } catch {
        // HSM unavailable: the marker stays in the state file
      }
      throw e;
    } finally {
      this.rotating = false;
    }
  }

  private rotateOnce(role: KeyRole, derive?: (rec: KeyVersionRecord) => () => void): KeyVersionRecord {
    {
      const rs: RoleState | undefined = this.o.state.keys[role];
      const version = Math.max(0, ...(rs?.versions.map((v) => v.version) ?? [])) + 1;
      const label = versionLabel(this.o.labels[role], version);
      // Checked before the pending marker exists: undoing a failed rotation destroys what is under
      // the marker's label, and objects the state does not know must never be destroyed or overwritten.
      this.o.hsm.use((token) => {
        if (kindsOf(role).some((kind) => token.find(kind, label).length > 0)) {
          throw new KeyBrokerError(
            "HSM_KEY_CONFLICT",
            `the token already holds "${label}", which the broker's state does not record (state.json lost or replaced, or another broker on the same token); nothing was overwritten`,
          );
        }
      });
      const startedAt = this.o.now().toISOString();
      this.o.state.pendingRotation = { role, version, label, startedAt };
      this.o.save();
      this.o.crashPoint?.("rotation:pending-saved");

      const rec = this.o.hsm.use((token) => {
        for (const kind of kindsOf(role)) this.o.hsm.forget(kind, label);
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
          certPem: caCertificate(point, version, this.o.now(), (tbs) => token.signEs384(pair.privateKey, tbs)),
        } as KeyVersionRecord;
      });
      this.o.crashPoint?.("rotation:hsm-created");

      const apply = derive?.(rec);
      this.o.crashPoint?.("rotation:derived");

      const now = this.o.now().toISOString();
      const next: RoleState = rs ?? { active: version, versions: [] };
      for (const v of next.versions) {
        if (v.status === "active") {
          v.status = "retired";
          v.retiredAt = now;
        }
      }
      next.versions.push(rec);
      next.active = version;
      this.o.state.keys[role] = next;
      apply?.();
      delete this.o.state.pendingRotation;
      this.o.save();
      this.o.crashPoint?.("rotation:committed");
      return rec;
    }
  }

  /** Raw r||s ES384 signature with a version of an EC role (default: active). */
  signEs384(
    role: "signing" | "ca",
    data: Uint8Array,
    version?: number,
  ): { signature: Buffer; record: KeyVersionRecord } {
    const record = version === undefined ? this.active(role) : this.version(role, version);
    if (!record) throw new KeyBrokerError("HSM_KEY_MISSING", `no ${role} key version ${version}`);
    const signature = this.o.hsm.use((token, handle) => token.signEs384(handle("ec-private", record.label), data));
    return { signature, record };
  }

  /** signEs384 on the HSM's pooled sessions (off the event loop): the release path's signatures. */
  async signEs384Async(
    role: "signing" | "ca",
    data: Uint8Array,
    version?: number,
  ): Promise<{ signature: Buffer; record: KeyVersionRecord }> {
    const record = version === undefined ? this.active(role) : this.version(role, version);
    if (!record) throw new KeyBrokerError("HSM_KEY_MISSING", `no ${role} key version ${version}`);
    const signature = await this.o.hsm.useAsync((token, handle) =>
      token.signEs384Async(handle("ec-private", record.label), data),
    );
    return { signature, record };
  }

  /** hmac on the HSM's pooled sessions (off the event loop). */
  async hmacAsync(data: Uint8Array): Promise<{ mac: Buffer; record: KeyVersionRecord }> {
    const record = this.active("session");
    const mac = await this.o.hsm.useAsync((token, handle) => token.hmacSha384Async(handle("hmac", record.label), data));
    return { mac, record };
  }

  /** unwrap on the HSM's pooled sessions (off the event loop). */
  unwrapAsync(aad: string, kekVersion: number, iv: string, ct: string): Promise<Buffer> {
    const record = this.version("kek", kekVersion);
    if (!record) return Promise.reject(new KeyBrokerError("HSM_KEY_MISSING", `no KEK version ${kekVersion}`));
    return this.o.hsm.useAsync((token, handle) =>
      token.gcmDecryptAsync(
        handle("aes", record.label),
        Buffer.from(iv, "base64"),
        Buffer.from(aad, "utf8"),
        Buffer.from(ct, "base64"),
      ),
    );
  }

  /** HMAC-SHA384 under the active session-derivation secret. */
  hmac(data: Uint8Array): { mac: Buffer; record: KeyVersionRecord } {
    const record = this.active("session");
    const mac = this.o.hsm.use((token, handle) => token.hmacSha384(handle("hmac", record.label), data));
    return { mac, record };
  }

  /** AES-256-GCM under a KEK version (default active; a rotation passes its not yet committed record), IV from the HSM. */
  wrap(aad: string, plaintext: Buffer, kek?: KeyVersionRecord): { kek: number; iv: string; ct: string } {
    const record = kek ?? this.active("kek");
    return this.o.hsm.use((token, handle) => {
      const iv = token.random(12);
      const ct = token.gcmEncrypt(handle("aes", record.label), iv, Buffer.from(aad, "utf8"), plaintext);
      return { kek: record.version, iv: iv.toString("base64"), ct: ct.toString("base64") };
    });
  }

  /** Inverse of wrap (inside the HSM); WRAPPED_KEY_CORRUPT when the tag does not verify. */
  unwrap(aad: string, kekVersion: number, iv: string, ct: string): Buffer {
    const record = this.version("kek", kekVersion);
    if (!record) throw new KeyBrokerError("HSM_KEY_MISSING", `no KEK version ${kekVersion}`);
    return this.o.hsm.use((token, handle) =>
      token.gcmDecrypt(
        handle("aes", record.label),
        Buffer.from(iv, "base64"),
        Buffer.from(aad, "utf8"),
        Buffer.from(ct, "base64"),
      ),
    );
  }

  /** Public JWK of a version of an EC role (validated). */
  publicJwk(role: "signing" | "ca", version: number): EcPublicJwk | undefined {
    const jwk = this.version(role, version)?.publicJwk;
    if (jwk) teeKeyCheck(() => pointFromJwk(jwk, `keys.${role}.v${version}.publicJwk`));
    return jwk;
  }
}

/** The self-signed certificate (PEM) of broker CA version `version`, valid CA_VALIDITY_DAYS from a minute before `now`. */
function caCertificate(point: Buffer, version: number, now: Date, sign: (tbs: Buffer) => Buffer): string {
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(notBefore.getTime() + CA_VALIDITY_DAYS * 86_400_000);
  const dn = { commonName: `confidential-inference broker CA v${version}`, organization: "confidential-inference" };
  return toPem(
    buildCertificate(
      ecProfileSpec({
        serial: serialNumber(),
        issuer: dn,
        subject: dn,
        notBefore,
        notAfter,
        subjectPoint: point,
        issuerPoint: point,
        profile: "ca",
      }),
      ecdsaSha384RawSigner(sign),
    ),
  );
}

/** A positive 16-byte certificate serial number. */
export function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x01;
  return b;
}
