/**
 * The audit log's durability and group commit: the file is opened O_APPEND | O_DSYNC (every write
 * returns only once on stable storage), records arriving while a batch is written share the next
 * single write, a record resolves only after its own write, a failed write fails the batch and
 * every later record closed (AUDIT_UNAVAILABLE), and a broker answers a grant only after the
 * grant's line is written (a failing write turns the grant into a 503 with nothing released), so a
 * broker killed with SIGKILL right after answering has every grant it answered in its file.
 */
import { constants, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import { simulatedSnpEvidence } from "../../runtime/simulators/index.js";
import { AuditLog, parseAuditLog, type AuditEntry } from "../../runtime/keybroker/state/audit.js";
import {
  adminRequest,
  brokerFixture,
  fakeClaims,
  fakeEvidence,
  FakeVerifier,
  goldenManifest,
  listen,
  measurementOf,
  releaseKey,
  signedManifest,
  startBroker,
  tempDir,
} from "../helpers/keybroker.js";
import { startBrokerProcess } from "../helpers/keybroker-process.js";
import { sharedSimulatedSnp, SIMULATED_SNP_ROOT } from "../helpers/simulated-snp.js";

const entry = (n: number): AuditEntry => ({
  event: "kbs.resource",
  decision: "granted",
  resource: `default/model/m${n}`,
});
const FROZEN = () => new Date("2026-11-26T12:00:00.000Z");

/** A durable append the test completes by hand, recording each call's lines. */
function gatedAppend() {
  const calls: { lines: string[]; done: (e?: Error) => void }[] = [];
  const waiters: (() => void)[] = [];
  const append = (data: Buffer) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ lines: data.toString("utf8").trimEnd().split("\n"), done: (e) => (e ? reject(e) : resolve()) });
      for (const w of waiters.splice(0)) w();
    });
  const nextCall = async (n: number) => {
    while (calls.length < n) await new Promise<void>((r) => waiters.push(r));
    return calls[n - 1] as (typeof calls)[number];
  };
  return { append, calls, nextCall };
}

/** Settles pending promise callbacks and I/O callbacks queued so far. */
const drain = () => new Promise((r) => setImmediate(r));

