import { createHash, X509Certificate } from "node:crypto";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp, type GatewayOptions } from "../../runtime/gateway/app.js";
import { RuntimeClient } from "../../runtime/gateway/upstream.js";
import { startRuntime, type RunningRuntime } from "../../runtime/inference/runtime.js";
import { MetricsRegistry } from "../../runtime/observability/metrics.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import { createTestPki, fakeKeyRelease, httpsJson, sealBundled, type TestPki } from "../helpers/runtime.js";

let pki: TestPki;
let rt: RunningRuntime;
let rogue: https.Server;
let rogueRequests = 0;
let runtimes: RuntimeClient;
const gwLog = captureLogger("gateway");
const teamA = generateApiKey("team-a");
const teamB = generateApiKey("team-b");
const teamC = generateApiKey("team-c");
let clock = 0;

beforeAll(async () => {
  pki = createTestPki();
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
  });
  // An unattested "runtime": valid TLS, but its certificate is not from the broker CA. It accepts anyone.
  const rogueCert = pki.rogue.issue("runtime");
  rogue = https.createServer({ cert: rogueCert.cert, key: rogueCert.key }, (_req, res) => {
    rogueRequests++;
    res.end("{}");
  });
  await new Promise<void>((r) => rogue.listen(0, "127.0.0.1", r));
  runtimes = new RuntimeClient(
    { brokerCa: pki.broker.cert, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key },
    { timeoutMs: 10_000 },
  );
});
afterAll(async () => {
  runtimes.close();
  rogue.close();
  await rt.stop();
});

const runtimeUrl = () => `https://localhost:${rt.port}`;
const rogueUrl = () => `https://localhost:${(rogue.address() as AddressInfo).port}`;

function gateway(over: Partial<GatewayOptions> = {}): FastifyInstance {
  return buildGatewayApp({
    clients: [
      { name: "team-a", rateLimit: { perSecond: 100, burst: 100 } },
      { name: "team-b", rateLimit: { perSecond: 100, burst: 100 }, models: ["encoder"] },
      { name: "team-c", rateLimit: { perSecond: 1, burst: 2 } },
    ],
    apiKeys: [teamA.record, teamB.record, teamC.record],
    routes: { sentiment: [{ url: runtimeUrl() }], rogue: [{ url: rogueUrl() }], encoder: [{ url: runtimeUrl() }] },
    runtimes,
    logger: gwLog.logger,
    now: () => clock,
    bodyLimit: 4096,
    ...over,
  });
}

const classify = {
  inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["a great, wonderful product"] }],
  outputs: [{ name: "label" }],
};
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

