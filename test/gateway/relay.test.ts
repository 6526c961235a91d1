/**
 * The gateway as an OHTTP relay over real sockets: the client library -> gateway (HTTP, API key)
 * -> runtime (mTLS, broker CA only) -> the runtime's confidential endpoint. The gateway serves the
 * runtimes' bundles, relays opaque bodies both ways (chunked answers as they stream), applies its
 * authentication, rate limits and routing, and logs metadata only.
 */
import { createHash } from "node:crypto";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { ConfidentialClient, httpGateway, type ClientTrust } from "../../runtime/client/index.js";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { streamingRuntimeClient, type RelayClient } from "../../runtime/gateway/relay-client.js";
import { RuntimeClient } from "../../runtime/gateway/upstream.js";
import { startRuntime, type RunningRuntime } from "../../runtime/inference/runtime.js";
import { decodeKeyConfigs } from "../../runtime/ohttp/index.js";
import { simulatedProvider } from "../../runtime/simulators/index.js";
import { releaseKeyPair, signedDevManifest, trustFor } from "../helpers/confidential.js";
import { A02_MEASUREMENT } from "../helpers/golden.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import { createTestPki, fakeKeyRelease, sealBundled, type TestPki } from "../helpers/runtime.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

const MARKER = `wombat${Date.now().toString(36)}secret`;
let pki: TestPki;
let rt: RunningRuntime;
let rogue: https.Server;
let runtimes: RuntimeClient;
let relay: RelayClient;
let gw: FastifyInstance;
let url: string;
let trust: ClientTrust;
const gwLog = captureLogger("gateway");
const team = generateApiKey("team-a");
const slow = generateApiKey("team-slow");

