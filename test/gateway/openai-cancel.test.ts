/**
 * A streamed chat over Oblivious HTTP stops when its client goes away: client library -> gateway (relay) -> runtime's
 * confidential endpoint -> `/v1/chat/completions`. Closing the client's connection mid-stream closes the relay's
 * upstream request, the confidential endpoint aborts the request inside, and the generation ends at its next step
 * (the runtime logs it as `cancelled`, far short of `max_tokens`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request as httpRequest } from "node:http";
import { ConfidentialClient, httpGateway, startProxy, type ClientTrust } from "../../runtime/client/index.js";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { chatModelFiles } from "../helpers/generation.js";
import { captureLogger } from "../helpers/inference.js";
import { startGatewayStack, type GatewayStack } from "../helpers/gateway-stack.js";
import { sealChatModel } from "../helpers/runtime.js";
import { generateKeyPairSync } from "node:crypto";

let stack: GatewayStack;
let url: string;
let trust: ClientTrust;
const rtLog = captureLogger("inference");
const team = generateApiKey("team-a");

beforeAll(async () => {
  const registry = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const chat = await sealChatModel(registry.privateKey, chatModelFiles());
  stack = await startGatewayStack({
    artifacts: [chat.artifact],
    keys: new Map([[chat.keyId, chat.dataKey]]),
    signerKey: registry.publicKey,
    models: ["chat"],
    clients: [{ name: "team-a", rateLimit: { perSecond: 1000, burst: 1000 } }],
    apiKeys: [team.record],
    plaintextApi: false,
    confidential: true,
    runtimeLogger: rtLog.logger,
  });
  url = stack.url;
  trust = stack.trust!;
}, 180_000);
afterAll(() => stack.close());

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
      /ci_inference_generated_tokens_total\{model="chat"\} (\d+)/.exec(await stack.rt.registry.render())?.[1],
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
  const text = await stack.rt.registry.render();
  return Number(
    new RegExp(`ci_inference_generations_total\\{model="chat",finish="${finish}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
  );
}
