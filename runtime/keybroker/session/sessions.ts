/**
 * KBS sessions (the `kbs-session-id` cookie) and their single-use, expiring nonces, in memory (one
 * replica; the replicated store keeps them in PostgreSQL instead): a restart forgets every challenge,
 * which fails closed (the attester runs the handshake again). A challenge is consumed by the first
 * /attest that presents it, successful or not.
 *
 * `/auth` needs no credential, so creation is bounded two ways (see session-limits.ts): each peer may
 * hold only `sessionsPerPeer` unattested sessions (429 beyond), and a full table makes room by
 * evicting an unattested session of the peer that holds the most of them (its oldest), so a flood
 * only ever displaces the flooder's own challenges while attested runtimes keep theirs.
 */
import { randomBytes } from "node:crypto";
import { KeyBrokerError } from "../errors.js";
import type { PreparedJwe } from "../../kbs-protocol/index.js";
import { chooseEviction, peerKey } from "./session-limits.js";

/** Lifecycle of a session. */
export type SessionState = "challenged" | "attesting" | "attested" | "failed";

/** One session. `nonce` is secret-ish (bound into evidence); it is never logged. */
export interface KbsSession {
  readonly id: string;
  readonly tee: string;
  readonly nonce: string;
  readonly createdAt: number;
  /** Fairness key of the peer that opened it (IPv4 address, IPv6 /64, or "-" when unknown). */
  readonly peer: string;
  /** The state document's version read in the same store round trip (PostgreSQL), for the freshness check. */
  readonly docVersion?: number;
  /** Challenge expiry (ms since the epoch). */
  readonly nonceExpiresAt: number;
  state: SessionState;
  /** The Request asked for the runtime certificate with the token. */
  readonly certificate: boolean;
  /** The token issued by /attest, used for cookie-authenticated resource requests. */
  token?: string;
  /** Its claims (issued here, so their signature needs no re-check). */
  claims?: unknown;
  tokenExpiresAt?: number;
  /**
   * A JWE key agreement with the attested key, computed while the token was being signed, for the
   * session's first resource response (used once; see takePrepared).
   */
  prepared?: Promise<PreparedJwe>;
}

/** Limits of the store. */
export interface SessionStoreOptions {
  /** Challenge lifetime in seconds. */
  readonly nonceTtlSeconds: number;
  /** Most sessions held at once (challenged or attested); a full table evicts (session-limits.ts) or answers SESSIONS_EXHAUSTED. */
  readonly maxSessions: number;
  /** Most unattested sessions of one peer; beyond it /auth answers PEER_SESSIONS_EXHAUSTED (default: no limit). */
  readonly sessionsPerPeer?: number;
  readonly now: () => Date;
}

/** Sessions keyed by id, swept lazily. */
export class SessionStore {
  private readonly sessions = new Map<string, KbsSession>();

  constructor(private readonly o: SessionStoreOptions) {}

  /** Number of live sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Creates a session with a fresh 32-byte nonce (base64, as Trustee sends it) for a request from
   * `options.peer` (its remote address). PEER_SESSIONS_EXHAUSTED when that peer already holds its
   * share of unattested sessions; SESSIONS_EXHAUSTED when the table is full of sessions that may not
   * be evicted (attested ones younger than the nonce lifetime, attestations in progress).
   */
  create(tee: string, options: { readonly certificate?: boolean; readonly peer?: string } = {}): KbsSession {
    const now = this.o.now().getTime();
    const peer = peerKey(options.peer);
    if (this.sessions.size >= this.o.maxSessions) this.sweep(now);
    const perPeer = this.o.sessionsPerPeer;
    if (perPeer !== undefined) {
      let open = 0;
      for (const x of this.sessions.values()) if (x.peer === peer && x.state === "challenged") open += 1;
      if (open >= perPeer)
        throw new KeyBrokerError(
          "PEER_SESSIONS_EXHAUSTED",
          `this peer holds ${open} unanswered KBS challenges (at most ${perPeer}); answer or let them expire`,
        );
    }
    if (this.sessions.size >= this.o.maxSessions) {
      const victim = chooseEviction(this.sessions.values(), now, this.o.nonceTtlSeconds * 1000);
      if (victim === undefined)
        throw new KeyBrokerError("SESSIONS_EXHAUSTED", "too many open KBS sessions; retry later");
      forget(victim.prepared);
      this.sessions.delete(victim.id);
    }
    const s: KbsSession = {
      id: randomBytes(24).toString("base64url"),
      tee,
      nonce: randomBytes(32).toString("base64"),
      createdAt: now,
      peer,
      nonceExpiresAt: now + this.o.nonceTtlSeconds * 1000,
      state: "challenged",
      certificate: options.certificate ?? false,
    };
    this.sessions.set(s.id, s);
    return s;
  }

