/**
 * A streamed chat over Oblivious HTTP stops when its client goes away: client library -> gateway (relay) -> runtime's
 * confidential endpoint -> `/v1/chat/completions`. Closing the client's connection mid-stream closes the relay's
 * upstream request, the confidential endpoint aborts the request inside, and the generation ends at its next step
 * (the runtime logs it as `cancelled`, far short of `max_tokens`).
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request as httpRequest } from "node:http";
import { ConfidentialClient, httpGateway, startProxy, type ClientTrust } from "../../runtime/client/index.js";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { streamingRuntimeClient, type RelayClient } from "../../runtime/gateway/relay-client.js";
import { RuntimeClient } from "../../runtime/gateway/upstream.js";
import { startRuntime, type RunningRuntime } from "../../runtime/inference/runtime.js";
import { simulatedProvider } from "../../runtime/simulators/index.js";
import { releaseKeyPair, signedDevManifest, trustFor } from "../helpers/confidential.js";
import { chatModelFiles } from "../helpers/generation.js";
import { A02_MEASUREMENT } from "../helpers/golden.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import { createTestPki, fakeKeyRelease, sealChatModel } from "../helpers/runtime.js";
import { generateKeyPairSync } from "node:crypto";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

let rt: RunningRuntime;
let runtimes: RuntimeClient;
let relay: RelayClient;
let gw: FastifyInstance;
let url: string;
let trust: ClientTrust;
const rtLog = captureLogger("inference");
const gwLog = captureLogger("gateway");
const team = generateApiKey("team-a");

beforeAll(async () => {
  const pki = createTestPki();
  const sim = await sharedSimulatedSnp("Genoa");
  const release = releaseKeyPair();
  const registry = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const chat = await sealChatModel(registry.privateKey, chatModelFiles());
  rt = await startRuntime({
    artifacts: [chat.artifact],
    keyRelease: fakeKeyRelease(pki, new Map([[chat.keyId, chat.dataKey]])),
    signerKey: registry.publicKey,
    batching: TEST_BATCHING,
    ort: { intraOpThreads: 1 },
    logger: rtLog.logger,
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
  const tls = { brokerCa: pki.broker.cert, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key };
  runtimes = new RuntimeClient(tls, { timeoutMs: 10_000 });
  relay = streamingRuntimeClient(tls, { timeoutMs: 10_000 });
  gw = buildGatewayApp({
    clients: [{ name: "team-a", rateLimit: { perSecond: 1000, burst: 1000 } }],
    apiKeys: [team.record],
    routes: { chat: [{ url: `https://localhost:${rt.port}` }] },
    runtimes,
    relay,
    plaintextApi: false,
    logger: gwLog.logger,
  });
  await gw.listen({ host: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${(gw.server.address() as AddressInfo).port}`;
}, 180_000);
afterAll(async () => {
  await gw.close();
  runtimes.close();
  relay.close();
  await rt.stop();
});

const chatRequest = (maxTokens: number) => ({
  method: "POST",
  path: "/v1/chat/completions",
  headers: { "content-type": "application/json", accept: "text/event-stream" },
  body: Buffer.from(
    JSON.stringify({
      model: "chat",
      messages: [{ role: "user", content: "abc abc abc" }],
      temperature: 0,
      max_tokens: maxTokens,
      stream: true,
    }),
  ),
});
const finished = () =>
  rtLog.lines
    .map((l) => JSON.parse(l) as { route?: string; tokens?: { completionTokens: number; finish: string } })
    .filter((l) => l.route === "/v1/chat/completions" && l.tokens !== undefined)
    .map((l) => l.tokens!);

describe("a streamed generation over OHTTP whose client goes away", () => {
  it("completes when read to the end (control), and stops at once when the client closes mid-stream", async () => {
    const whole = new ConfidentialClient({ transport: httpGateway({ url, apiKey: team.apiKey }), trust });
    const all = await whole.stream("chat", chatRequest(20));
    let text = "";
    for await (const p of all.body) text += Buffer.from(p).toString("utf8");
    whole.close();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    await expect.poll(finished).toEqual([{ promptTokens: expect.any(Number), completionTokens: 20, finish: "length" }]);

    const client = new ConfidentialClient({ transport: httpGateway({ url, apiKey: team.apiKey }), trust });
    const r = await client.stream("chat", chatRequest(480));
    let pieces = 0;
    for await (const _ of r.body) if (++pieces === 3) break;
    client.close(); // the connection to the gateway goes away mid-stream
    await expect.poll(() => count("cancelled"), { timeout: 5000 }).toBe(1);
    expect(await count("length")).toBe(1); // only the control: the cancelled one did not run to max_tokens
    const tokens = Number(
      /ci_inference_generated_tokens_total\{model="chat"\} (\d+)/.exec(await rt.registry.render())?.[1],
    );
    expect(tokens - 20).toBeLessThan(200);
  });

  it("a caller of attestctl proxy that goes away mid-stream stops the generation too", async () => {
    const client = new ConfidentialClient({ transport: httpGateway({ url, apiKey: team.apiKey }), trust });
    const proxy = await startProxy({ client, defaultModel: "chat" });
    const before = await count("cancelled");
    try {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(
          `${proxy.url}/v1/chat/completions`,
          { method: "POST", headers: { "content-type": "application/json" } },
          (res) => {
            let pieces = 0;
            res.on("data", () => {
              if (++pieces === 3) {
                req.destroy(); // the caller goes away
                resolve();
              }
            });
            res.on("error", () => undefined);
          },
        );
        req.on("error", (e) => (e.message.includes("socket hang up") ? undefined : reject(e)));
        req.end(chatRequest(480).body);
      });
      await expect.poll(() => count("cancelled"), { timeout: 5000 }).toBe(before + 1);
    } finally {
      await proxy.close();
      client.close();
    }
  });
});

async function count(finish: string): Promise<number> {
  const text = await rt.registry.render();
  return Number(
    new RegExp(`ci_inference_generations_total\\{model="chat",finish="${finish}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
  );
}
