/**
 * The OpenAI API through the gateway's plaintext API (dev stacks): the official `openai` client with an API key ->
 * gateway (routes by the body's model, authorises, streams the answer as written) -> runtime over mTLS (a sealed chat
 * directory and an encoder). Errors are OpenAI error objects with the gateway's codes; logs carry metadata only.
 */
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { streamingRuntimeClient, type RelayClient } from "../../runtime/gateway/relay-client.js";
import { RuntimeClient } from "../../runtime/gateway/upstream.js";
import { startRuntime, type RunningRuntime } from "../../runtime/inference/runtime.js";
import { chatModelFiles } from "../helpers/generation.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import { createTestPki, fakeKeyRelease, sealBundled, sealChatModel } from "../helpers/runtime.js";

const MARKER = `quokka${Date.now().toString(36)}prompt`;
let rt: RunningRuntime;
let runtimes: RuntimeClient;
let relay: RelayClient;
let gw: FastifyInstance;
let base: string;
const gwLog = captureLogger("gateway");
const team = generateApiKey("team-a");
const other = generateApiKey("team-b");

beforeAll(async () => {
  const pki = createTestPki();
  const sealed = await sealBundled(["encoder"]);
  const chat = await sealChatModel(sealed.signerPrivateKey, chatModelFiles());
  rt = await startRuntime({
    artifacts: [{ ...sealed.artifacts[0]!, embeddings: { output: "embedding" } }, chat.artifact],
    keyRelease: fakeKeyRelease(pki, new Map([...sealed.keys, [chat.keyId, chat.dataKey]])),
    signerKey: sealed.signerKey,
    batching: TEST_BATCHING,
    ort: { intraOpThreads: 1 },
    logger: captureLogger("inference").logger,
    gatewayCa: pki.gateway.cert,
    listen: { host: "127.0.0.1", port: 0 },
    ops: { host: "127.0.0.1", port: 0 },
  });
  const tls = { brokerCa: pki.broker.cert, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key };
  runtimes = new RuntimeClient(tls, { timeoutMs: 10_000 });
  relay = streamingRuntimeClient(tls, { timeoutMs: 10_000 });
  const upstream = [{ url: `https://localhost:${rt.port}` }];
  gw = buildGatewayApp({
    clients: [
      { name: "team-a", rateLimit: { perSecond: 1000, burst: 1000 } },
      { name: "team-b", rateLimit: { perSecond: 1000, burst: 1000 }, models: ["encoder"] },
    ],
    apiKeys: [team.record, other.record],
    routes: { chat: upstream, encoder: upstream },
    runtimes,
    relay,
    plaintextApi: true,
    logger: gwLog.logger,
    bodyLimit: 64 * 1024,
  });
  await gw.listen({ host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${(gw.server.address() as AddressInfo).port}/v1`;
}, 180_000);
afterAll(async () => {
  await gw.close();
  runtimes.close();
  relay.close();
  await rt.stop();
});

const openai = (apiKey = team.apiKey) => new OpenAI({ baseURL: base, apiKey, maxRetries: 0 });
const user = (content: string) => [{ role: "user" as const, content }];
const failure = async (call: Promise<unknown>) => {
  try {
    await call;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return { status: e.status, code: e.code, type: e.type };
    throw e;
  }
  throw new Error("expected an error");
};

describe("OpenAI API through the gateway (plaintext, dev)", () => {
  it("answers a chat completion and streams one; embeddings; the client's models", async () => {
    const c = openai();
    const r = await c.chat.completions.create({ model: "chat", messages: user(`hi ${MARKER}`), temperature: 0 });
    expect(r.choices[0]!.message.content).toBe(`hi ${MARKER}`);
    const stream = await c.chat.completions.create({
      model: "chat",
      messages: user("one two three"),
      temperature: 0,
      stream: true,
    });
    const pieces: string[] = [];
    for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? "");
    expect([pieces.join(""), pieces.length > 3]).toEqual(["one two three", true]);
    const e = await c.embeddings.create({ model: "encoder", input: ["a", "b"] });
    expect([e.data.length, e.data[0]!.embedding.length]).toEqual([2, 256]);
    expect((await c.models.list()).data.map((m) => m.id)).toEqual(["chat", "encoder"]);
    expect((await openai(other.apiKey).models.list()).data.map((m) => m.id)).toEqual(["encoder"]);
  });

  it("answers the gateway's refusals as OpenAI error objects", async () => {
    expect(await failure(openai("ci_bad").chat.completions.create({ model: "chat", messages: user("x") }))).toEqual({
      status: 401,
      code: "unauthenticated",
      type: "authentication_error",
    });
    expect(await failure(openai(other.apiKey).chat.completions.create({ model: "chat", messages: user("x") }))).toEqual(
      {
        status: 403,
        code: "forbidden_model",
        type: "permission_error",
      },
    );
    expect(await failure(openai().chat.completions.create({ model: "gpt-9", messages: user("x") }))).toMatchObject({
      status: 404,
      code: "model_not_found",
    });
    const noModel = await gw.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: "{}",
      headers: { "content-type": "application/json", authorization: `Bearer ${team.apiKey}` },
    });
    expect([noModel.statusCode, noModel.json().error.code, noModel.json().error.param]).toEqual([
      400,
      "invalid_request",
      "model",
    ]);
    // The runtime's own errors pass through unchanged.
    expect(
      await failure(openai().chat.completions.create({ model: "chat", messages: user("x"), temperature: 9 })),
    ).toEqual({
      status: 400,
      code: "invalid_parameter",
      type: "invalid_request_error",
    });
  });

  it("logs metadata only (model, status), never the prompt or the answer", () => {
    const log = gwLog.lines.join("\n");
    expect(log).not.toContain(MARKER);
    expect(gwLog.lines.map((l) => JSON.parse(l)).find((l) => l.route === "/v1/chat/completions")).toMatchObject({
      client: "team-a",
      model: "chat",
      status: 200,
    });
  });
});
