/**
 * The runtime certificate delivered with the token (our `extra-params` extension of the KBS
 * Request): only when asked, only for the attested key, under the same resource rule as
 * `GET /kbs/v0/resource/runtime/certificate/tls`, audited like that GET; the guest client uses it,
 * checks it, and falls back to the resource when a broker does not send it.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import { httpsTransport, type JsonResponse, type Transport } from "../../runtime/attester/kbs/transport.js";
import { wantsCertificate } from "../../runtime/keybroker/kbs/auth.js";
import {
  adminRequest,
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

const M_INFERENCE = measurementOf("inference-cert");
const M_BATCH = measurementOf("batch-cert");

/** A transport that records every request and lets a test rewrite the /attest answer. */
function recording(inner: Transport, rewrite?: (body: Record<string, unknown>) => Record<string, unknown>) {
  const sent: string[] = [];
  const attestBodies: Record<string, unknown>[] = [];
  const transport: Transport = {
    async send(method, path, o) {
      sent.push(`${method} ${path}`);
      const r = await inner.send(method, path, o);
      if (path !== "/kbs/v0/attest" || r.status !== 200) return r;
      const body = rewrite ? rewrite(r.body as Record<string, unknown>) : (r.body as Record<string, unknown>);
      attestBodies.push(body);
      return { ...r, body } as JsonResponse;
    },
    close: () => inner.close(),
  };
  return { transport, sent, attestBodies };
}