describe("gateway -> runtime over mTLS (broker CA only)", () => {
  it("lets an authenticated client classify text through the gateway", async () => {
    const gw = gateway();
    const r = await gw.inject({
      method: "POST",
      url: "/v2/models/sentiment/infer",
      payload: classify,
      headers: bearer(teamA.apiKey),
    });
    expect([r.statusCode, r.json().outputs]).toEqual([
      200,
      [{ name: "label", datatype: "BYTES", shape: [1], data: ["positive"] }],
    ]);
    const meta = await gw.inject({ url: "/v2/models/sentiment", headers: { "x-api-key": teamA.apiKey } });
    expect(meta.json().parameters.model_sha256).toBe(
      "5f18545ee98f109e3c4daafb0040172cdcd13138dc577ab67ba82ae6672530bf",
    );
    expect((await gw.inject({ url: "/v2/models/sentiment/ready", headers: bearer(teamA.apiKey) })).json()).toEqual({
      name: "sentiment",
      ready: true,
    });
  });

  it.each([
    ["no credentials", {}, 401, "UNAUTHENTICATED", "missing or invalid API key or client certificate"],
    [
      "a wrong key",
      bearer(`${teamA.apiKey.slice(0, 17)}${"x".repeat(43)}`),
      401,
      "UNAUTHENTICATED",
      "missing or invalid API key or client certificate",
    ],
    [
      "a model the client may not use",
      bearer(teamB.apiKey),
      403,
      "FORBIDDEN_MODEL",
      "this client may not use this model",
    ],
  ])("refuses %s", async (_case, headers, status, code, error) => {
    const r = await gateway().inject({ method: "POST", url: "/v2/models/sentiment/infer", payload: classify, headers });
    expect([r.statusCode, r.json()]).toEqual([status, { error, code }]);
  });

  it("limits each client's rate (429 + Retry-After) independently", async () => {
    const gw = gateway();
    const send = (key: string) => gw.inject({ url: "/v2/models/sentiment/ready", headers: bearer(key) });
    clock = 0;
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await send(teamC.apiKey)).statusCode);
    const limited = await send(teamC.apiKey);
    expect([...codes, limited.statusCode, limited.headers["retry-after"], limited.json().code]).toEqual([
      200,
      200,
      429,
      429,
      "1",
      "RATE_LIMITED",
    ]);
    expect((await send(teamA.apiKey)).statusCode).toBe(200);
    clock = 1000;
    expect((await send(teamC.apiKey)).statusCode).toBe(200);
  });

  it.each([
    [
      "an oversize body",
      () => ({
        method: "POST" as const,
        url: "/v2/models/sentiment/infer",
        payload: { inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["x".repeat(5000)] }] },
      }),
      413,
      { error: "body: larger than the limit", code: "BODY_TOO_LARGE" },
    ],
    [
      "a non-JSON body",
      () => ({
        method: "POST" as const,
        url: "/v2/models/sentiment/infer",
        payload: "hi",
        headers: { "content-type": "text/plain" },
      }),
      415,
      { error: "content-type: must be application/json or application/octet-stream", code: "UNSUPPORTED_MEDIA_TYPE" },
    ],
    [
      "an unknown model",
      () => ({ url: "/v2/models/nope" }),
      404,
      { error: "no runtime serves this model", code: "MODEL_NOT_FOUND" },
    ],
    ["an unknown route", () => ({ url: "/admin" }), 404, { error: "no such route", code: "ROUTE_NOT_FOUND" }],
    [
      "a bad request (the runtime's own error, passed through)",
      () => ({
        method: "POST" as const,
        url: "/v2/models/sentiment/infer",
        payload: { inputs: [{ name: "text", datatype: "FP32", shape: [1], data: [1] }] },
      }),
      400,
      { error: "inputs[0].datatype: input text takes BYTES", code: "DATATYPE_MISMATCH" },
    ],
    [
      "malformed JSON (checked by the runtime)",
      () => ({
        method: "POST" as const,
        url: "/v2/models/sentiment/infer",
        payload: "{nope",
        headers: { "content-type": "application/json" },
      }),
      400,
      { error: "body: not valid JSON", code: "MALFORMED_JSON" },
    ],
  ])("answers %s with OIP error JSON", async (_case, req, status, body) => {
    const r = await gateway().inject({
      ...req(),
      headers: { ...bearer(teamA.apiKey), ...(req() as { headers?: Record<string, string> }).headers },
    });
    expect([r.statusCode, r.json()]).toEqual([status, body]);
  });

  it("never reaches a runtime whose certificate is not from the broker CA (unattested): 502, zero requests delivered", async () => {
    const registry = new MetricsRegistry();
    const gw = gateway({ registry });
    const r = await gw.inject({
      method: "POST",
      url: "/v2/models/rogue/infer",
      payload: classify,
      headers: bearer(teamA.apiKey),
    });
    expect([r.statusCode, r.json()]).toEqual([
      502,
      { error: "the runtime's certificate is not from the broker CA (not attested)", code: "UPSTREAM_UNTRUSTED" },
    ]);
    expect(rogueRequests).toBe(0);
    expect(await registry.render()).toContain("ci_gateway_upstream_untrusted_total 1\n");
    // With an attested runtime next to it, the gateway skips the untrusted one.
    const failover = gateway({
      registry: new MetricsRegistry(),
      routes: { sentiment: [{ url: rogueUrl() }, { url: runtimeUrl() }] },
    });
    const f = await failover.inject({
      method: "POST",
      url: "/v2/models/sentiment/infer",
      payload: classify,
      headers: bearer(teamA.apiKey),
    });
    expect([f.statusCode, f.json().outputs[0].data, rogueRequests]).toEqual([200, ["positive"], 0]);
  });

  it("cannot use a runtime when its own client certificate is not from the gateway CA (the runtime refuses the handshake)", async () => {
    const impostor = pki.rogue.issue("gateway");
    const client = new RuntimeClient({ brokerCa: pki.broker.cert, ...impostor }, { timeoutMs: 10_000 });
    const r = await gateway({ runtimes: client }).inject({
      url: "/v2/models/sentiment",
      headers: bearer(teamA.apiKey),
    });
    client.close();
    expect([r.statusCode, r.json()]).toEqual([
      503,
      { error: "the runtime is unreachable", code: "UPSTREAM_UNAVAILABLE" },
    ]);
  });

  it("authenticates clients by certificate over client-facing mTLS", async () => {
    const clientCert = pki.gateway.issue("team-a-service");
    const fp = createHash("sha256").update(new X509Certificate(clientCert.cert).raw).digest("hex");
    const serverCert = pki.gateway.issue("gateway");
    const gw = gateway({
      clients: [
        { name: "team-a", rateLimit: { perSecond: 100, burst: 100 }, certificateSha256: [fp] },
        { name: "team-b", rateLimit: { perSecond: 1, burst: 2 } },
        { name: "team-c", rateLimit: { perSecond: 1, burst: 2 } },
      ],
      tls: { cert: serverCert.cert, key: serverCert.key, clientCa: pki.gateway.cert },
    });
    await gw.listen({ host: "127.0.0.1", port: 0 });
    const port = (gw.server.address() as AddressInfo).port;
    try {
      const withCert = await httpsJson({
        port,
        path: "/v2/models/sentiment/infer",
        body: classify,
        ca: pki.gateway.cert,
        ...clientCert,
      });
      const without = await httpsJson({
        port,
        path: "/v2/models/sentiment/infer",
        body: classify,
        ca: pki.gateway.cert,
      });
      expect([withCert.status, withCert.body.outputs[0].data, without.status, without.body.code]).toEqual([
        200,
        ["positive"],
        401,
        "UNAUTHENTICATED",
      ]);
    } finally {
      await gw.close();
    }
  });

  it("logs metadata only: client, model, route, upstream, status, code, sizes, latency", async () => {
    gwLog.lines.length = 0;
    await gateway().inject({
      method: "POST",
      url: "/v2/models/sentiment/infer?debug=1",
      payload: classify,
      headers: { ...bearer(teamA.apiKey), "x-request-id": "trace-7" },
    });
    const [line, ...rest] = gwLog.lines.map((l) => JSON.parse(l));
    expect(rest).toEqual([]);
    const { time: _t, ms, responseBytes, ...fields } = line;
    expect([typeof ms, responseBytes > 50]).toEqual(["number", true]);
    expect(fields).toEqual({
      level: 30,
      service: "gateway",
      reqId: "trace-7",
      client: "team-a",
      method: "POST",
      route: "/v2/models/:model/infer",
      model: "sentiment",
      upstream: `localhost:${rt.port}`,
      status: 200,
      code: "OK",
      requestBytes: 126,
      msg: "request",
    });
    expect(gwLog.lines.join("\n")).not.toContain(teamA.apiKey.slice(17));
  });
});

