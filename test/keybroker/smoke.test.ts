import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KbsClient } from "../../runtime/keybroker/client/kbs-client.js";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { adminRequest, brokerFixture, fakeClaims, fakeEvidence, FakeVerifier, goldenManifest, listen, measurementOf, signedManifest, startBroker, type BrokerFixture } from "../helpers/keybroker.js";

describe("smoke", () => {
  let f: BrokerFixture;
  let broker: KeyBroker;
  let net: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    f = brokerFixture();
    broker = await startBroker(f, new FakeVerifier());
    net = await listen(broker, f);
  });
  afterAll(async () => {
    await net.close();
    await broker.close();
  });

  it("handshake", async () => {
    const m = measurementOf("inference-v1");
    const jws = await signedManifest(goldenManifest({ release: "r1", status: "active", shapes: { "inference-small": m } }), f.release.privateKey);
    const imp = await adminRequest(net.adminUrl, net.ca, f.operator, "POST", "/admin/v1/manifests", { jws });
    expect(imp.status).toBe(201);
    const key = Buffer.alloc(32, 7);
    const dk = await adminRequest(net.adminUrl, net.ca, f.operator, "POST", "/admin/v1/data-keys/default/model/sentiment", key, "application/octet-stream");
    expect(dk.status).toBe(200);
    const client = new KbsClient({ url: net.kbsUrl, ca: net.ca, evidence: fakeEvidence(fakeClaims(m)) });
    const creds = await client.release({ keyIds: ["default/model/sentiment"], sessionKey: true });
    expect(Buffer.from(creds.modelKeys.get("default/model/sentiment") as Uint8Array)).toEqual(Buffer.alloc(32, 7));
    expect(creds.serverCertificate).toContain("BEGIN CERTIFICATE");
    client.close();
  });
});