describe("runtime certificate with the token", () => {
  let f: BrokerFixture;
  let broker: KeyBroker;
  let net: Awaited<ReturnType<typeof listen>>;
  const client = (measurement: string, rewrite?: (body: Record<string, unknown>) => Record<string, unknown>) => {
    const r = recording(httpsTransport(net.kbsUrl, net.ca), rewrite);
    return { ...r, c: new KbsClient({ transport: r.transport, evidence: fakeEvidence(fakeClaims(measurement)) }) };
  };

  beforeAll(async () => {
    f = brokerFixture({
      policy: {
        resourceRules: [
          { resource: "runtime/certificate/*", launchShapes: ["inference*"] },
          { resource: "runtime/*/*" },
          { resource: "*/model/*", launchShapes: ["inference*"] },
        ],
      },
    });
    broker = await startBroker(f, new FakeVerifier());
    net = await listen(broker, f);
    const m = goldenManifest({
      release: "r1",
      status: "active",
      shapes: { "inference-a": M_INFERENCE, "batch-b": M_BATCH },
    });
    expect(
      (
        await adminRequest(net.adminUrl, net.ca, f.operator, "POST", "/admin/v1/manifests", {
          jws: await signedManifest(m, f.release.privateKey),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await adminRequest(
          net.adminUrl,
          net.ca,
          f.operator,
          "POST",
          "/admin/v1/data-keys/default/model/m",
          Buffer.alloc(32, 4),
          "application/octet-stream",
        )
      ).status,
    ).toBe(200);
  });
  afterAll(async () => {
    await net.close();
    await broker.close();
  });

  it.each([
    [{ "runtime-certificate": true }, true],
    ['{"runtime-certificate":true}', true],
    ["", false],
    [undefined, false],
    [{ "runtime-certificate": "yes" }, false],
    ['{"runtime-certificate":', false],
    [{}, false],
  ])("reads extra-params %j as a certificate request: %s", (extra, expected) => {
    expect(wantsCertificate(extra)).toBe(expected);
  });

  it("release() gets the certificate with the token: for the attested key, issued by the broker CA, no resource request for it, audited with the token id", async () => {
    const { c, sent, attestBodies } = client(M_INFERENCE);
    const creds = await c.release({ keyIds: ["default/model/m"] });
    c.close();
    expect(sent).toEqual(["POST /kbs/v0/auth", "POST /kbs/v0/attest", "GET /kbs/v0/resource/default/model/m"]);
    expect(Object.keys(attestBodies[0] ?? {})).toEqual(["token", "runtime-certificate"]);
    const cert = new X509Certificate(creds.certificate.certificate);
    expect(cert.checkPrivateKey(createPrivateKey(creds.serverKey))).toBe(true);
    expect(cert.verify(new X509Certificate(broker.keyring.active("ca").certPem as string).publicKey)).toBe(true);
    expect(cert.serialNumber.toLowerCase()).toBe(creds.certificate.serial);
    expect(creds.serverCertificate).toBe(creds.certificate.chain);
    const tokenId = (
      JSON.parse(Buffer.from((c.currentToken as string).split(".")[1] as string, "base64url").toString()) as {
        jti: string;
      }
    ).jti;
    const lines = auditLines(f).filter((l) => l.tokenId === tokenId);
    expect(lines.map((l) => [l.event, l.decision, l.resource ?? null])).toEqual([
      ["kbs.attest", "granted", null],
      ["kbs.resource", "granted", "runtime/certificate/tls"],
      ["kbs.resource", "granted", "default/model/m"],
    ]);
    expect(lines[1]).toMatchObject({
      detail: `certificate serial ${creds.certificate.serial}`,
      release: "r1",
      epoch: broker.epoch(),
    });
  });

  it("a Request without the extension (Trustee's attestation agent) gets the token alone", async () => {
    const { c, attestBodies } = client(M_INFERENCE);
    await c.attest();
    c.close();
    expect(Object.keys(attestBodies[0] ?? {})).toEqual(["token"]);
  });

  it("no certificate where the resource rule forbids it: the token alone, the refusal audited, and the resource answers 403 too", async () => {
    const { c, sent, attestBodies } = client(M_BATCH);
    await expect(c.release({ keyIds: [] })).rejects.toMatchObject({
      details: { status: 403, serverCode: "RESOURCE_FORBIDDEN" },
    });
    c.close();
    expect(Object.keys(attestBodies[0] ?? {})).toEqual(["token"]);
    expect(sent.at(-1)).toBe("GET /kbs/v0/resource/runtime/certificate/tls");
    const denials = auditLines(f).filter((l) => l.resource === "runtime/certificate/tls" && l.decision === "denied");
    expect(denials.slice(-2).map((l) => [l.code, l.detail ?? null])).toEqual([
      ["RESOURCE_FORBIDDEN", "launch shape batch-b may not read runtime/certificate/tls"],
      ["RESOURCE_FORBIDDEN", null],
    ]);
  });

  it("falls back to GET runtime/certificate/tls when the broker does not send the certificate", async () => {
    const { c, sent } = client(M_INFERENCE, ({ token }) => ({ token }));
    const creds = await c.release({ keyIds: [] });
    c.close();
    expect(sent).toEqual(["POST /kbs/v0/auth", "POST /kbs/v0/attest", "GET /kbs/v0/resource/runtime/certificate/tls"]);
    expect(new X509Certificate(creds.certificate.certificate).checkPrivateKey(createPrivateKey(creds.serverKey))).toBe(
      true,
    );
  });

  it("refuses a certificate for another key than the attested one", async () => {
    const other = client(M_INFERENCE);
    const foreign = (await other.c.release({ keyIds: [] })).certificate;
    other.c.close();
    const { c } = client(M_INFERENCE, ({ token }) => ({ token, "runtime-certificate": foreign }));
    await expect(c.attest({ certificate: true })).rejects.toMatchObject({
      code: "CLIENT_PROTOCOL_ERROR",
      message: "KBS attest: runtime-certificate certifies another key than the attested one",
    });
    c.close();
    const garbled = client(M_INFERENCE, ({ token }) => ({
      token,
      "runtime-certificate": {
        ...foreign,
        certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      },
    }));
    await expect(garbled.c.attest({ certificate: true })).rejects.toMatchObject({
      code: "CLIENT_PROTOCOL_ERROR",
      message: "KBS attest: runtime-certificate.certificate is not a certificate",
    });
    garbled.c.close();
  });
});
