/**
 * One-pass broker bootstrap, the broker's side: the broker publishes its CA bundle, signed with the
 * publication key, to the gateway's ConfigMap through the Kubernetes API (a fake API server over
 * HTTPS that checks the bearer token and allows get/patch on that one ConfigMap, as the Role does);
 * it republishes after a CA rotation and after a foreign write, and reports API failures with
 * CA_PUBLICATION_FAILED. The gateway's watcher, fed what the kubelet would mount, follows each bundle.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRotate } from "../../runtime/keybroker/admin-service.js";
import { startKeyBrokerService, type KeyBrokerService } from "../../runtime/keybroker/service.js";
import { verifyCaBundle } from "../../runtime/kbs-protocol/ca-bundle.js";
import { BrokerCaWatcher } from "../../runtime/gateway/broker-ca.js";
import { brokerFixture, FakeVerifier, quietLogger } from "../helpers/keybroker.js";
import { captureLogger } from "../helpers/inference.js";
import { createTestCa } from "../helpers/pki.js";

const work = mkdtempSync(join(tmpdir(), "ci-ca-pub-"));
const TOKEN = "sa-token-of-key-broker";
const publication = generateKeyPairSync("ec", { namedCurve: "P-384" });
const data: Record<string, string> = {};
const seen: string[] = [];
let apiDown = false;
let api: https.Server;
let svc: KeyBrokerService;
const log = captureLogger("keybroker");

/** What the kubelet would mount into the gateway pod, then one watcher check. */
function mountAndCheck(watcher: BrokerCaWatcher): string {
  writeFileSync(join(work, "bundle.jws"), data["bundle.jws"] ?? "");
  return watcher.check();
}

beforeAll(async () => {
  const apiCa = createTestCa("cluster CA");
  const apiCert = apiCa.issue("kube-apiserver");
  api = https.createServer({ cert: apiCert.cert, key: apiCert.key }, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const reply = (status: number, o: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(o));
      };
      if (apiDown) return reply(503, { kind: "Status", code: 503 });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { kind: "Status", code: 401 });
      if (req.url !== "/api/v1/namespaces/ci-gateway/configmaps/key-broker-ca") return reply(403, { code: 403 });
      if (req.method === "PATCH") {
        if (req.headers["content-type"] !== "application/merge-patch+json") return reply(415, { code: 415 });
        Object.assign(data, (JSON.parse(body) as { data: Record<string, string> }).data);
      } else if (req.method !== "GET") return reply(403, { code: 403 });
      reply(200, { kind: "ConfigMap", metadata: { name: "key-broker-ca", namespace: "ci-gateway" }, data });
    });
  });
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
  writeFileSync(join(work, "token"), `${TOKEN}\n`);
  writeFileSync(join(work, "api-ca.pem"), apiCa.cert);
  writeFileSync(join(work, "publication.pem"), publication.privateKey.export({ type: "pkcs8", format: "pem" }));
  const f = brokerFixture({
    listen: { host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0 },
    caPublication: {
      namespace: "ci-gateway",
      configMap: "key-broker-ca",
      signingKeyFile: join(work, "publication.pem"),
      intervalSeconds: 3600,
      apiServer: `https://localhost:${(api.address() as AddressInfo).port}`,
      tokenFile: join(work, "token"),
      caFile: join(work, "api-ca.pem"),
    },
  });
  svc = await startKeyBrokerService(f.config, { verifier: new FakeVerifier(), logger: log.logger });
  await svc.publisher?.publishOnce(); // the round start() began
});
afterAll(async () => {
  await svc.close();
  api.close();
  rmSync(work, { recursive: true, force: true });
});

describe("broker CA publication", () => {
  const watcher = () =>
    new BrokerCaWatcher({
      file: join(work, "bundle.jws"),
      publisherKey: publication.publicKey,
      intervalMs: 1000,
      apply: () => undefined,
      logger: quietLogger(),
    });
  let gateway: BrokerCaWatcher;

  it("publishes the CA bundle at start, signed with the publication key, through get + merge patch only", () => {
    const v = verifyCaBundle(data["bundle.jws"] ?? "", publication.publicKey);
    expect(v.ok && v.doc.certificates).toBe(svc.broker.caBundle());
    expect(seen).toEqual([
      "GET /api/v1/namespaces/ci-gateway/configmaps/key-broker-ca",
      "PATCH /api/v1/namespaces/ci-gateway/configmaps/key-broker-ca",
    ]);
    gateway = watcher();
    expect(mountAndCheck(gateway)).toBe("applied");
    expect(gateway.current?.certificates).toBe(svc.broker.caBundle());
  });

  it("leaves a current bundle alone (one read per round)", async () => {
    seen.length = 0;
    expect(await svc.publisher?.publishOnce()).toBe("current");
    expect(seen).toEqual(["GET /api/v1/namespaces/ci-gateway/configmaps/key-broker-ca"]);
  });

  it("republishes after a CA rotation; the gateway follows with both CAs trusted during the grace period", async () => {
    const before = svc.broker.caBundle();
    await adminRotate(svc.broker, "operator:test", "ca");
    expect(svc.broker.caBundle()).not.toBe(before);
    expect(await svc.publisher?.publishOnce()).toBe("published");
    expect(mountAndCheck(gateway)).toBe("applied");
    expect(gateway.current?.certificates).toBe(svc.broker.caBundle());
    expect(gateway.current?.certificates.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it("overwrites a foreign write with the signed bundle", async () => {
    data["bundle.jws"] = "forged";
    expect(mountAndCheck(gateway)).toBe("rejected");
    expect(await svc.publisher?.publishOnce()).toBe("published");
    expect(verifyCaBundle(data["bundle.jws"] ?? "", publication.publicKey).ok).toBe(true);
  });

  it("reports an unreachable API server with CA_PUBLICATION_FAILED, then recovers", async () => {
    apiDown = true;
    data["bundle.jws"] = "lost";
    const before = log.lines.length;
    expect(await svc.publisher?.publishOnce()).toBe("failed");
    const line = JSON.parse(log.lines.slice(before).find((l) => l.includes("ca.publication.failed")) ?? "{}");
    expect([line.code, line.msg]).toEqual([
      "CA_PUBLICATION_FAILED",
      "GET configmap ci-gateway/key-broker-ca: HTTP 503",
    ]);
    apiDown = false;
    expect(await svc.publisher?.publishOnce()).toBe("published");
    const text = await svc.registry.render();
    for (const l of [
      'ci_keybroker_ca_publications_total{outcome="published"} 4',
      'ci_keybroker_ca_publications_total{outcome="current"} 1',
      'ci_keybroker_ca_publications_total{outcome="failed"} 1',
    ])
      expect(text.split("\n")).toContain(l);
  });
});
