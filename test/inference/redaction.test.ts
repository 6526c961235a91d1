import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { RuntimeClient } from "../../runtime/gateway/upstream.js";
import { startRuntime, type RunningRuntime } from "../../runtime/inference/runtime.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import { createTestPki, fakeKeyRelease, httpsJson, sealBundled, type TestPki } from "../helpers/runtime.js";

// A unique marker sent through every channel a client controls (text, names, bodies, credentials, URLs);
// afterwards no log line, no stdout/stderr byte and no file written during the test may contain it.
const MARKER = `MARKER${randomUUID().replace(/-/g, "")}`;
const started = Date.now();
const runtimeLog = captureLogger("inference");
const gatewayLog = captureLogger("gateway");
const printed: string[] = [];
let pki: TestPki;
let rt: RunningRuntime;
let gw: FastifyInstance;
let runtimes: RuntimeClient;
const key = generateApiKey("team-a");
const restore: Array<() => void> = [];

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => (stream.write = original));
  }
  pki = createTestPki();
  const sealed = await sealBundled(["sentiment"]);
  rt = await startRuntime({
    artifacts: sealed.artifacts,
    keyRelease: fakeKeyRelease(pki, sealed.keys),
    signerKey: sealed.signerKey,
    batching: TEST_BATCHING,
    ort: { intraOpThreads: 1 },
    logger: runtimeLog.logger,
    gatewayCa: pki.gateway.cert,
    listen: { host: "127.0.0.1", port: 0 },
    ops: { host: "127.0.0.1", port: 0 },
  });
  runtimes = new RuntimeClient(
    { brokerCa: pki.broker.cert, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key },
    { timeoutMs: 10_000 },
  );
  gw = buildGatewayApp({
    clients: [{ name: "team-a", rateLimit: { perSecond: 1000, burst: 1000 } }],
    apiKeys: [key.record],
    routes: { sentiment: [{ url: `https://localhost:${rt.port}` }] },
    runtimes,
    logger: gatewayLog.logger,
  });
});
afterAll(async () => {
  restore.forEach((r) => r());
  runtimes.close();
  await gw.close();
  await rt.stop();
});

const auth = () => ({ authorization: `Bearer ${key.apiKey}` });
const text = (s: string) => ({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [s] }] });

function filesWrittenSince(dir: string, since: number, depth = 0): string[] {
  if (depth > 6) return [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === "node_modules" || name === ".git") return [];
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (st.isDirectory()) return filesWrittenSince(p, since, depth + 1);
      return st.isFile() && st.mtimeMs >= since && st.size < 50_000_000 ? [p] : [];
    } catch {
      return [];
    }
  });
}

describe("redaction: prompts, outputs and credentials never reach logs or files", () => {
  it("keeps a unique marker out of every log line, stdout/stderr and every file written", async () => {
    const sends: Array<[string, () => Promise<{ statusCode: number }>]> = [
      [
        "prompt",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: text(`great ${MARKER} movie`),
            headers: auth(),
          }),
      ],
      [
        "too many tokens",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: text(`${MARKER} `.repeat(80)),
            headers: auth(),
          }),
      ],
      [
        "malformed JSON",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: `{"inputs": "${MARKER}`,
            headers: { ...auth(), "content-type": "application/json" },
          }),
      ],
      [
        "input name",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: { inputs: [{ name: MARKER, datatype: "BYTES", shape: [1], data: ["x"] }] },
            headers: auth(),
          }),
      ],
      [
        "output name",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: { ...text("x"), outputs: [{ name: MARKER }] },
            headers: auth(),
          }),
      ],
      [
        "wrong element type",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: { inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: [MARKER, 1] }] },
            headers: auth(),
          }),
      ],
      [
        "datatype",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: { inputs: [{ name: "text", datatype: MARKER, shape: [1], data: ["x"] }] },
            headers: auth(),
          }),
      ],
      [
        "request parameters",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: { ...text("x"), parameters: { secret: MARKER } },
            headers: auth(),
          }),
      ],
      [
        "API key",
        () =>
          gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: text("x"),
            headers: { authorization: `Bearer ${MARKER}` },
          }),
      ],
      [
        "x-api-key",
        () =>
          gw.inject({
            method: "GET",
            url: "/v2/models/sentiment",
            headers: { "x-api-key": `cik_000000000000_${MARKER.padEnd(43, "x").slice(0, 43)}` },
          }),
      ],
      ["model name", () => gw.inject({ method: "GET", url: `/v2/models/${MARKER}`, headers: auth() })],
      ["query string", () => gw.inject({ method: "GET", url: `/v2/models/sentiment?q=${MARKER}`, headers: auth() })],
      [
        "cookie",
        () => gw.inject({ method: "GET", url: "/v2/models/sentiment", headers: { ...auth(), cookie: `s=${MARKER}` } }),
      ],
      [
        "binary body",
        () => {
          const blob = Buffer.concat([Buffer.from([MARKER.length, 0, 0, 0]), Buffer.from(MARKER)]);
          const json = Buffer.from(
            JSON.stringify({
              inputs: [{ name: "text", datatype: "BYTES", shape: [1], parameters: { binary_data_size: blob.length } }],
              outputs: [{ name: "label", parameters: { binary_data: true } }],
            }),
          );
          return gw.inject({
            method: "POST",
            url: "/v2/models/sentiment/infer",
            payload: Buffer.concat([json, blob]),
            headers: {
              ...auth(),
              "content-type": "application/octet-stream",
              "inference-header-content-length": String(json.length),
            },
          });
        },
      ],
      [
        "direct to the runtime",
        async () => ({
          statusCode: (
            await httpsJson({
              port: rt.port,
              path: "/v2/models/sentiment/infer",
              body: text(MARKER),
              ca: pki.broker.cert,
              ...pki.gatewayClient,
            })
          ).status,
        }),
      ],
    ];
    const statuses: Array<[string, number]> = [];
    for (const [name, send] of sends) statuses.push([name, (await send()).statusCode]);
    expect(statuses).toEqual([
      ["prompt", 200],
      ["too many tokens", 400],
      ["malformed JSON", 400],
      ["input name", 400],
      ["output name", 400],
      ["wrong element type", 400],
      ["datatype", 400],
      ["request parameters", 200],
      ["API key", 401],
      ["x-api-key", 401],
      ["model name", 404],
      ["query string", 200],
      ["cookie", 200],
      ["binary body", 200],
      ["direct to the runtime", 200],
    ]);
    expect(runtimeLog.lines.length).toBeGreaterThan(10);
    expect(gatewayLog.lines.length).toBe(14);
    const logs = [...runtimeLog.lines, ...gatewayLog.lines, ...printed].join("\n");
    expect(logs.includes(MARKER)).toBe(false);
    const files = [...filesWrittenSince(tmpdir(), started), ...filesWrittenSince(join(__dirname, "../.."), started)];
    const hits = files.filter((f) => {
      try {
        return readFileSync(f).includes(MARKER);
      } catch {
        return false;
      }
    });
    expect(hits).toEqual([]);
  });
});
