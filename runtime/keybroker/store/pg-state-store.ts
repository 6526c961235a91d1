/**
 * The replicated state store on PostgreSQL (see state-store.ts for the contract, and
 * docs/key-broker.md "Replicas" for why PostgreSQL): every broker replica connects to the same
 * database and shares
 *
 *   ci_broker_state    one row: the document (jsonb) and its version; writers take its row lock
 *                      (SELECT ... FOR UPDATE), so replicas' changes serialise and a rotation's
 *                      pending marker (its lease) is written by exactly one of them;
 *   ci_broker_nodes    one row per chip (node observations; a TCB change starts an epoch in the
 *                      same transaction, under the document's lock);
 *   ci_kbs_sessions    KBS sessions (pg-sessions.ts): UNLOGGED, a crash of the database forgets
 *                      them, which fails closed (runtimes run the handshake again);
 *   ci_audit_segments  the audit index: which replica's rotated audit file holds what.
 *
 * Every query has a timeout (`store.queryTimeoutMs`): a replica that cannot reach the database
 * answers STORE_UNAVAILABLE (503) and releases nothing. The connection string comes from a file or
 * an environment variable, never from the configuration file, and never appears in errors or logs.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import type { TcbComponents } from "../../../measurements/drift/index.js";
import type { KeyBrokerConfig } from "../config.js";
import { KeyBrokerError, isKeyBrokerError } from "../errors.js";
import { sameTcb, startEpoch } from "../session/epochs.js";
import type { SessionBackend } from "../session/session-backend.js";
import { emptyState, type BrokerState, type NodeRecord } from "../state/state.js";
import { PgSessionBackend } from "./pg-sessions.js";
import {
  storeUnavailable,
  type AuditSegment,
  type NodeObservationResult,
  type StateSnapshot,
  type StateStore,
} from "./state-store.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ci_broker_state (
  id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL, doc jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS ci_broker_nodes (
  chip_id text PRIMARY KEY, product text NOT NULL, tcb jsonb NOT NULL,
  first_seen timestamptz NOT NULL, last_seen timestamptz NOT NULL);
CREATE UNLOGGED TABLE IF NOT EXISTS ci_kbs_sessions (
  id text PRIMARY KEY, tee text NOT NULL, nonce text NOT NULL, peer text NOT NULL, state text NOT NULL,
  certificate boolean NOT NULL, created_at bigint NOT NULL, nonce_expires bigint NOT NULL,
  token text, token_expires bigint, claims jsonb);
CREATE INDEX IF NOT EXISTS ci_kbs_sessions_peer ON ci_kbs_sessions (peer, state);
CREATE TABLE IF NOT EXISTS ci_audit_segments (
  replica text NOT NULL, sequence integer NOT NULL, path text NOT NULL, bytes bigint NOT NULL,
  rotated_at timestamptz NOT NULL, PRIMARY KEY (replica, sequence));
`;

/** Reads the connection string from `store.connectionFile` (first line) or `store.connectionEnv`. */
export function connectionString(
  store: Extract<KeyBrokerConfig["store"], { kind: "postgres" }>,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (store.connectionFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(store.connectionFile, "utf8");
    } catch (e) {
      throw new KeyBrokerError("CONFIG_INVALID", `store.connectionFile: cannot read ${store.connectionFile}`, {
        cause: e,
      });
    }
    const line = text.split(/\r?\n/)[0] ?? "";
    if (line === "")
      throw new KeyBrokerError("CONFIG_INVALID", `store.connectionFile ${store.connectionFile} is empty`);
    return line;
  }
  const v = env[store.connectionEnv as string];
  if (v === undefined || v === "")
    throw new KeyBrokerError(
      "CONFIG_INVALID",
      `environment variable ${store.connectionEnv} (store.connectionEnv) is not set`,
    );
  return v;
}

/**
 * Opens the PostgreSQL store and its sessions: connects, creates the tables once (under an advisory
 * lock, so replicas starting together do not race) and the document row.
 */
