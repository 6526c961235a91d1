/**
 * KBS sessions in PostgreSQL (`ci_kbs_sessions`, UNLOGGED): any replica serves any step of a
 * handshake. The semantics are SessionStore's (session/sessions.ts): a challenge is consumed by one
 * atomic UPDATE (challenged -> attesting), so two replicas can never both accept it; each peer holds
 * at most `sessionsPerPeer` unanswered challenges; a full table evicts an unanswered challenge of
 * the busiest peer, then attested sessions older than the nonce lifetime. The limits are counted
 * without a table lock, so concurrent /auth on several replicas may pass them by a few sessions; the
 * table's total is counted at most once a second per replica (plus what this replica added since),
 * not per request, and expired sessions are swept every 10 s, so /auth stays a couple of index
 * lookups and one insert however large the table.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { KeyBrokerError, isKeyBrokerError } from "../errors.js";
import { peerKey } from "../session/session-limits.js";
import type { SessionBackend, SessionToken } from "../session/session-backend.js";
import type { KbsSession, SessionStoreOptions } from "../session/sessions.js";
import { storeUnavailable } from "./state-store.js";

interface Row {
  id: string;
  tee: string;
  nonce: string;
  peer: string;
  state: KbsSession["state"];
  certificate: boolean;
  created_at: string;
  nonce_expires: string;
  doc_version: string;
}

function sessionOf(r: Row): KbsSession {
  return {
    id: r.id,
    tee: r.tee,
    nonce: r.nonce,
    peer: r.peer,
    state: r.state,
    certificate: r.certificate,
    createdAt: Number(r.created_at),
    nonceExpiresAt: Number(r.nonce_expires),
    docVersion: Number(r.doc_version),
  };
}

const EVICT = `
WITH busiest AS (
  SELECT peer FROM ci_kbs_sessions WHERE state IN ('challenged', 'failed')
  GROUP BY peer ORDER BY count(*) DESC, min(created_at) ASC LIMIT 1),
victim AS (
  (SELECT id FROM ci_kbs_sessions WHERE state IN ('challenged', 'failed') AND peer = (SELECT peer FROM busiest)
   ORDER BY created_at LIMIT 1)
  UNION ALL
  (SELECT id FROM ci_kbs_sessions WHERE state = 'attested' AND created_at <= $1 ORDER BY created_at LIMIT 1)
  LIMIT 1)
DELETE FROM ci_kbs_sessions WHERE id = (SELECT id FROM victim) RETURNING id`;

/** Sessions shared by every replica (see the file comment). */
export class PgSessionBackend implements SessionBackend {
  private total = { n: 0, at: Number.NEGATIVE_INFINITY };
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly o: SessionStoreOptions,
  ) {
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), 10_000);
    this.sweeper.unref();
  }

  /** Stops the periodic sweep (the pool belongs to the store). */
  close(): void {
    clearInterval(this.sweeper);
  }

  /** The table's total: counted at most once a second, plus this replica's inserts since. */
  private async approximateTotal(now: number, exact = false): Promise<number> {
    if (exact || now - this.total.at >= 1000) {
      const r = await this.pool.query<{ n: string }>("SELECT count(*) AS n FROM ci_kbs_sessions");
      this.total = { n: Number(r.rows[0]?.n ?? 0), at: now };
    }
    return this.total.n;
  }

  async create(tee: string, options: { readonly certificate: boolean; readonly peer?: string }): Promise<KbsSession> {
    const now = this.o.now().getTime();
    const s: KbsSession = {
      id: randomBytes(24).toString("base64url"),
      tee,
      nonce: randomBytes(32).toString("base64"),
      createdAt: now,
      peer: peerKey(options.peer),
      nonceExpiresAt: now + this.o.nonceTtlSeconds * 1000,
      state: "challenged",
      certificate: options.certificate,
    };
    const perPeer = this.o.sessionsPerPeer ?? Number.MAX_SAFE_INTEGER;
    return this.guard("opening a KBS session", async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const full = (await this.approximateTotal(now, attempt > 0)) >= this.o.maxSessions;
        if (!full) {
          const r = await this.pool.query<{ mine: string; inserted: string }>(
            `WITH c AS (SELECT count(*) AS mine FROM ci_kbs_sessions
                        WHERE peer = $2 AND state = 'challenged' AND nonce_expires > $7),
                  ins AS (INSERT INTO ci_kbs_sessions (id, tee, nonce, peer, state, certificate, created_at, nonce_expires)
                          SELECT $1, $3, $4, $2, 'challenged', $5, $6, $8 FROM c WHERE c.mine < $9
                          RETURNING id)
             SELECT c.mine, (SELECT count(*) FROM ins) AS inserted FROM c`,
            [s.id, s.peer, tee, s.nonce, s.certificate, now, now, s.nonceExpiresAt, perPeer],
          );
          const row = r.rows[0] as { mine: string; inserted: string };
          if (Number(row.inserted) === 1) {
            this.total.n += 1;
            return s;
          }
          throw new KeyBrokerError(
            "PEER_SESSIONS_EXHAUSTED",
            `this peer holds ${row.mine} unanswered KBS challenges (at most ${perPeer}); answer or let them expire`,
          );
        }
        await this.sweepAt(now);
        if ((await this.approximateTotal(now, true)) < this.o.maxSessions) continue;
        const evicted = await this.pool.query(EVICT, [now - this.o.nonceTtlSeconds * 1000]);
        if (evicted.rowCount === 0) break;
        this.total.n -= 1;
      }
      throw new KeyBrokerError("SESSIONS_EXHAUSTED", "too many open KBS sessions; retry later");
    });
  }

  async begin(id: string | undefined): Promise<KbsSession> {
    if (id === undefined)
      throw new KeyBrokerError("SESSION_MISSING", "no kbs-session-id cookie: POST /kbs/v0/auth first");
    const now = this.o.now().getTime();
    return this.guard("taking a KBS challenge", async () => {
      const r = await this.pool.query<Row>(
        `UPDATE ci_kbs_sessions SET state = CASE WHEN nonce_expires > $2 THEN 'attesting' ELSE 'failed' END
         WHERE id = $1 AND state = 'challenged'
         RETURNING id, tee, nonce, peer, state, certificate, created_at, nonce_expires,
                   (SELECT version FROM ci_broker_state WHERE id = 1) AS doc_version`,
        [id, now],
      );
      const row = r.rows[0];
      if (row?.state === "attesting") return sessionOf(row);
      if (row?.state === "failed")
        throw new KeyBrokerError("NONCE_EXPIRED", "the challenge nonce expired: POST /kbs/v0/auth again");
      const known = await this.pool.query("SELECT 1 FROM ci_kbs_sessions WHERE id = $1", [id]);
      if (known.rowCount === 0)
        throw new KeyBrokerError("SESSION_UNKNOWN", "unknown or expired KBS session: POST /kbs/v0/auth again");
      throw new KeyBrokerError("NONCE_REUSED", "this challenge was already answered; nonces are single-use");
    });
  }

  async finish(
    session: KbsSession,
    token: { token: string; expiresAt: number; claims: unknown } | undefined,
  ): Promise<void> {
    await this.guard("recording an attestation", async () => {
      if (token)
        await this.pool.query(
          "UPDATE ci_kbs_sessions SET state = 'attested', token = $2, token_expires = $3, claims = $4 WHERE id = $1",
          [session.id, token.token, token.expiresAt, JSON.stringify(token.claims)],
        );
      else await this.pool.query("UPDATE ci_kbs_sessions SET state = 'failed' WHERE id = $1", [session.id]);
    });
  }

  async tokenOf(id: string): Promise<SessionToken | undefined> {
    return this.guard("reading a KBS session", async () => {
      const r = await this.pool.query<{ token: string; claims: unknown; doc_version: string }>(
        `SELECT token, claims, (SELECT version FROM ci_broker_state WHERE id = 1) AS doc_version
         FROM ci_kbs_sessions WHERE id = $1 AND state = 'attested'`,
        [id],
      );
      const row = r.rows[0];
      return row ? { token: row.token, claims: row.claims, docVersion: Number(row.doc_version) } : undefined;
    });
  }

  async count(): Promise<number> {
    return this.guard("counting KBS sessions", async () => {
      const r = await this.pool.query<{ n: string }>("SELECT count(*) AS n FROM ci_kbs_sessions");
      return Number(r.rows[0]?.n ?? 0);
    });
  }

  async sweep(): Promise<void> {
    await this.guard("sweeping KBS sessions", () => this.sweepAt(this.o.now().getTime()));
  }

  private async sweepAt(now: number): Promise<void> {
    await this.pool.query(
      "DELETE FROM ci_kbs_sessions WHERE nonce_expires <= $1 AND coalesce(token_expires, 0) <= $1",
      [now],
    );
  }

  private async guard<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isKeyBrokerError(e)) throw e;
      throw storeUnavailable(doing, e);
    }
  }
}