describe("audit log durability and group commit", () => {
  it("opens the file append-only with synchronized writes (O_APPEND | O_DSYNC) and mode 0600", async () => {
    const log = new AuditLog(join(tempDir("kb-audit-"), "audit.log"), FROZEN);
    await log.open();
    const fdinfo = readFileSync(`/proc/self/fdinfo/${log.descriptor}`, "utf8");
    const flags = Number.parseInt(/flags:\s+([0-7]+)/.exec(fdinfo)?.[1] ?? "0", 8);
    expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    await Promise.all([1, 2, 3].map((n) => log.record(entry(n))));
    await log.close();
    expect(parseAuditLog(readFileSync(log.path, "utf8")).map((l) => l.resource)).toEqual([
      "default/model/m1",
      "default/model/m2",
      "default/model/m3",
    ]);
    expect(readFileSync(log.path, "utf8").split("\n")[0]).toBe(
      '{"ts":"2026-11-26T12:00:00.000Z","event":"kbs.resource","decision":"granted","resource":"default/model/m1"}',
    );
  });

  it("writes records that arrive during a write together in the next single write, each resolving only after its own write", async () => {
    const g = gatedAppend();
    const log = new AuditLog("unused", FROZEN, g.append);
    await log.open();
    const settled: number[] = [];
    const r1 = log.record(entry(1)).then(() => settled.push(1));
    const first = await g.nextCall(1);
    const rest = [2, 3, 4, 5].map((n) => log.record(entry(n)).then(() => settled.push(n)));
    await drain();
    expect(g.calls).toHaveLength(1);
    expect(first.lines.map((l) => JSON.parse(l).resource)).toEqual(["default/model/m1"]);
    expect(settled).toEqual([]);
    first.done();
    await r1;
    const second = await g.nextCall(2);
    expect(second.lines.map((l) => JSON.parse(l).resource)).toEqual([
      "default/model/m2",
      "default/model/m3",
      "default/model/m4",
      "default/model/m5",
    ]);
    await drain();
    expect(settled).toEqual([1]);
    second.done();
    await Promise.all(rest);
    expect(settled).toEqual([1, 2, 3, 4, 5]);
    expect(g.calls).toHaveLength(2);
    await log.close();
  });

  it("writes the records made in one task (an attestation and its certificate) in one write", async () => {
    const g = gatedAppend();
    const log = new AuditLog("unused", FROZEN, g.append);
    await log.open();
    const both = Promise.all([log.record(entry(1)), log.record(entry(2))]);
    const call = await g.nextCall(1);
    expect(call.lines.map((l) => JSON.parse(l).resource)).toEqual(["default/model/m1", "default/model/m2"]);
    call.done();
    await both;
    expect(g.calls).toHaveLength(1);
    await log.close();
  });

  it("fails every record of a failed write and every later one with AUDIT_UNAVAILABLE", async () => {
    const g = gatedAppend();
    const log = new AuditLog("unused", FROZEN, g.append);
    await log.open();
    const a = log.record(entry(1));
    const first = await g.nextCall(1);
    const b = log.record(entry(2));
    first.done(new Error("EIO"));
    await expect(a).rejects.toMatchObject({ code: "AUDIT_UNAVAILABLE" });
    (await g.nextCall(2)).done(new Error("EIO"));
    await expect(b).rejects.toMatchObject({ code: "AUDIT_UNAVAILABLE" });
    await expect(log.record(entry(3))).rejects.toMatchObject({
      code: "AUDIT_UNAVAILABLE",
      message: "audit log write failed earlier",
    });
    expect(g.calls).toHaveLength(2);
  });

  it("answers a grant only once its line is written: the token after a successful write, a 503 without a token when the write fails", async () => {
    const M = measurementOf("inference-durable");
    const f = brokerFixture();
    const g = gatedAppend();
    let failGrants = false;
    const broker = await startBroker(f, new FakeVerifier(), {
      auditAppend: async (data) => {
        const text = data.toString("utf8");
        const p = g.append(data);
        if (failGrants && text.includes('"event":"kbs.attest","decision":"granted"'))
          (g.calls[g.calls.length - 1] as (typeof g.calls)[number]).done(new Error("ENOSPC"));
        else (g.calls[g.calls.length - 1] as (typeof g.calls)[number]).done();
        await p;
      },
    });
    const net = await listen(broker, f);
    try {
      const admin = (path: string, body: unknown) => adminRequest(net.adminUrl, net.ca, f.operator, "POST", path, body);
      expect(
        (
          await admin("/admin/v1/manifests", {
            jws: await signedManifest(
              goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
              f.release.privateKey,
            ),
          })
        ).status,
      ).toBe(201);
      const ok = new KbsClient({ url: net.kbsUrl, ca: net.ca, evidence: fakeEvidence(fakeClaims(M)) });
      const { claims } = await ok.attest();
      ok.close();
      const grant = g.calls
        .flatMap((c) => c.lines)
        .map((l) => JSON.parse(l))
        .find((l) => l.event === "kbs.attest" && l.decision === "granted");
      expect(grant).toMatchObject({ tokenId: claims.jti, release: "r1" });

      failGrants = true;
      const refused = new KbsClient({ url: net.kbsUrl, ca: net.ca, evidence: fakeEvidence(fakeClaims(M)) });
      await expect(refused.attest()).rejects.toMatchObject({
        details: { status: 503, serverCode: "AUDIT_UNAVAILABLE" },
      });
      expect(refused.currentToken).toBeUndefined();
      refused.close();
    } finally {
      await net.close();
      await broker.close().catch(() => undefined);
    }
  });

  it("kill -9 as soon as the first of eight concurrent grants arrives: every token a client received has its grant line in the file", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const M = measurementOf("inference-crash-audit");
    const dir = tempDir("kb-crash-audit-");
    const release = releaseKey();
    writeFileSync(
      join(dir, "r1.jws"),
      await signedManifest(
        goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
        release.privateKey,
      ),
    );
    writeFileSync(join(dir, "release.pub.pem"), release.publicPem);
    const f = brokerFixture(
      {
        attestation: { policy: { allowedRoots: ["simulated"] }, simulatedSnpDir: join(SIMULATED_SNP_ROOT, "genoa") },
        manifests: { signerPublicKeyFile: join(dir, "release.pub.pem"), files: [join(dir, "r1.jws")] },
      },
      dir,
    );
    const p = startBrokerProcess(f);
    const urls = await p.ready;
    const ca = readFileSync(urls.ca, "utf8");
    const received: string[] = [];
    const clients = Array.from(
      { length: 8 },
      () => new KbsClient({ url: urls.kbs, ca, evidence: simulatedSnpEvidence(sim, { measurement: M }) }),
    );
    await Promise.allSettled(
      clients.map(async (c) => {
        const { claims } = await c.attest();
        received.push(claims.jti as string);
        if (received.length === 1) p.child.kill("SIGKILL");
      }),
    );
    for (const c of clients) c.close();
    expect(await p.exited).toBeNull();
    const granted = new Set(
      parseAuditLog(readFileSync(join(f.config.stateDir, "audit.log"), "utf8"))
        .filter((l) => l.event === "kbs.attest" && l.decision === "granted")
        .map((l) => l.tokenId),
    );
    expect(received.length).toBeGreaterThan(0);
    expect(received.filter((jti) => !granted.has(jti))).toEqual([]);
  });
});