export async function openPgStore(
  config: KeyBrokerConfig,
  env: Readonly<Record<string, string | undefined>>,
  now: () => Date,
): Promise<{ store: StateStore; sessions: SessionBackend }> {
  if (config.store.kind !== "postgres") throw new TypeError("openPgStore: store.kind is not postgres");
  const o = config.store;
  const pool = new pg.Pool({
    connectionString: connectionString(o, env),
    max: o.poolSize,
    connectionTimeoutMillis: o.queryTimeoutMs,
    query_timeout: o.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: "ci-keybroker",
  });
  // An idle connection the server drops (restart, partition) must not crash the process.
  pool.on("error", () => undefined);
  const store = new PgStateStore(pool);
  try {
    await store.migrate();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw isKeyBrokerError(e) ? e : storeUnavailable("opening the state store", e);
  }
  const sessions = new PgSessionBackend(pool, {
    nonceTtlSeconds: config.ttl.nonceSeconds,
    maxSessions: config.limits.maxSessions,
    sessionsPerPeer: config.limits.sessionsPerPeer,
    now,
  });
  return { store, sessions };
}

/** Marks an error thrown by an update's function (it passes through unchanged). */
class FromUpdate {
  constructor(readonly error: unknown) {}
}

/** The document, nodes and audit index in PostgreSQL (see the file comment). */
export class PgStateStore implements StateStore {
  readonly kind = "postgres" as const;

  constructor(private readonly pool: pg.Pool) {}

