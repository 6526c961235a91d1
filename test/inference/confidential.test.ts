/**
 * The runtime's confidential endpoint over inject, driven by the real client library: bundles bound
 * to keys made inside the runtime, OIP requests opened and dispatched into the same app, streamed
 * (chunked) answers, replay refusal, key problems, nonce bundles, and key rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { ConfidentialClient, type ClientTrust } from "../../runtime/client/index.js";
import { KeyRing, ReplayCache, OHTTP_KEY_PROBLEM } from "../../runtime/inference/confidential/index.js";
import { buildApp } from "../../runtime/inference/server/app.js";
import type { ModelEntry } from "../../runtime/inference/server/routes.js";
import { decodeKeyConfigs, encodeKeyConfig } from "../../runtime/ohttp/index.js";
import { simulatedProvider, type SimulatedSnp } from "../../runtime/simulators/index.js";
import { releaseKeyPair, signedDevManifest, trustFor } from "../helpers/confidential.js";
import { A02_MEASUREMENT } from "../helpers/golden.js";
import { captureLogger, servedBundled } from "../helpers/inference.js";
import { injectGateway, RUNTIME_ID } from "../helpers/inject-gateway.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

const MARKER = `okapi${Date.now().toString(36)}marker`;
const models = new Map<string, ModelEntry>();
const { logger, lines } = captureLogger("inference");
let sim: SimulatedSnp;
let ring: KeyRing;
let app: FastifyInstance;
let trust: ClientTrust;

beforeAll(async () => {
  sim = await sharedSimulatedSnp("Genoa");
  models.set("sentiment", await servedBundled("sentiment"));
  const release = releaseKeyPair();
  ring = await KeyRing.start({
    evidence: simulatedProvider(sim, { measurement: A02_MEASUREMENT }),
    lifetimeMs: 3_600_000,
    manifest: await signedDevManifest(release.privateKey),
    logger,
  });
  trust = trustFor(sim, release.publicKey);
  app = buildApp({
    models,
    isReady: () => true,
    logger,
    server: { name: "ci-inference", version: "test" },
    bodyLimit: 256 * 1024,
    confidential: { ring, replay: new ReplayCache(1000), noncesPerMinute: 2 },
  });
  await app.ready();
}, 120_000);
afterAll(async () => {
  ring.stop();
  await app.close();
});

const texts = (data: string[]) =>
  Buffer.from(JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [data.length], data }] }));
const inferRequest = (data: string[]) => ({
  method: "POST",
  path: "/v2/models/sentiment/infer",
  headers: { "content-type": "application/json" },
  body: texts(data),
});
const labels = (body: Uint8Array) =>
  (JSON.parse(Buffer.from(body).toString("utf8")).outputs as any[]).find((o) => o.name === "label").data;

describe("confidential endpoint (runtime) with the client library", () => {
  it("answers an encrypted OIP request; the relay sees neither the prompt nor the answer", async () => {
    const gw = injectGateway(app, "sentiment");
    const client = new ConfidentialClient({ transport: gw, trust });
    const r = await client.send("sentiment", inferRequest([`a wonderful, great product ${MARKER}`]));
    expect([r.status, labels(r.body), r.runtime.id, r.runtime.release]).toEqual([
      200,
      ["positive"],
      RUNTIME_ID,
      "2026.11.0-dev",
    ]);
    const answerText = Buffer.from(r.body).toString("utf8");
    const logits = JSON.stringify((JSON.parse(answerText).outputs as any[]).find((o) => o.name === "logits").data);
    expect(gw.seen.filter((b) => b.includes(MARKER) || b.includes(logits) || b.includes("positive"))).toEqual([]);
    expect(lines.filter((l) => l.includes(MARKER))).toEqual([]);
  });

  it("streams a large answer as chunked OHTTP: the same JSON, in several pieces", async () => {
    const gw = injectGateway(app, "sentiment");
    const client = new ConfidentialClient({ transport: gw, trust });
    const many = Array.from({ length: 8 }, (_, i) => `${i % 2 ? "awful, boring" : "great fun"} ${MARKER}`);
    const whole = await client.send("sentiment", inferRequest(many));
    const streamed = await client.stream("sentiment", inferRequest(many));
    const pieces: Uint8Array[] = [];
    for await (const p of streamed.body) pieces.push(p);
    const a = JSON.parse(Buffer.concat(pieces).toString("utf8"));
    expect([streamed.status, a.outputs.find((o: any) => o.name === "label").data]).toEqual([200, labels(whole.body)]);
    expect(gw.seen.filter((b) => b.includes(MARKER))).toEqual([]);
  });

  it("refuses a replayed request before it reaches the API (400 OHTTP_REPLAYED)", async () => {
    const gw = injectGateway(app, "sentiment");
    const client = new ConfidentialClient({ transport: gw, trust });
    const before = lines.filter((l) => l.includes('"route":"/v2/models/:model/infer"')).length;
    await client.send("sentiment", inferRequest(["hello"]));
    const captured = gw.seen[gw.seen.length - 2]!;
    const replay = await app.inject({
      method: "POST",
      url: "/ohttp",
      headers: { "content-type": "message/ohttp-req" },
      payload: captured,
    });
    expect([replay.statusCode, replay.headers["content-type"], replay.json().code]).toEqual([
      400,
      "application/problem+json; charset=utf-8",
      "OHTTP_REPLAYED",
    ]);
    expect(lines.filter((l) => l.includes('"route":"/v2/models/:model/infer"')).length - before).toBe(1);
  });

  it("answers key and decryption problems in clear, with the ohttp-key problem type where RFC 9458 says", async () => {
    const gw = injectGateway(app, "sentiment");
    const client = new ConfidentialClient({ transport: gw, trust });
    await client.send("sentiment", inferRequest(["hello"]));
    const captured = Buffer.from(gw.seen[gw.seen.length - 2]!);
    const post = (payload: Buffer) =>
      app.inject({ method: "POST", url: "/ohttp", headers: { "content-type": "message/ohttp-req" }, payload });
    const tampered = Buffer.from(captured);
    tampered[tampered.length - 1]! ^= 1;
    const unknown = Buffer.from(captured);
    unknown[0] = 200;
    const [t, u] = [await post(tampered), await post(unknown)];
    // Authentication comes first: a tampered copy of a seen request fails to open (it is not a replay).
    expect([t.statusCode, t.json().code, u.statusCode, u.json()]).toEqual([
      400,
      "OHTTP_DECRYPT_FAILED",
      400,
      { type: OHTTP_KEY_PROBLEM, title: "request.key_id: no key with id 200", code: "OHTTP_KEY_ID_UNKNOWN" },
    ]);
  });

  it("does not dispatch to its own confidential endpoint (an encapsulated 404)", async () => {
    const client = new ConfidentialClient({ transport: injectGateway(app, "sentiment"), trust });
    const r = await client.send("sentiment", { method: "GET", path: "/attestation" });
    expect([r.status, JSON.parse(Buffer.from(r.body).toString())]).toEqual([
      404,
      { error: "no such route", code: "ROUTE_NOT_FOUND" },
    ]);
  });

  it("serves its key configurations and nonce-bound bundles (rate-limited, checked)", async () => {
    const keys = await app.inject("/ohttp-keys");
    expect([
      keys.headers["content-type"],
      decodeKeyConfigs(keys.rawPayload).map((c) => Buffer.from(encodeKeyConfig(c)).toString("hex")),
    ]).toEqual(["application/ohttp-keys", [Buffer.from(encodeKeyConfig(ring.keys()[0]!.config)).toString("hex")]]);
    const bad = await app.inject("/attestation?nonce=abc");
    expect([bad.statusCode, bad.json().code]).toEqual([400, "NONCE_INVALID"]);
    const client = new ConfidentialClient({ transport: injectGateway(app, "sentiment"), trust, freshNonce: true });
    const r = await client.send("sentiment", inferRequest(["great"]));
    expect([r.status, labels(r.body)]).toEqual([200, ["positive"]]);
    await app.inject(`/attestation?nonce=${"11".repeat(16)}`);
    const limited = await app.inject(`/attestation?nonce=${"22".repeat(16)}`);
    expect([limited.statusCode, limited.json().code]).toEqual([429, "NONCE_RATE_LIMITED"]);
  });
});

describe("a runtime restarted with a new key", () => {
  it("the client finds its verdict stale (the runtime cannot open the request), verifies again and retries once", async () => {
    const release = releaseKeyPair();
    const manifest = await signedDevManifest(release.privateKey);
    const make = async (firstKeyId: number) => {
      const r = await KeyRing.start({
        evidence: simulatedProvider(sim, { measurement: A02_MEASUREMENT }),
        lifetimeMs: 3_600_000,
        manifest,
        logger,
        firstKeyId,
      });
      const a = buildApp({
        models,
        isReady: () => true,
        logger,
        server: { name: "ci-inference", version: "test" },
        confidential: { ring: r, replay: new ReplayCache(1000), noncesPerMinute: 2 },
      });
      await a.ready();
      return { r, a };
    };
    const first = await make(7);
    const gw = injectGateway(first.a, "sentiment");
    const client = new ConfidentialClient({ transport: gw, trust: trustFor(sim, release.publicKey) });
    await client.send("sentiment", inferRequest(["great"]));
    const outcomes: unknown[] = [];
    for (const keyId of [7, 8]) {
      const next = await make(keyId);
      gw.app = next.a;
      const posts = gw.seen.length;
      const r = await client.send("sentiment", inferRequest(["great"]));
      // One refused attempt to the stale key, one bundle list, then the retry and its answer.
      outcomes.push([r.status, labels(r.body), gw.seen.length - posts]);
      next.r.stop();
      await next.a.close();
    }
    expect(outcomes).toEqual([
      [200, ["positive"], 5],
      [200, ["positive"], 5],
    ]);
    first.r.stop();
    await first.a.close();
  });
});

describe("KeyRing", () => {
  it("refreshes at 2/3 of the lifetime with a new key; the previous one opens requests until its notAfter", async () => {
    let now = Date.parse("2026-12-01T10:00:30Z");
    const timers: Array<{ fn: () => void; ms: number }> = [];
    const r = await KeyRing.start({
      evidence: simulatedProvider(sim, { measurement: A02_MEASUREMENT }),
      lifetimeMs: 600_000,
      logger,
      firstKeyId: 255,
      now: () => now,
      timers: { setTimeout: (fn, ms) => timers.push({ fn, ms }), clearTimeout: () => undefined },
    });
    const first = r.bundle();
    expect([first.notBefore, first.notAfter, timers.map((t) => t.ms), r.keys().map((k) => k.config.keyId)]).toEqual([
      "2026-12-01T09:59:30Z",
      "2026-12-01T10:09:30Z",
      [400_000 - 60_000],
      [255],
    ]);
    now += 340_000;
    timers.shift()!.fn();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = r.bundle();
    expect([second.notBefore, r.keys().map((k) => k.config.keyId), r.expiryOf(255), timers.length]).toEqual([
      "2026-12-01T10:05:10Z",
      [255, 0],
      Date.parse("2026-12-01T10:09:30Z"),
      1,
    ]);
    now = Date.parse("2026-12-01T10:09:30Z");
    expect(r.keys().map((k) => k.config.keyId)).toEqual([0]);
    r.stop();
  });
});
