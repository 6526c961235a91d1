/**
 * One-pass broker bootstrap, the gateway's side: it starts trusting no runtime, applies the CA bundle
 * the broker publishes once it verifies with the pinned publication key, rotates to a new bundle live
 * (same process, same app, new connections trust only the new CA), and refuses unsigned, foreign,
 * malformed, non-CA and rolled-back bundles while keeping its current trust.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { signCaBundle } from "../../runtime/kbs-protocol/ca-bundle.js";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { BrokerCaWatcher } from "../../runtime/gateway/broker-ca.js";
import { RuntimeClient } from "../../runtime/gateway/upstream.js";
import { MetricsRegistry } from "../../runtime/observability/metrics.js";
import { captureLogger } from "../helpers/inference.js";
import { createTestCa, type TestCa } from "../helpers/pki.js";

const work = mkdtempSync(join(tmpdir(), "ci-broker-ca-"));
const file = join(work, "bundle.jws");
const publisher = generateKeyPairSync("ec", { namedCurve: "P-384" });
const intruder = generateKeyPairSync("ec", { namedCurve: "P-384" });
const key = generateApiKey("team-a");
const log = captureLogger("gateway");
const registry = new MetricsRegistry();
let v1: TestCa;
let v2: TestCa;
const servers: https.Server[] = [];
let runtimes: RuntimeClient;
let watcher: BrokerCaWatcher;
let gw: FastifyInstance;

/** A "runtime" whose certificate is issued by `ca`. */
async function runtimeOf(ca: TestCa, name: string): Promise<string> {
  const leaf = ca.issue(name);
  const s = https.createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ name }));
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  servers.push(s);
  return `https://localhost:${(s.address() as AddressInfo).port}`;
}

const publish = (issuedAt: string, certificates: string, signer = publisher.privateKey) =>
  writeFileSync(file, signCaBundle({ issuedAt, certificates }, signer));

async function ask(model: string): Promise<[number, string]> {
  const r = await gw.inject({ url: `/v2/models/${model}`, headers: { authorization: `Bearer ${key.apiKey}` } });
  return [
    r.statusCode,
    r.statusCode === 200 ? (r.json() as { name: string }).name : (r.json() as { code: string }).code,
  ];
}

beforeAll(async () => {
  v1 = createTestCa("broker CA v1");
  v2 = createTestCa("broker CA v2");
  const gatewayClient = createTestCa("gateway CA").issue("gateway");
  runtimes = new RuntimeClient({ brokerCa: "", ...gatewayClient }, { timeoutMs: 5000 });
  gw = buildGatewayApp({
    clients: [{ name: "team-a", rateLimit: { perSecond: 1000, burst: 1000 } }],
    apiKeys: [key.record],
    routes: {
      old: [{ url: await runtimeOf(v1, "runtime-v1") }],
      new: [{ url: await runtimeOf(v2, "runtime-v2") }],
    },
    runtimes,
    logger: log.logger,
  });
  watcher = new BrokerCaWatcher({
    file,
    publisherKey: publisher.publicKey,
    intervalMs: 50,
    apply: (pem) => runtimes.setTrust(pem),
    logger: log.logger,
    registry,
  });
});
afterAll(() => {
  watcher.stop();
  runtimes.close();
  for (const s of servers) s.close();
  rmSync(work, { recursive: true, force: true });
});

describe("broker CA bundle, published and watched", () => {
  it("trusts no runtime before the broker's first publication", async () => {
    expect(watcher.check()).toBe("absent");
    expect(runtimes.hasTrust).toBe(false);
    expect(await ask("old")).toEqual([502, "UPSTREAM_UNTRUSTED"]);
  });

  it("applies the first bundle the broker publishes", async () => {
    publish("2026-12-01T10:00:00Z", v1.cert);
    expect(watcher.check()).toBe("applied");
    expect(runtimes.hasTrust).toBe(true);
    expect(await ask("old")).toEqual([200, "runtime-v1"]);
    expect(await ask("new")).toEqual([502, "UPSTREAM_UNTRUSTED"]);
    expect(watcher.check()).toBe("unchanged");
  });

  it("rotates to a new bundle live, by itself (the watcher's timer), without a restart", async () => {
    watcher.start();
    publish("2026-12-01T11:00:00Z", v2.cert);
    for (let i = 0; i < 100 && watcher.current?.issuedAt !== "2026-12-01T11:00:00Z"; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(watcher.current?.issuedAt).toBe("2026-12-01T11:00:00Z");
    expect(await ask("new")).toEqual([200, "runtime-v2"]);
    expect(await ask("old")).toEqual([502, "UPSTREAM_UNTRUSTED"]);
    watcher.stop();
  });

  it.each([
    ["an unsigned bundle", () => unsigned(v1.cert), "signature"],
    [
      "a bundle signed with another key",
      () => signCaBundle({ issuedAt: "2026-12-02T00:00:00Z", certificates: v1.cert }, intruder.privateKey),
      "signature",
    ],
    [
      "a rolled-back bundle (older than the one in use)",
      () => signCaBundle({ issuedAt: "2026-12-01T10:30:00Z", certificates: v1.cert }, publisher.privateKey),
      "rollback",
    ],
    [
      "a bundle of a leaf certificate",
      () =>
        signCaBundle(
          { issuedAt: "2026-12-02T00:00:00Z", certificates: v1.issue("runtime").cert },
          publisher.privateKey,
        ),
      "not-ca",
    ],
    ["garbage", () => "not a jws", "malformed"],
  ])("refuses %s and keeps the current trust", async (_case, content, reason) => {
    writeFileSync(file, content());
    const before = log.lines.length;
    expect(watcher.check()).toBe("rejected");
    expect(watcher.current?.issuedAt).toBe("2026-12-01T11:00:00Z");
    expect(await ask("new")).toEqual([200, "runtime-v2"]);
    expect(await ask("old")).toEqual([502, "UPSTREAM_UNTRUSTED"]);
    const warning = JSON.parse(log.lines.slice(before).find((l) => l.includes("broker-ca.rejected")) ?? "{}");
    expect([warning.code, warning.reason]).toEqual(["BROKER_CA_REJECTED", reason]);
  });

  it("counts applied and refused bundles by reason", async () => {
    const text = await registry.render();
    for (const line of [
      'ci_gateway_broker_ca_reloads_total{outcome="applied",reason=""} 2',
      'ci_gateway_broker_ca_reloads_total{outcome="rejected",reason="signature"} 2',
      'ci_gateway_broker_ca_reloads_total{outcome="rejected",reason="rollback"} 1',
      'ci_gateway_broker_ca_reloads_total{outcome="rejected",reason="not-ca"} 1',
      'ci_gateway_broker_ca_reloads_total{outcome="rejected",reason="malformed"} 1',
      `ci_gateway_broker_ca_issued_timestamp_seconds ${Date.parse("2026-12-01T11:00:00Z") / 1000}`,
    ])
      expect(text.split("\n")).toContain(line);
  });
});

/** A bundle in the right shape with `alg: none` and no signature. */
function unsigned(certificates: string): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b({ alg: "none", typ: "ci-broker-ca-bundle+jws" })}.${b({ issuedAt: "2026-12-02T00:00:00Z", certificates })}.`;
}