describe("gateway: binary tensor extension passes through", () => {
  it("forwards a binary body and returns the binary reply with its header length", async () => {
    const text = Buffer.from("1000000067726561742c2066756e206d6f766965", "hex"); // BYTES element "great, fun movie"
    const json = Buffer.from(
      JSON.stringify({
        inputs: [{ name: "text", datatype: "BYTES", shape: [1], parameters: { binary_data_size: text.length } }],
        outputs: [{ name: "label", parameters: { binary_data: true } }],
      }),
    );
    const r = await gateway().inject({
      method: "POST",
      url: "/v2/models/sentiment/infer",
      payload: Buffer.concat([json, text]),
      headers: {
        ...bearer(teamA.apiKey),
        "content-type": "application/octet-stream",
        "inference-header-content-length": String(json.length),
      },
    });
    const n = Number(r.headers["inference-header-content-length"]);
    expect([
      r.statusCode,
      r.headers["content-type"],
      JSON.parse(r.rawPayload.subarray(0, n).toString()).outputs[0].parameters,
      r.rawPayload.subarray(n).toString("hex"),
    ]).toEqual([
      200,
      "application/octet-stream",
      { binary_data_size: 12 },
      "08000000" + Buffer.from("positive").toString("hex"),
    ]);
  });
});
