/**
 * The broker's HSM keys by role and version: which version is active, and the signing, HMAC and
 * AES-GCM operations on them (inside the HSM). Creating versions (first start, rotation, crash
 * recovery) is rotation.ts; labels, key kinds and options are keyring-config.ts.
 */
import { pointFromJwk, type EcPublicJwk } from "../../../core/index.js";
import { KeyBrokerError } from "../errors.js";
import { teeKeyCheck } from "./tee-key.js";
import { KEY_ROLES, type KeyRole, type KeyVersionRecord } from "../state/state.js";
import type { KeyringOptions } from "./keyring-config.js";
import type { BrokerState } from "../state/state.js";
import { initialiseRoles, recoverPendingRotation, rotateOnce } from "./rotation.js";

/** Versioned HSM keys of the broker. */
export class Keyring {
  private rotating = false;

  constructor(private readonly o: KeyringOptions) {}

  /** The record of the active version of `role`; throws when the role has no key yet. */
  active(role: KeyRole): KeyVersionRecord {
    const rs = this.o.state().keys[role];
    const rec = rs?.versions.find((v) => v.version === rs.active);
    if (!rec) throw new KeyBrokerError("HSM_KEY_MISSING", `no active ${role} key version`);
    return rec;
  }

  /** A specific version of `role`, or undefined. */
  version(role: KeyRole, version: number): KeyVersionRecord | undefined {
    return this.o.state().keys[role]?.versions.find((v) => v.version === version);
  }

  /** Versions of `role`, oldest first. */
  versions(role: KeyRole): readonly KeyVersionRecord[] {
    return this.o.state().keys[role]?.versions ?? [];
  }

  /**
   * Completes start-up: undoes an interrupted rotation this replica may recover, then gives every
   * role that has no version yet (first start) its version 1: the token's `<base>-v1` objects when
   * an operator pre-created them inside the token (an HSM policy may forbid key generation by the
   * user), else new keys (rotation.ts `initialiseRoles`, one locked write for all replicas).
   * Returns the roles created and adopted. HSM_KEY_CONFLICT when the token holds objects the state
   * does not explain.
   */
  async initialise(): Promise<{ created: KeyRole[]; adopted: KeyRole[] }> {
    await this.recoverPendingRotation();
    return initialiseRoles(this.o, KEY_ROLES);
  }

  /** Undoes a rotation a crash interrupted before its commit (when this replica may); returns its label, if any. */
  recoverPendingRotation(): Promise<string | undefined> {
    return recoverPendingRotation(this.o);
  }

  /**
   * Creates and activates a new version of `role` (see rotation.ts for the crash-safe, leased
   * protocol). `derive` runs inside the commit on the latest document with the new version's record
   * (re-wrapped data keys under a new KEK). Returns the new record.
   */
  async rotate(role: KeyRole, derive?: (rec: KeyVersionRecord, draft: BrokerState) => void): Promise<KeyVersionRecord> {
    if (this.rotating) throw new KeyBrokerError("ROTATION_IN_PROGRESS", `a rotation is already running`);
    this.rotating = true;
    try {
      return await rotateOnce(this.o, role, derive);
    } finally {
      this.rotating = false;
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
    return this.unwrapWith(record, aad, iv, ct);
  }

  /** unwrap with a given KEK record (a rotation's commit reads it from the document it is changing). */
  unwrapWith(record: KeyVersionRecord, aad: string, iv: string, ct: string): Buffer {
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