beforeAll(async () => {
  pki = createTestPki();
  const sim = await sharedSimulatedSnp("Genoa");
  const release = releaseKeyPair();
  const sealed = await sealBundled(["sentiment"]);
  rt = await startRuntime({
    artifacts: sealed.artifacts,
    keyRelease: fakeKeyRelease(pki, sealed.keys),
    signerKey: sealed.signerKey,
    batching: TEST_BATCHING,
    ort: { intraOpThreads: 1 },
    logger: captureLogger("inference").logger,
    gatewayCa: pki.gateway.cert,
    listen: { host: "127.0.0.1", port: 0 },
    ops: { host: "127.0.0.1", port: 0 },
    attestation: {
      evidence: simulatedProvider(sim, { measurement: A02_MEASUREMENT }),
      lifetimeMs: 3_600_000,
      manifest: await signedDevManifest(release.privateKey),
      noncesPerMinute: 60,
      maxReplayEntries: 10_000,
    },
  });
  trust = trustFor(sim, release.publicKey);
  const rogueCert = pki.rogue.issue("runtime");
  rogue = https.createServer({ cert: rogueCert.cert, key: rogueCert.key }, (_req, res) => res.end("{}"));
  await new Promise<void>((r) => rogue.listen(0, "127.0.0.1", r));
  const tls = { brokerCa: pki.broker.cert, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key };
  runtimes = new RuntimeClient(tls, { timeoutMs: 10_000 });
  relay = streamingRuntimeClient(tls, { timeoutMs: 10_000 });
  gw = buildGatewayApp({
    clients: [
      { name: "team-a", rateLimit: { perSecond: 1000, burst: 1000 } },
      { name: "team-slow", rateLimit: { perSecond: 0.001, burst: 1 } },
    ],
    apiKeys: [team.record, slow.record],
    routes: {
      sentiment: [{ url: `https://localhost:${rt.port}` }],
      rogue: [{ url: `https://localhost:${(rogue.address() as AddressInfo).port}` }],
    },
    runtimes,
    relay,
    plaintextApi: false,
    logger: gwLog.logger,
    bodyLimit: 64 * 1024,
  });
  await gw.listen({ host: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${(gw.server.address() as AddressInfo).port}`;
}, 180_000);
afterAll(async () => {
  await gw.close();
  runtimes.close();
  relay.close();
  rogue.close();
  await rt.stop();
});

const request = (data: string[]) => ({
  method: "POST",
  path: "/v2/models/sentiment/infer",
  headers: { "content-type": "application/json" },
  body: Buffer.from(JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [data.length], data }] })),
});
const labels = (b: Uint8Array) =>
  (JSON.parse(Buffer.from(b).toString("utf8")).outputs as any[]).find((o) => o.name === "label").data;
const client = (apiKey = team.apiKey) => new ConfidentialClient({ transport: httpGateway({ url, apiKey }), trust });

describe("gateway as an OHTTP relay", () => {
  it("relays encrypted requests and streamed answers; logs carry metadata only", async () => {
    const c = client();
    const id = createHash("sha256").update(`https://localhost:${rt.port}`).digest("hex").slice(0, 16);
    const r = await c.send("sentiment", request([`great fun ${MARKER}`]));
    const s = await c.stream("sentiment", request([`awful ${MARKER}`, `wonderful ${MARKER}`]));
    const pieces: Uint8Array[] = [];
    for await (const p of s.body) pieces.push(p);
    c.close();
    expect([r.status, labels(r.body), r.runtime.id, s.status, labels(Buffer.concat(pieces))]).toEqual([
      200,
      ["positive"],
      id,
      200,
      ["negative", "positive"],
    ]);
    const relayed = gwLog.lines.map((l) => JSON.parse(l)).filter((l) => l.route === "/v1/ohttp/:model/:runtime");
    expect(relayed.map((l) => [l.client, l.model, l.status, l.code, l.upstream])).toEqual([
      ["team-a", "sentiment", 200, "OK", `localhost:${rt.port}`],
      ["team-a", "sentiment", 200, "OK", `localhost:${rt.port}`],
    ]);
    expect(gwLog.lines.filter((l) => l.includes(MARKER) || l.includes("positive"))).toEqual([]);
  });

  it("serves each runtime's key configurations (application/ohttp-keys), the same key its bundle carries", async () => {
    const [runtime] = await client().runtimes("sentiment");
    const r = await gw.inject({
      url: `/v1/ohttp-keys/sentiment/${runtime!.id}`,
      headers: { authorization: `Bearer ${team.apiKey}` },
    });
    expect([r.statusCode, r.headers["content-type"], decodeKeyConfigs(r.rawPayload)]).toEqual([
      200,
      "application/ohttp-keys",
      [runtime!.keyConfig],
    ]);
  });

  it("does not serve the plaintext API when plaintextApi is false", async () => {
    const r = await gw.inject({
      method: "POST",
      url: "/v2/models/sentiment/infer",
      headers: { authorization: `Bearer ${team.apiKey}`, "content-type": "application/json" },
      payload: request(["hi"]).body,
    });
    expect([r.statusCode, r.json().code]).toEqual([404, "ROUTE_NOT_FOUND"]);
  });

  it("authenticates, rate-limits and routes the relay like the API", async () => {
    const anonymous = await new ConfidentialClient({ transport: httpGateway({ url }), trust })
      .send("sentiment", request(["x"]))
      .catch((e) => e);
    const c = client(slow.apiKey);
    await c.runtimes("sentiment");
    const limited = await c.send("sentiment", request(["x"])).catch((e) => e);
    const unknownRuntime = await gw.inject({
      method: "POST",
      url: "/v1/ohttp/sentiment/0000000000000000",
      headers: { authorization: `Bearer ${team.apiKey}`, "content-type": "message/ohttp-req" },
      payload: Buffer.alloc(64),
    });
    expect([
      [anonymous.code, anonymous.details],
      [limited.code, limited.details],
      [unknownRuntime.statusCode, unknownRuntime.json().code],
    ]).toEqual([
      ["BUNDLE_UNAVAILABLE", { status: 401, upstreamCode: "UNAUTHENTICATED" }],
      ["RELAY_FAILED", { status: 429, upstreamCode: "RATE_LIMITED" }],
      [404, "MODEL_NOT_FOUND"],
    ]);
  });

  it("never reaches an unattested runtime: no bundle listed, the relay refuses the TLS handshake", async () => {
    const auth = { authorization: `Bearer ${team.apiKey}` };
    const list = await gw.inject({ url: "/v1/attestation/rogue", headers: auth });
    const id = createHash("sha256")
      .update(`https://localhost:${(rogue.address() as AddressInfo).port}`)
      .digest("hex")
      .slice(0, 16);
    const post = await gw.inject({
      method: "POST",
      url: `/v1/ohttp/rogue/${id}`,
      headers: { ...auth, "content-type": "message/ohttp-req" },
      payload: Buffer.alloc(64),
    });
    expect([list.statusCode, list.json().code, post.statusCode, post.json().code]).toEqual([
      503,
      "UPSTREAM_UNAVAILABLE",
      502,
      "UPSTREAM_UNTRUSTED",
    ]);
  });

  it("passes the runtime's refusals through (a garbage body: 400 from the runtime) and bounds bodies (413)", async () => {
    const auth = { authorization: `Bearer ${team.apiKey}` };
    const [runtime] = await client().runtimes("sentiment");
    const garbage = await gw.inject({
      method: "POST",
      url: `/v1/ohttp/sentiment/${runtime!.id}`,
      headers: { ...auth, "content-type": "message/ohttp-req" },
      payload: Buffer.alloc(64),
    });
    const big = await gw.inject({
      method: "POST",
      url: `/v1/ohttp/sentiment/${runtime!.id}`,
      headers: { ...auth, "content-type": "message/ohttp-req" },
      payload: Buffer.alloc(65 * 1024),
    });
    expect([garbage.statusCode, garbage.json().code, big.statusCode, big.json().code]).toEqual([
      400,
      "OHTTP_KEY_ID_UNKNOWN",
      413,
      "BODY_TOO_LARGE",
    ]);
  });
});
