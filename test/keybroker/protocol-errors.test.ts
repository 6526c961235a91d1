/**
 * Bad input on the KBS listener (fastify inject, no sockets): every case answers 4xx with its
 * stable code and the problem body, and is never a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { expectedReportData } from "../../runtime/kbs-protocol/binding.js";
import { PROBLEM_TYPE_PREFIX } from "../../runtime/keybroker/errors.js";
import { buildKbsApp } from "../../runtime/keybroker/http/kbs-app.js";
import { adminImportDataKey, adminImportManifest } from "../../runtime/keybroker/admin-service.js";
import {
  brokerFixture,
  fakeClaims,
  FakeVerifier,
  goldenManifest,
  measurementOf,
  signedManifest,
  startBroker,
  testClock,
  type BrokerFixture,
} from "../helpers/keybroker.js";
import { generateKeyPairSync } from "node:crypto";

const M = measurementOf("inference");

describe("KBS protocol errors", () => {
  let f: BrokerFixture;
  let broker: KeyBroker;
  let app: FastifyInstance;
  const clock = testClock();
  const verifier = new FakeVerifier();

  beforeAll(async () => {
    f = brokerFixture({
      limits: { bodyBytes: 4096, maxSessions: 100, sessionsPerPeer: 1000 },
      ttl: { nonceSeconds: 30, tokenSeconds: 60, sessionKeySeconds: 600, graceSeconds: 0 },
    });
    broker = await startBroker(f, verifier, { now: clock.now });
    app = buildKbsApp(broker);
    await adminImportManifest(
      broker,
      "operator:test",
      await signedManifest(
        goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
        f.release.privateKey,
      ),
    );
    await adminImportDataKey(broker, "operator:test", "default/model/m", Buffer.alloc(32, 1));
  });
  afterAll(async () => {
    await app.close();
    await broker.close();
  });

  const auth = async () => {
    const r = await app.inject({
      method: "POST",
      url: "/kbs/v0/auth",
      payload: { version: "0.4.0", tee: "snp", "extra-params": "" },
    });
    expect(r.statusCode).toBe(200);
    const cookie = /kbs-session-id=([^;]+)/.exec(String(r.headers["set-cookie"]))?.[1] as string;
    return { cookie, nonce: r.json().nonce as string };
  };
  const teeKey = () => {
    const j = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ format: "jwk" });
    return { kty: "EC" as const, crv: "P-384" as const, alg: "ECDH-ES+A256KW", x: j.x as string, y: j.y as string };
  };
  const attestation = (nonce: string, key = teeKey(), claims = fakeClaims(M)) => ({
    "runtime-data": { nonce, "tee-pubkey": key },
    "tee-evidence": {
      primary_evidence: { reportData: expectedReportData(nonce, key).toString("hex"), claims },
      additional_evidence: "",
    },
  });
  const attest = (cookie: string | undefined, payload: unknown) =>
    app.inject({
      method: "POST",
      url: "/kbs/v0/attest",
      payload: payload as object,
      headers: cookie ? { cookie: `kbs-session-id=${cookie}` } : {},
    });
  const expectProblem = (r: { statusCode: number; json: () => any }, status: number, code: string) => {
    expect(r.statusCode).toBe(status);
    expect(r.json()).toMatchObject({ code, type: PROBLEM_TYPE_PREFIX + code });
    expect(typeof r.json().detail).toBe("string");
  };

  it.each([
    [
      "malformed JSON",
      { payload: "{not json", headers: { "content-type": "application/json" } },
      400,
      "BODY_MALFORMED",
    ],
    ["empty JSON body", { payload: "", headers: { "content-type": "application/json" } }, 400, "BODY_MALFORMED"],
    [
      "oversize body",
      {
        payload: JSON.stringify({ version: "0.4.0", tee: "snp", pad: "x".repeat(5000) }),
        headers: { "content-type": "application/json" },
      },
      413,
      "BODY_TOO_LARGE",
    ],
    [
      "wrong media type",
      { payload: "version=0.4.0", headers: { "content-type": "application/x-www-form-urlencoded" } },
      415,
      "MEDIA_TYPE_UNSUPPORTED",
    ],
    [
      "array instead of object",
      { payload: "[]", headers: { "content-type": "application/json" } },
      400,
      "BODY_INVALID",
    ],
    ["missing fields", { payload: "{}", headers: { "content-type": "application/json" } }, 400, "BODY_INVALID"],
    [
      "old protocol version",
      { payload: JSON.stringify({ version: "0.1.0", tee: "snp" }), headers: { "content-type": "application/json" } },
      400,
      "PROTOCOL_VERSION_UNSUPPORTED",
    ],
    [
      "unsupported tee",
      { payload: JSON.stringify({ version: "0.4.0", tee: "tdx" }), headers: { "content-type": "application/json" } },
      400,
      "TEE_UNSUPPORTED",
    ],
  ])("/auth: %s", async (_name, req, status, code) => {
    const r = await app.inject({ method: "POST", url: "/kbs/v0/auth", ...req });
    expectProblem(r, status, code);
  });

  it("answers a route-schema miss with BODY_INVALID naming the field (the shared mapping, runtime/http)", async () => {
    const r = await app.inject({
      method: "POST",
      url: "/kbs/v0/auth",
      payload: "[]",
      headers: { "content-type": "application/json" },
    });
    expect([r.statusCode, r.headers["content-type"], r.json()]).toEqual([
      400,
      "application/json; charset=utf-8",
      {
        type: `${PROBLEM_TYPE_PREFIX}BODY_INVALID`,
        detail: "invalid request: body must be object",
        code: "BODY_INVALID",
        problems: [{ path: "body", message: "must be object" }],
      },
    ]);
  });

  it("lists every schema problem with its field path", async () => {
    const r = await app.inject({ method: "POST", url: "/kbs/v0/auth", payload: { version: 4, tee: false } });
    expectProblem(r, 400, "BODY_INVALID");
    expect(r.json().problems).toEqual([
      { path: "tee", message: "Invalid input: expected string, received boolean" },
      { path: "version", message: "Invalid input: expected string, received number" },
    ]);
  });

  it("/attest without a cookie, with an unknown session, twice with the same nonce, after expiry, with another nonce", async () => {
    expectProblem(await attest(undefined, attestation("x")), 401, "SESSION_MISSING");
    expectProblem(await attest("not-a-session", attestation("x")), 401, "SESSION_UNKNOWN");
    const a = await auth();
    const body = attestation(a.nonce);
    expect((await attest(a.cookie, body)).statusCode).toBe(200);
    expectProblem(await attest(a.cookie, body), 401, "NONCE_REUSED");
    const b = await auth();
    clock.advance(31);
    expectProblem(await attest(b.cookie, attestation(b.nonce)), 401, "NONCE_EXPIRED");
    expectProblem(await attest(b.cookie, attestation(b.nonce)), 401, "NONCE_REUSED");
    const c = await auth();
    expectProblem(await attest(c.cookie, attestation("AAAA")), 400, "NONCE_MISMATCH");
  });

  it.each([
    ["a private key", (k: any) => ({ ...k, d: "x".repeat(64) }), "TEE_KEY_INVALID"],
    ["P-256", (k: any) => ({ ...k, crv: "P-256" }), "TEE_KEY_INVALID"],
    ["a point off the curve", (k: any) => ({ ...k, y: k.x }), "TEE_KEY_INVALID"],
    ["another alg", (k: any) => ({ ...k, alg: "RSA-OAEP" }), "TEE_KEY_INVALID"],
  ])("/attest with %s as tee-pubkey", async (_name, mutate, code) => {
    const a = await auth();
    const key = mutate(teeKey());
    expectProblem(await attest(a.cookie, attestation(a.nonce, key)), 400, code);
  });

  it("/attest with evidence of an unlisted device or unreadable init-data is refused with field paths", async () => {
    const a = await auth();
    const body = attestation(a.nonce) as any;
    body["tee-evidence"].additional_evidence = '{"tdx":{}}';
    body["init-data"] = { format: "json", body: "" };
    const r = await attest(a.cookie, body);
    expectProblem(r, 400, "BODY_INVALID");
    expect(r.json().problems).toEqual([
      {
        path: "tee-evidence.additional_evidence.tdx",
        message: "additional (device) evidence is accepted only for devices attestation.additionalDevices names (none)",
      },
      { path: "init-data.format", message: 'must be "toml" (Trustee\'s only initdata format)' },
    ]);
    const b = await auth();
    const toml = attestation(b.nonce) as any;
    toml["init-data"] = { format: "toml", body: 'version = "0.1.0"\nalgorithm = "md5"\n' };
    const t = await attest(b.cookie, toml);
    expect(t.json().problems).toEqual([
      { path: "init-data.body.algorithm", message: "must be sha256, sha384 or sha512" },
      { path: "init-data.body.data", message: "must be a table of strings" },
    ]);
  });

  it("/resource: no token, garbage token, expired token, unknown resource, forbidden resource", async () => {
    const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: "GET", url, headers });
    expectProblem(await get("/kbs/v0/resource/default/model/m"), 401, "TOKEN_MISSING");
    expectProblem(
      await get("/kbs/v0/resource/default/model/m", { authorization: "Bearer a.b.c" }),
      401,
      "TOKEN_INVALID",
    );
    const a = await auth();
    const token = (await attest(a.cookie, attestation(a.nonce))).json().token as string;
    expect((await get("/kbs/v0/resource/default/model/m", { cookie: `kbs-session-id=${a.cookie}` })).statusCode).toBe(
      200,
    );
    const [h, p, s] = token.split(".") as [string, string, string];
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), release: "r9" })).toString("base64url")}.${s}`;
    expectProblem(
      await get("/kbs/v0/resource/default/model/m", { authorization: `Bearer ${forged}` }),
      401,
      "TOKEN_INVALID",
    );
    // A valid session cookie does not vouch for another (forged) bearer token.
    expectProblem(
      await get("/kbs/v0/resource/default/model/m", {
        authorization: `Bearer ${forged}`,
        cookie: `kbs-session-id=${a.cookie}`,
      }),
      401,
      "TOKEN_INVALID",
    );
    expectProblem(
      await get("/kbs/v0/resource/default/model/unknown", { authorization: `Bearer ${token}` }),
      404,
      "RESOURCE_NOT_FOUND",
    );
    expectProblem(
      await get("/kbs/v0/resource/default/secret/m", { authorization: `Bearer ${token}` }),
      404,
      "RESOURCE_NOT_FOUND",
    );
    await adminImportDataKey(broker, "operator:test", "other/secret/s", Buffer.alloc(16, 2));
    expectProblem(
      await get("/kbs/v0/resource/other/secret/s", { authorization: `Bearer ${token}` }),
      403,
      "RESOURCE_FORBIDDEN",
    );
    clock.advance(61);
    expectProblem(
      await get("/kbs/v0/resource/default/model/m", { authorization: `Bearer ${token}` }),
      401,
      "TOKEN_EXPIRED",
    );
  });

  it("unknown routes and methods answer ROUTE_NOT_FOUND", async () => {
    expectProblem(await app.inject({ method: "GET", url: "/kbs/v0/nothing" }), 404, "ROUTE_NOT_FOUND");
    expectProblem(await app.inject({ method: "DELETE", url: "/kbs/v0/auth" }), 404, "ROUTE_NOT_FOUND");
  });

  it("fails closed with 503 when the verifier cannot decide or too many sessions are open", async () => {
    verifier.unavailable = true;
    const a = await auth();
    expectProblem(await attest(a.cookie, attestation(a.nonce)), 503, "VERIFIER_UNAVAILABLE");
    verifier.unavailable = false;
    clock.advance(61); // every earlier challenge and token expired
    await broker.sessions.sweep();
    const open = await broker.sessions.count();
    expect(open).toBe(0);
    // A full table of unanswered challenges makes room by eviction; one of attested sessions
    // (within the nonce lifetime: never evicted) and attestations in progress answers 503.
    for (let i = open; i < 100; i++) {
      const s = await auth();
      expect((await attest(s.cookie, attestation(s.nonce))).statusCode).toBe(200);
    }
    expectProblem(
      await app.inject({ method: "POST", url: "/kbs/v0/auth", payload: { version: "0.4.0", tee: "snp" } }),
      503,
      "SESSIONS_EXHAUSTED",
    );
    clock.advance(3600);
    expect(
      (await app.inject({ method: "POST", url: "/kbs/v0/auth", payload: { version: "0.4.0", tee: "snp" } })).statusCode,
    ).toBe(200);
  });

  it("/healthz reports the epoch (2: the initial one, then the manifest import changed the active set)", async () => {
    const r = await app.inject({ method: "GET", url: "/healthz" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: "ok", epoch: 2 });
  });

  it("releases nothing when the audit log cannot be written (AUDIT_UNAVAILABLE), last because it closes the log", async () => {
    const a = await auth();
    const token = (await attest(a.cookie, attestation(a.nonce))).json().token as string;
    await broker.audit.close();
    const r = await app.inject({
      method: "GET",
      url: "/kbs/v0/resource/default/model/m",
      headers: { authorization: `Bearer ${token}` },
    });
    expectProblem(r, 503, "AUDIT_UNAVAILABLE");
    expect(r.body).not.toContain("ciphertext");
  });
});
