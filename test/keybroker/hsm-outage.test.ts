/** The HSM removed mid-run then restored: requests fail closed with 503 HSM_UNAVAILABLE and service resumes by itself. */
import { renameSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { adminImportDataKey, adminImportManifest } from "../../runtime/keybroker/admin-service.js";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import { httpsTransport } from "../../runtime/attester/kbs/transport.js";
import {
  auditLines,
  brokerFixture,
  fakeClaims,
  fakeEvidence,
  FakeVerifier,
  goldenManifest,
  listen,
  measurementOf,
  signedManifest,
  startBroker,
  type BrokerFixture,
} from "../helpers/keybroker.js";

const M = measurementOf("inference-outage");

describe("HSM outage", () => {
  let f: BrokerFixture;
  let broker: KeyBroker;
  let net: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    f = brokerFixture();
    broker = await startBroker(f, new FakeVerifier(), { hsmRetryMs: { min: 50, max: 200 } });
    await adminImportManifest(
      broker,
      "operator:test",
      await signedManifest(
        goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
        f.release.privateKey,
      ),
    );
    await adminImportDataKey(broker, "operator:test", "default/model/m", Buffer.alloc(32, 9));
    net = await listen(broker, f);
  });
  afterAll(async () => {
    await net.close();
    await broker.close();
  });

  it("fails closed while the token is gone and recovers automatically when it returns", async () => {
    const tokens = f.config.hsm.softhsm?.tokenDir as string;
    const c = new KbsClient({ url: net.kbsUrl, ca: net.ca, evidence: fakeEvidence(fakeClaims(M)) });
    const { token } = await c.attest();
    expect((await c.getResource("default/model/m")).equals(Buffer.alloc(32, 9))).toBe(true);
    const t = httpsTransport(net.kbsUrl, net.ca);

    renameSync(tokens, `${tokens}.away`);
    const during = await t.send("GET", "/kbs/v0/resource/default/model/m", {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(during).toMatchObject({ status: 503, body: { code: "HSM_UNAVAILABLE" } });
    expect(await t.send("GET", "/healthz")).toMatchObject({ status: 503, body: { code: "HSM_UNAVAILABLE" } });
    await expect(c.attest()).rejects.toMatchObject({ details: { status: 503, serverCode: "HSM_UNAVAILABLE" } });
    // Still down after several reconnect attempts: never a key, never a crash.
    await new Promise((r) => setTimeout(r, 400));
    expect(
      (await t.send("GET", "/kbs/v0/resource/default/model/m", { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(503);

    renameSync(`${tokens}.away`, tokens);
    let health = 0;
    for (let i = 0; i < 100 && health !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      health = (await t.send("GET", "/healthz")).status;
    }
    expect(health).toBe(200);
    expect(
      (await t.send("GET", "/kbs/v0/resource/default/model/m", { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
    await c.attest();
    expect((await c.getResource("default/model/m")).equals(Buffer.alloc(32, 9))).toBe(true);
    t.close();
    c.close();

    const events = auditLines(f).map((l) => `${l.event}:${l.decision}${l.code ? `:${l.code}` : ""}`);
    expect(events).toContain("hsm.lost:info");
    expect(events).toContain("hsm.recovered:info");
    expect(events).toContain("kbs.resource:denied:HSM_UNAVAILABLE");
    expect(events).toContain("kbs.attest:denied:HSM_UNAVAILABLE");
  });
});
