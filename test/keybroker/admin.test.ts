/** The admin listener: mTLS with the operator CA only, every operation with exact codes, listings without secrets. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import {
  adminRequest,
  brokerFixture,
  fakeClaims,
  fakeEvidence,
  FakeVerifier,
  goldenManifest,
  listen,
  measurementOf,
  operatorPki,
  releaseKey,
  signedManifest,
  startBroker,
  type BrokerFixture,
} from "../helpers/keybroker.js";

const M = measurementOf("inference-admin");

describe("admin API", () => {
  let f: BrokerFixture;
  let broker: KeyBroker;
  let net: Awaited<ReturnType<typeof listen>>;
  const admin = (method: "GET" | "POST", path: string, body?: unknown, type?: string) =>
    adminRequest(net.adminUrl, net.ca, f.operator, method, path, body, type);
  beforeAll(async () => {
    f = brokerFixture();
    broker = await startBroker(f, new FakeVerifier());
    net = await listen(broker, f);
  });
  afterAll(async () => {
    await net.close();
    await broker.close();
  });

  it("refuses clients without a certificate or with one from another CA (TLS handshake)", async () => {
    await expect(adminRequest(net.adminUrl, net.ca, undefined, "GET", "/admin/v1/keys")).rejects.toThrow();
    await expect(adminRequest(net.adminUrl, net.ca, operatorPki("mallory"), "GET", "/admin/v1/keys")).rejects.toThrow();
  });

  it("imports manifests: signed by the pinned key only, tampered or foreign ones refused", async () => {
    const m = goldenManifest({ release: "r1", status: "pending", shapes: { "inference-a": M } });
    const jws = await signedManifest(m, f.release.privateKey);
    const [h, p, s] = jws.split(".") as [string, string, string];
    const tampered = `${h}.${Buffer.from(Buffer.from(p, "base64url").toString().replace('"r1"', '"r9"')).toString("base64url")}.${s}`;
    expect(await admin("POST", "/admin/v1/manifests", { jws: tampered })).toMatchObject({
      status: 422,
      body: { code: "MANIFEST_SIGNATURE_INVALID" },
    });
    expect(
      await admin("POST", "/admin/v1/manifests", { jws: await signedManifest(m, releaseKey().privateKey) }),
    ).toMatchObject({ status: 422, body: { code: "MANIFEST_SIGNATURE_INVALID" } });
    expect(await admin("POST", "/admin/v1/manifests", {})).toMatchObject({
      status: 400,
      body: { code: "BODY_INVALID" },
    });
    const ok = await admin("POST", "/admin/v1/manifests", { jws });
    expect(ok).toMatchObject({
      status: 201,
      body: { added: true, manifest: { release: "r1", status: "pending", verified: true } },
    });
    expect(ok.body.epoch).toBeUndefined();
    expect(await admin("POST", "/admin/v1/manifests", { jws })).toMatchObject({ status: 200, body: { added: false } });
    const id = ok.body.manifest.id as string;
    expect(await admin("POST", "/admin/v1/manifests/0000/activate")).toMatchObject({
      status: 404,
      body: { code: "MANIFEST_UNKNOWN" },
    });
    expect(await admin("POST", `/admin/v1/manifests/${id}/promote`)).toMatchObject({
      status: 404,
      body: { code: "ROUTE_NOT_FOUND" },
    });
    expect(await admin("POST", `/admin/v1/manifests/${id}/activate`)).toMatchObject({
      status: 200,
      body: { epoch: 2, manifest: { status: "active" } },
    });
    expect(await admin("POST", `/admin/v1/manifests/${id}/activate`)).toMatchObject({
      status: 200,
      body: { manifest: { status: "active" } },
    });
    const retiredSigned = await signedManifest(
      goldenManifest({ release: "r0", status: "retired", shapes: { "inference-a": measurementOf("old") } }),
      f.release.privateKey,
    );
    const r0 = await admin("POST", "/admin/v1/manifests", { jws: retiredSigned });
    expect(await admin("POST", `/admin/v1/manifests/${r0.body.manifest.id}/activate`)).toMatchObject({
      status: 409,
      body: { code: "MANIFEST_STATE_CONFLICT" },
    });
    const list = await admin("GET", "/admin/v1/manifests");
    expect(list.body.manifests.map((x: { release: string; status: string }) => [x.release, x.status])).toEqual([
      ["r1", "active"],
      ["r0", "retired"],
    ]);
    expect(JSON.stringify(list.body)).not.toContain(jws);
  });

  it("imports data keys (wrapped at once), rotates the KEK and keeps releasing them; listings carry labels and public parts only", async () => {
    const key = Buffer.alloc(32, 0x42);
    expect(
      await admin("POST", "/admin/v1/data-keys/default/model/m", Buffer.alloc(20), "application/octet-stream"),
    ).toMatchObject({ status: 422, body: { code: "DATA_KEY_INVALID" } });
    expect(await admin("POST", "/admin/v1/data-keys/default/model/m", { key: "x" })).toMatchObject({
      status: 415,
      body: { code: "MEDIA_TYPE_UNSUPPORTED" },
    });
    expect(
      await admin("POST", "/admin/v1/data-keys/default/model/m", Buffer.from(key), "application/octet-stream"),
    ).toMatchObject({ status: 200, body: { resource: "default/model/m", version: 1, kek: 1 } });
    expect(await admin("POST", "/admin/v1/rotate", { target: "nonsense" })).toMatchObject({
      status: 400,
      body: { code: "BODY_INVALID" },
    });
    expect(await admin("POST", "/admin/v1/rotate", { target: "kek" })).toMatchObject({
      status: 200,
      body: { target: "kek", version: 2 },
    });
    expect(await admin("POST", "/admin/v1/rotate", { target: "signing" })).toMatchObject({
      status: 200,
      body: { target: "signing", version: 2 },
    });
    expect(await admin("POST", "/admin/v1/rotate", { target: "epoch" })).toMatchObject({
      status: 200,
      body: { target: "epoch", epoch: 3 },
    });
    const keys = await admin("GET", "/admin/v1/keys");
    expect(keys.status).toBe(200);
    expect(keys.body.dataKeys).toEqual([
      {
        resource: "default/model/m",
        active: 1,
        versions: [{ version: 1, importedAt: expect.any(String), length: 32, kekVersions: [1, 2] }],
      },
    ]);
    expect(keys.body.roles.kek.versions.map((v: { label: string; status: string }) => [v.label, v.status])).toEqual([
      ["ci-kek-v1", "retired"],
      ["ci-kek-v2", "active"],
    ]);
    expect(Object.keys(keys.body.roles.signing.versions[0]).sort()).toEqual([
      "createdAt",
      "label",
      "publicJwk",
      "retiredAt",
      "status",
      "version",
    ]);
    expect(keys.body.roles.ca.versions[0].certPem).toContain("BEGIN CERTIFICATE");
    const text = JSON.stringify(keys.body);
    for (const banned of ['"d"', '"wrapped"', '"ct"', '"iv"', key.toString("hex"), key.toString("base64")])
      expect(text).not.toContain(banned);
    const c = new KbsClient({ url: net.kbsUrl, ca: net.ca, evidence: fakeEvidence(fakeClaims(M)) });
    expect((await c.getResource("default/model/m")).equals(key)).toBe(true);
    c.close();
  });
});