  /**
   * Takes the challenge of session `id` for an attestation: the session must exist, its nonce be
   * unexpired and never presented before. Marks it `attesting` at once, so a concurrent replay fails.
   */
  beginAttestation(id: string | undefined): KbsSession {
    if (id === undefined)
      throw new KeyBrokerError("SESSION_MISSING", "no kbs-session-id cookie: POST /kbs/v0/auth first");
    const s = this.sessions.get(id);
    if (!s) throw new KeyBrokerError("SESSION_UNKNOWN", "unknown or expired KBS session: POST /kbs/v0/auth again");
    if (s.state !== "challenged")
      throw new KeyBrokerError("NONCE_REUSED", "this challenge was already answered; nonces are single-use");
    if (this.o.now().getTime() >= s.nonceExpiresAt) {
      s.state = "failed";
      throw new KeyBrokerError("NONCE_EXPIRED", "the challenge nonce expired: POST /kbs/v0/auth again");
    }
    s.state = "attesting";
    return s;
  }

  /** Records the outcome of an attestation. */
  finishAttestation(
    s: KbsSession,
    token: { token: string; expiresAt: number; claims?: unknown; prepared?: Promise<PreparedJwe> } | undefined,
  ): void {
    if (token) {
      s.state = "attested";
      s.token = token.token;
      s.tokenExpiresAt = token.expiresAt;
      s.claims = token.claims;
      if (token.prepared) s.prepared = token.prepared;
    } else {
      s.state = "failed";
    }
  }

  /**
   * The prepared key agreement of an attested session, when `token` is its token; handed out once
   * (an ephemeral key serves one key agreement), undefined afterwards.
   */
  takePrepared(id: string, token: string): Promise<PreparedJwe> | undefined {
    const s = this.sessions.get(id);
    if (s?.state !== "attested" || token !== s.token) return undefined;
    const p = s.prepared;
    delete s.prepared;
    return p;
  }

  /** The token of an attested session, for cookie-authenticated resource requests. */
  tokenOf(id: string): string | undefined {
    const s = this.sessions.get(id);
    return s?.state === "attested" ? s.token : undefined;
  }

  /** The claims of the token an attested session holds, when `token` is that token (or absent). */
  claimsOf(id: string, token?: string): unknown {
    const s = this.sessions.get(id);
    if (s?.state !== "attested" || (token !== undefined && token !== s.token)) return undefined;
    return s.claims;
  }

  /** Drops sessions whose challenge and token have both expired. */
  sweep(now = this.o.now().getTime()): void {
    for (const [id, s] of this.sessions) {
      const until = Math.max(s.nonceExpiresAt, s.tokenExpiresAt ?? 0);
      if (now < until) continue;
      forget(s.prepared);
      this.sessions.delete(id);
    }
  }
}

/** Zeroes the content key of a prepared agreement nobody will use. */
function forget(prepared: Promise<PreparedJwe> | undefined): void {
  void prepared?.then(
    (p) => p.cek.fill(0),
    () => undefined,
  );
}