  /** Creates the tables and the document row when missing. */
  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(7203154521)");
      await c.query(SCHEMA);
      const { nodes: _n, ...doc } = emptyState();
      await c.query("INSERT INTO ci_broker_state (id, version, doc) VALUES (1, 1, $1) ON CONFLICT (id) DO NOTHING", [
        JSON.stringify({ ...doc, nodes: {} }),
      ]);
    }, "creating the state tables");
  }

  async load(): Promise<StateSnapshot> {
    const r = await this.query<{ version: string; doc: BrokerState }>(
      "reading the state",
      "SELECT version, doc FROM ci_broker_state WHERE id = 1",
    );
    const row = r.rows[0];
    if (!row) throw new KeyBrokerError("STATE_CORRUPT", "the state store has no document row");
    return { state: { ...row.doc, nodes: {} }, version: Number(row.version) };
  }

  async version(): Promise<number> {
    const r = await this.query<{ version: string }>(
      "checking the state version",
      "SELECT version FROM ci_broker_state WHERE id = 1",
    );
    return Number(r.rows[0]?.version ?? 0);
  }

  update<T>(fn: (draft: BrokerState) => T | Promise<T>): Promise<{ result: T; snapshot: StateSnapshot }> {
    return this.tx(async (c) => {
      const { draft, version } = await lockDocument(c);
      let result: T;
      try {
        result = await fn(draft);
      } catch (e) {
        throw new FromUpdate(e);
      }
      const next = version + 1;
      await c.query("UPDATE ci_broker_state SET version = $1, doc = $2 WHERE id = 1", [next, docText(draft)]);
      return { result, snapshot: { state: { ...draft, nodes: {} }, version: next } };
    }, "writing the state");
  }

  async nodes(): Promise<Record<string, NodeRecord>> {
    const r = await this.query<{
      chip_id: string;
      product: string;
      tcb: TcbComponents;
      first_seen: Date;
      last_seen: Date;
    }>("reading the nodes", "SELECT chip_id, product, tcb, first_seen, last_seen FROM ci_broker_nodes");
    const out: Record<string, NodeRecord> = {};
    for (const n of r.rows)
      out[n.chip_id] = {
        product: n.product,
        tcb: n.tcb,
        firstSeen: n.first_seen.toISOString(),
        lastSeen: n.last_seen.toISOString(),
      };
    return out;
  }

  async observeNode(
    chipId: string,
    product: string,
    tcb: TcbComponents,
    now: Date,
    touchMs: number,
  ): Promise<NodeObservationResult> {
    const known = await this.query<{ tcb: TcbComponents; last_seen: Date }>(
      "reading a node",
      "SELECT tcb, last_seen FROM ci_broker_nodes WHERE chip_id = $1",
      [chipId],
    );
    const row = known.rows[0];
    if (row && sameTcb(row.tcb, tcb)) {
      if (now.getTime() - row.last_seen.getTime() >= touchMs)
        await this.query("recording a node", "UPDATE ci_broker_nodes SET last_seen = $2 WHERE chip_id = $1", [
          chipId,
          now,
        ]);
      return { seen: "same" };
    }
    return this.tx(async (c) => {
      // Document lock first, then the node row: the order every writer uses.
      const { draft, version } = await lockDocument(c);
      const r = await c.query<{ tcb: TcbComponents }>("SELECT tcb FROM ci_broker_nodes WHERE chip_id = $1 FOR UPDATE", [
        chipId,
      ]);
      const before = r.rows[0];
      await c.query(
        `INSERT INTO ci_broker_nodes (chip_id, product, tcb, first_seen, last_seen) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (chip_id) DO UPDATE SET product = $2, tcb = $3, last_seen = $4`,
        [chipId, product, JSON.stringify(tcb), now],
      );
      if (!before) return { seen: "new-chip" as const };
      if (sameTcb(before.tcb, tcb)) return { seen: "same" as const }; // another replica recorded the change first
      const epoch = startEpoch(draft, "node-rebuilt", now, `chip ${chipId.slice(0, 16)}… reported a new TCB`);
      await c.query("UPDATE ci_broker_state SET version = $1, doc = $2 WHERE id = 1", [version + 1, docText(draft)]);
      return { seen: "tcb-changed" as const, epoch };
    }, "recording a node");
  }

  async recordAuditSegment(s: AuditSegment): Promise<void> {
    await this.query(
      "indexing an audit file",
      `INSERT INTO ci_audit_segments (replica, sequence, path, bytes, rotated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (replica, sequence) DO UPDATE SET path = $3, bytes = $4, rotated_at = $5`,
      [s.replica, s.sequence, s.path, s.bytes, s.rotatedAt],
    );
  }

  /** The audit index, oldest first per replica. */
  async auditSegments(): Promise<AuditSegment[]> {
    const r = await this.query<{ replica: string; sequence: number; path: string; bytes: string; rotated_at: Date }>(
      "reading the audit index",
      "SELECT replica, sequence, path, bytes, rotated_at FROM ci_audit_segments ORDER BY replica, sequence",
    );
    return r.rows.map((x) => ({
      replica: x.replica,
      sequence: x.sequence,
      path: x.path,
      bytes: Number(x.bytes),
      rotatedAt: x.rotated_at,
    }));
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async query<R extends pg.QueryResultRow>(
    doing: string,
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (e) {
      throw storeUnavailable(doing, e);
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, doing: string): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw storeUnavailable(doing, e);
    }
    let broken = false;
    try {
      await client.query("BEGIN");
      const out = await fn(client);
      await client.query("COMMIT");
      return out;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      if (e instanceof FromUpdate) throw e.error;
      if (isKeyBrokerError(e)) throw e;
      broken = true;
      throw storeUnavailable(doing, e);
    } finally {
      client.release(broken);
    }
  }
}

async function lockDocument(c: pg.PoolClient): Promise<{ draft: BrokerState; version: number }> {
  const r = await c.query<{ version: string; doc: BrokerState }>(
    "SELECT version, doc FROM ci_broker_state WHERE id = 1 FOR UPDATE",
  );
  const row = r.rows[0];
  if (!row) throw new KeyBrokerError("STATE_CORRUPT", "the state store has no document row");
  return { draft: { ...row.doc, nodes: {} }, version: Number(row.version) };
}

function docText(state: BrokerState): string {
  const { nodes: _nodes, ...doc } = state;
  return JSON.stringify({ ...doc, nodes: {} });
}
