/**
 * The PostgreSQL state store against a real server started for this file (test/helpers/postgres.ts):
 * a broker on it serves the whole handshake, rotates and re-wraps, records nodes (a TCB change starts
 * one epoch, however many writers see it) and indexes rotated audit files; two session backends on
 * one database (two replicas) hand a challenge to exactly one attestation, keep the per-peer limit
 * and evict fairly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { FastifyInstance } from "fastify";
import { adminImportDataKey, adminImportManifest, adminRotate } from "../../runtime/keybroker/admin-service.js";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { buildKbsApp } from "../../runtime/keybroker/http/kbs-app.js";
import { PgSessionBackend } from "../../runtime/keybroker/store/pg-sessions.js";
import { PgStateStore } from "../../runtime/keybroker/store/pg-state-store.js";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import {
  brokerFixture,
  fakeClaims,
  fakeEvidence,
  FakeVerifier,
  goldenManifest,
  measurementOf,
  signedManifest,
  startBroker,
  testClock,
  type BrokerFixture,
} from "../helpers/keybroker.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import type { Transport } from "../../runtime/attester/kbs/transport.js";

const M = measurementOf("inference-pg");

function injectTransport(app: FastifyInstance): Transport {
  return {
    async send(method, path, o = {}) {
      const r = await app.inject({
        method,
        url: path,
        ...(o.body === undefined ? {} : { payload: o.body as object }),
        ...(o.headers ? { headers: o.headers } : {}),
      });
      return {
        status: r.statusCode,
        headers: r.headers as Record<string, string>,
        body: r.body ? JSON.parse(r.body) : undefined,
      };
    },
    close() {},
  };
}

describe("the PostgreSQL state store", () => {
  let db: TestPostgres;
  let f: BrokerFixture;
  let broker: KeyBroker;
  let app: FastifyInstance;
  const clock = testClock();

  beforeAll(async () => {
    db = await startTestPostgres();
    f = brokerFixture({
      store: { kind: "postgres", connectionEnv: "KB_PG_URL", replica: "replica-a" },
      audit: { rotateBytes: 4096, keepFiles: 4 },
    });
    broker = await startBroker(f, new FakeVerifier(), { env: { KB_PG_URL: db.url }, now: clock.now });
    app = buildKbsApp(broker);
    await adminImportManifest(
      broker,
      "operator:test",
      await signedManifest(
        goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
        f.release.privateKey,
      ),
    );
    await adminImportDataKey(broker, "operator:test", "default/model/m", Buffer.alloc(32, 9));
  });
  afterAll(async () => {
    await app?.close();
    await broker?.close();
    db?.close();
  });

  it("keeps the document in the store: the handshake, a KEK rotation with re-wrap, a restart", async () => {
    expect(broker.store.kind).toBe("postgres");
    const client = new KbsClient({ transport: injectTransport(app), evidence: fakeEvidence(fakeClaims(M)) });
    expect((await client.getResource("default/model/m")).equals(Buffer.alloc(32, 9))).toBe(true);
    const r = await adminRotate(broker, "operator:test", "kek");
    expect(r).toMatchObject({ target: "kek", version: 2 });
    const pool = new pg.Pool({ connectionString: db.url });
    const doc = (await pool.query("SELECT version, doc FROM ci_broker_state")).rows[0];
    expect(doc.doc.keys.kek.active).toBe(2);
    expect(Object.keys(doc.doc.dataKeys["default/model/m"].versions[0].wrapped).sort()).toEqual(["1", "2"]);
    expect(doc.doc.pendingRotation).toBeUndefined();
    expect(Number(doc.version)).toBe(await broker.store.version());
    await pool.end();
    expect((await client.getResource("default/model/m")).equals(Buffer.alloc(32, 9))).toBe(true);
  });

  it("records a node once and starts one epoch for a TCB change, whichever replica sees it first", async () => {
    const other = new PgStateStore(new pg.Pool({ connectionString: db.url }));
    const chip = "cd".repeat(64);
    const t0 = clock.now();
    expect((await broker.store.observeNode(chip, "Genoa", fakeClaims(M).reportedTcb, t0, 60_000)).seen).toBe(
      "new-chip",
    );
    const before = (await broker.store.load()).state.epochs.length;
    const newer = { ...fakeClaims(M).reportedTcb, snp: 24 };
    const [a, b] = await Promise.all([
      broker.store.observeNode(chip, "Genoa", newer, t0, 60_000),
      other.observeNode(chip, "Genoa", newer, t0, 60_000),
    ]);
    expect([a.seen, b.seen].sort()).toEqual(["same", "tcb-changed"]);
    const epochs = (await broker.store.load()).state.epochs;
    expect(epochs.length).toBe(before + 1);
    expect(epochs.at(-1)).toMatchObject({ reason: "node-rebuilt" });
    expect((await other.nodes())[chip]).toMatchObject({ product: "Genoa", tcb: newer });
    await other.close();
  });

  it("indexes rotated audit files in the store", async () => {
    for (let i = 0; i < 40; i++) await broker.record({ event: "kbs.auth", decision: "denied", code: "BODY_INVALID" });
    await new Promise((r) => setTimeout(r, 100));
    const segments = await (broker.store as PgStateStore).auditSegments();
    expect(segments.length).toBeGreaterThan(0);
    expect(segments[0]).toMatchObject({ replica: "replica-a", sequence: 1 });
    expect(segments[0]?.path.endsWith("audit.log.1")).toBe(true);
  });

  it("hands a challenge to exactly one of two replicas attesting at once", async () => {
    const opts = { nonceTtlSeconds: 60, maxSessions: 1000, sessionsPerPeer: 3, now: clock.now };
    const p1 = new pg.Pool({ connectionString: db.url });
    const p2 = new pg.Pool({ connectionString: db.url });
    const a = new PgSessionBackend(p1, opts);
    const b = new PgSessionBackend(p2, opts);
    const s = await a.create("snp", { certificate: false, peer: "10.0.0.1" });
    const outcomes = await Promise.allSettled([a.begin(s.id), b.begin(s.id), a.begin(s.id), b.begin(s.id)]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(
      outcomes.flatMap((o) => (o.status === "rejected" ? [(o.reason as { code: string }).code] : [])).sort(),
    ).toEqual(["NONCE_REUSED", "NONCE_REUSED", "NONCE_REUSED"]);
    const won = (outcomes.find((o) => o.status === "fulfilled") as PromiseFulfilledResult<{ id: string }>).value;
    await b.finish(won as never, { token: "t", expiresAt: clock.now().getTime() + 60_000, claims: { x: 1 } });
    expect(await a.tokenOf(s.id)).toMatchObject({ token: "t", claims: { x: 1 } });
    await a.create("snp", { certificate: false, peer: "2001:db8::1" });
    await b.create("snp", { certificate: false, peer: "2001:db8::2" });
    await a.create("snp", { certificate: false, peer: "2001:db8::3" });
    await expect(b.create("snp", { certificate: false, peer: "2001:db8::4" })).rejects.toMatchObject({
      code: "PEER_SESSIONS_EXHAUSTED",
    });
    await expect(b.begin("nope")).rejects.toMatchObject({ code: "SESSION_UNKNOWN" });
    await p1.end();
    await p2.end();
  });

  it("evicts the busiest peer's oldest challenge from a full table, never a fresh attested session", async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    await pool.query("DELETE FROM ci_kbs_sessions");
    const s = new PgSessionBackend(pool, { nonceTtlSeconds: 60, maxSessions: 4, sessionsPerPeer: 10, now: clock.now });
    const kept = await s.create("snp", { certificate: false, peer: "10.1.0.1" });
    await s.begin(kept.id);
    await s.finish(kept, { token: "k", expiresAt: clock.now().getTime() + 60_000, claims: {} });
    clock.advance(1);
    const oldest = await s.create("snp", { certificate: false, peer: "10.1.0.9" });
    clock.advance(1);
    await s.create("snp", { certificate: false, peer: "10.1.0.9" });
    clock.advance(1);
    await s.create("snp", { certificate: false, peer: "10.1.0.2" });
    await s.create("snp", { certificate: false, peer: "10.1.0.3" }); // full: 10.1.0.9 holds two
    expect(await s.count()).toBe(4);
    await expect(s.begin(oldest.id)).rejects.toMatchObject({ code: "SESSION_UNKNOWN" });
    expect(await s.tokenOf(kept.id)).toMatchObject({ token: "k", claims: {} });
    await pool.end();
  });
});
