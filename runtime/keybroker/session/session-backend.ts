/**
 * Where KBS sessions live: in this process (one replica, `MemorySessionBackend` over SessionStore) or
 * in PostgreSQL (`PgSessionBackend`, store/pg-sessions.ts), where any replica serves any step of a
 * handshake. The interface is asynchronous for the store's sake; its semantics are SessionStore's:
 * single-use expiring nonces, per-peer limits and fair eviction (session-limits.ts).
 */
import type { KbsSession } from "./sessions.js";
import { SessionStore, type SessionStoreOptions } from "./sessions.js";

/** A session's token and its claims (issued by a replica of this broker, so not re-verified). */
export interface SessionToken {
  readonly token: string;
  readonly claims: unknown;
  /** The state document's version read in the same store round trip (PostgreSQL). */
  readonly docVersion?: number;
}

/** KBS sessions (see the file comment). */
export interface SessionBackend {
  /** Opens a session with a fresh challenge (PEER_SESSIONS_EXHAUSTED / SESSIONS_EXHAUSTED when full). */
  create(tee: string, options: { readonly certificate: boolean; readonly peer?: string }): Promise<KbsSession>;
  /** Takes a session's challenge for an attestation, once (SESSION_MISSING/UNKNOWN, NONCE_REUSED/EXPIRED). */
  begin(id: string | undefined): Promise<KbsSession>;
  /** Records the outcome of an attestation: its token, or failure. */
  finish(session: KbsSession, token: { token: string; expiresAt: number; claims: unknown } | undefined): Promise<void>;
  /** The token of an attested session, or undefined. */
  tokenOf(id: string): Promise<SessionToken | undefined>;
  /** Sessions held now. */
  count(): Promise<number>;
  /** Drops sessions whose challenge and token have both expired. */
  sweep(): Promise<void>;
  /** Stops background work (a periodic sweep). */
  close?(): void;
}

/** Sessions in this process (one replica). */
export class MemorySessionBackend implements SessionBackend {
  readonly store: SessionStore;

  constructor(options: SessionStoreOptions) {
    this.store = new SessionStore(options);
  }

  async create(tee: string, options: { readonly certificate: boolean; readonly peer?: string }): Promise<KbsSession> {
    return this.store.create(tee, options);
  }

  async begin(id: string | undefined): Promise<KbsSession> {
    return this.store.beginAttestation(id);
  }

  async finish(
    session: KbsSession,
    token: { token: string; expiresAt: number; claims: unknown } | undefined,
  ): Promise<void> {
    this.store.finishAttestation(session, token);
  }

  async tokenOf(id: string): Promise<SessionToken | undefined> {
    const token = this.store.tokenOf(id);
    return token === undefined ? undefined : { token, claims: this.store.claimsOf(id, token) };
  }

  async count(): Promise<number> {
    return this.store.size;
  }

  async sweep(): Promise<void> {
    this.store.sweep();
  }
}
