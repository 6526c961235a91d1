/**
 * Broker replicas on a real PostgreSQL server and one SoftHSM2 token (issue 15, "Done when"), each
 * replica a real process (test/helpers/fleet.ts):
 * - any replica serves any step of a handshake (sessions shared);
 * - kill -9 of one of three replicas during a handshake burst: every runtime is served after at
 *   most one retry, no key version is lost;
 * - a replica holding the rotation lease: the others are refused (409) until it commits;
 * - kill -9 of the rotating replica: no double rotation, nothing lost, the lease expires and another
 *   replica rotates, recovering the dead one's uncommitted key;
 * - the store restarting mid-rotation leaves a consistent state, and the rotation completes after;
 * - a replica that cannot reach the store (a partition) refuses to release, while the others serve.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminRequest,
  brokerFixture,
  fakeClaims,
  goldenManifest,
  measurementOf,
  signedManifest,
  type BrokerFixture,
} from "../helpers/keybroker.js";
import { handshake, kbsRequest, startReplica, StepFailed, type Replica } from "../helpers/fleet.js";
import { startTestPostgres, tcpRelay, type TestPostgres } from "../helpers/postgres.js";

const M = measurementOf("inference-fleet");
const KEY = Buffer.alloc(32, 0x42);
const RESOURCE = "default/model/m";
const claims = fakeClaims(M);

describe("a fleet of broker replicas on PostgreSQL", { timeout: 120_000 }, () => {
  let db: TestPostgres;
  let f: BrokerFixture;
  const replicas: Replica[] = [];
  const urls: Record<string, { kbs: string; admin: string }> = {};
  let ca = "";

  const start = async (name: string, env: Record<string, string> = {}, pgUrl?: string) => {
    const r = startReplica(f, name, pgUrl ?? db.url, env);
    replicas.push(r);
    urls[name] = await r.ready;
    return r;
  };
  const admin = (name: string, method: "GET" | "POST", path: string, body?: unknown, type?: string) =>
    adminRequest(urls[name]?.admin as string, ca, f.operator, method, path, body, type);
  const doc = async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      return (await pool.query("SELECT doc FROM ci_broker_state")).rows[0].doc;
    } finally {
      await pool.end();
    }
  };
  /** Every role: exactly one active version, versions numbered 1..n, no pending rotation left behind. */
  const expectConsistent = (d: any) => {
    for (const role of ["kek", "signing", "ca", "session"]) {
      const rs = d.keys[role];
      expect(rs.versions.filter((v: any) => v.status === "active").map((v: any) => v.version)).toEqual([rs.active]);
      expect(rs.versions.map((v: any) => v.version)).toEqual(rs.versions.map((_: unknown, i: number) => i + 1));
    }
    for (const v of d.dataKeys[RESOURCE].versions) expect(Object.keys(v.wrapped).length).toBeGreaterThan(0);
  };

  beforeAll(async () => {
    db = await startTestPostgres();
    f = brokerFixture({
      store: { kind: "postgres", connectionEnv: "KB_PG_URL", rotationLeaseSeconds: 3, queryTimeoutMs: 1000 },
    });
    await start("r1");
    ca = readFileSync(join(f.dir, "r1", "state", "ca.pem"), "utf8");
    await Promise.all([start("r2"), start("r3")]);
    const jws = await signedManifest(
      goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
      f.release.privateKey,
    );
    expect((await admin("r1", "POST", "/admin/v1/manifests", { jws })).status).toBe(201);
    expect((await admin("r2", "POST", `/admin/v1/data-keys/${RESOURCE}`, KEY, "application/octet-stream")).status).toBe(
      200,
    );
  });
  afterAll(async () => {
    for (const r of replicas) r.child.kill("SIGKILL");
    await Promise.all(replicas.map((r) => r.exited));
    db?.close();
  });

  const kbs = (n: string) => urls[n]?.kbs as string;

  it("serves each step of a handshake on another replica (sessions are shared)", async () => {
    const { key } = await handshake([kbs("r1"), kbs("r2"), kbs("r3")], ca, claims, RESOURCE);
    expect(key.equals(KEY)).toBe(true);
    const back = await handshake([kbs("r3"), kbs("r1"), kbs("r2")], ca, claims, RESOURCE);
    expect(back.key.equals(KEY)).toBe(true);
  });

  it("serves every runtime after at most one retry when one of three replicas is killed (-9) in a burst", async () => {
    const live = new Set(["r1", "r2", "r3"]);
    const retries: number[] = [];
    const failures: string[] = [];
    let done = 0;
    const runtime = async (i: number) => {
      for (let attempt = 0; ; attempt++) {
        const names = [...live];
        const pick = (k: number) => kbs(names[(i + k) % names.length] as string);
        try {
          const { key } = await handshake([pick(0), pick(1), pick(2)], ca, claims, RESOURCE, `127.0.1.${i + 1}`);
          expect(key.equals(KEY)).toBe(true);
          retries.push(attempt);
          done += 1;
          return;
        } catch (e) {
          failures.push(`${i}/${attempt}: ${(e as Error).message}`);
          if (!(e instanceof StepFailed) || attempt >= 1) throw new Error(failures.join("\n"));
          // A load balancer's view: a replica that refused the connection is out of rotation.
          if (e.status === undefined) for (const n of ["r1", "r2", "r3"]) if (kbs(n) === e.replica) live.delete(n);
        }
      }
    };
    const burst = Array.from({ length: 30 }, (_, i) => runtime(i));
    while (done < 8) await new Promise((r) => setTimeout(r, 5));
    // kill -9, and the endpoint leaves the load balancer (as a Service drops a dead pod); requests
    // already on their way to it fail and are retried.
    const victim = replicas.find((r) => r.name === "r2") as Replica;
    victim.child.kill("SIGKILL");
    live.delete("r2");
    await victim.exited;
    await Promise.all(burst);
    expect(retries).toHaveLength(30);
    expect(Math.max(...retries)).toBeLessThanOrEqual(1);
    expectConsistent(await doc());
    await start("r2"); // back in the fleet for the next tests
  });

  it("lets exactly one of two replicas rotate at once (the lease)", async () => {
    const before = (await doc()).keys.kek.active as number;
    // r7 stops inside its rotation, holding the lease, until the test lets it go on.
    const pauseFile = join(f.dir, "continue-lease");
    const r7 = await start("r7", { KB_PAUSE_AT: "rotation:hsm-created", KB_PAUSE_FILE: pauseFile });
    const first = admin("r7", "POST", "/admin/v1/rotate", { target: "kek" });
    expect(await r7.paused).toBe("rotation:hsm-created");
    for (const other of ["r1", "r2"]) {
      const r = await admin(other, "POST", "/admin/v1/rotate", { target: "kek" });
      expect([r.status, r.body.code]).toEqual([409, "ROTATION_IN_PROGRESS"]);
    }
    writeFileSync(pauseFile, "");
    const done = await first;
    expect([done.status, done.body.version]).toEqual([200, before + 1]);
    const d = await doc();
    expect(d.keys.kek.active).toBe(before + 1);
    expect(d.pendingRotation).toBeUndefined();
    expectConsistent(d);
    const { key } = await handshake([kbs("r3"), kbs("r2"), kbs("r1")], ca, claims, RESOURCE);
    expect(key.equals(KEY)).toBe(true);
    r7.child.kill("SIGTERM");
  });

  it("recovers from a replica killed (-9) mid-rotation: no double rotation, no key lost", async () => {
    const before = (await doc()).keys.kek.active as number;
    const crasher = await start("r4", { KB_CRASH_AT: "rotation:hsm-created" });
    await expect(admin("r4", "POST", "/admin/v1/rotate", { target: "kek" })).rejects.toThrow();
    expect((await crasher.exited).signal).toBe("SIGKILL");
    const held = (await doc()).pendingRotation;
    expect(held).toMatchObject({ role: "kek", version: before + 1, owner: "r4" });
    // The lease holds: nobody else rotates yet; releases go on.
    const early = await admin("r1", "POST", "/admin/v1/rotate", { target: "kek" });
    expect([early.status, early.body.code]).toEqual([409, "ROTATION_IN_PROGRESS"]);
    expect((await handshake([kbs("r1"), kbs("r3"), kbs("r2")], ca, claims, RESOURCE)).key.equals(KEY)).toBe(true);
    await new Promise((r) => setTimeout(r, 3200));
    const after = await admin("r1", "POST", "/admin/v1/rotate", { target: "kek" });
    expect([after.status, after.body.version]).toEqual([200, before + 1]);
    const d = await doc();
    expect(d.pendingRotation).toBeUndefined();
    expect(d.keys.kek.active).toBe(before + 1);
    expectConsistent(d);
    expect(Object.keys(d.dataKeys[RESOURCE].versions[0].wrapped)).toContain(String(before + 1));
    for (const order of [
      ["r2", "r3", "r1"],
      ["r3", "r1", "r2"],
    ] as const)
      expect(
        (await handshake([kbs(order[0]), kbs(order[1]), kbs(order[2])], ca, claims, RESOURCE)).key.equals(KEY),
      ).toBe(true);
    const restarted = await start("r4b"); // a new replica on the same token: nothing unexplained in it
    expect(restarted.name).toBe("r4b");
  });

  it("leaves a consistent state when the store restarts mid-rotation, and rotates after", async () => {
    const before = (await doc()).keys.kek.active as number;
    const pauseFile = join(f.dir, "continue");
    await start("r5", { KB_PAUSE_AT: "rotation:hsm-created", KB_PAUSE_FILE: pauseFile });
    const rotating = admin("r5", "POST", "/admin/v1/rotate", { target: "kek" });
    const r5 = replicas.find((r) => r.name === "r5") as Replica;
    expect(await r5.paused).toBe("rotation:hsm-created");
    db.stop("immediate"); // a crash of the store: no checkpoint, recovery at start
    writeFileSync(pauseFile, "");
    const failed = await rotating;
    expect([failed.status, failed.body.code]).toEqual([503, "STORE_UNAVAILABLE"]);
    db.start();
    const d = await doc();
    expectConsistent(d);
    expect(d.keys.kek.active).toBe(before);
    expect(d.pendingRotation).toMatchObject({ owner: "r5", version: before + 1 });
    // Releases go on once the store is back (a pooled connection the crash broke costs one retry).
    let served: Buffer | undefined;
    for (let attempt = 0; attempt < 2 && !served; attempt++)
      served = await handshake([kbs("r1"), kbs("r2"), kbs("r3")], ca, claims, RESOURCE).then(
        (x) => x.key,
        () => undefined,
      );
    expect(served?.equals(KEY)).toBe(true);
    let again = await admin("r5", "POST", "/admin/v1/rotate", { target: "kek" });
    if (again.status === 503) again = await admin("r5", "POST", "/admin/v1/rotate", { target: "kek" });
    expect([again.status, again.body.version]).toEqual([200, before + 1]);
    const after = await doc();
    expect(after.pendingRotation).toBeUndefined();
    expectConsistent(after);
  });

  it("refuses to release on a replica cut off from the store (fail closed) while the others serve", async () => {
    const relay = await tcpRelay(db.port);
    try {
      await start("r6", {}, relay.url);
      const { token } = await handshake([kbs("r6"), kbs("r6"), kbs("r6")], ca, claims, RESOURCE);
      const bearer = { authorization: `Bearer ${token}` };
      relay.partition();
      const t0 = Date.now();
      const cut = await kbsRequest(kbs("r6"), ca, "GET", `/kbs/v0/resource/${RESOURCE}`, { headers: bearer });
      expect([cut.status, cut.body.code]).toEqual([503, "STORE_UNAVAILABLE"]);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(JSON.stringify(cut.body)).not.toContain("ciphertext");
      const auth = await kbsRequest(kbs("r6"), ca, "POST", "/kbs/v0/auth", {
        body: { version: "0.4.0", tee: "snp", "extra-params": "" },
      });
      expect([auth.status, auth.body.code]).toEqual([503, "STORE_UNAVAILABLE"]);
      const other = await kbsRequest(kbs("r1"), ca, "GET", `/kbs/v0/resource/${RESOURCE}`, { headers: bearer });
      expect(other.status).toBe(200);
      relay.heal();
      let healed = await kbsRequest(kbs("r6"), ca, "GET", `/kbs/v0/resource/${RESOURCE}`, { headers: bearer });
      if (healed.status !== 200)
        healed = await kbsRequest(kbs("r6"), ca, "GET", `/kbs/v0/resource/${RESOURCE}`, { headers: bearer });
      expect(healed.status).toBe(200);
    } finally {
      await relay.close();
    }
  });
});
