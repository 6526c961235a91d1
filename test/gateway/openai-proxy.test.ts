/**
 * The OpenAI API through the gateway's plaintext API (dev stacks): the official `openai` client with an API key ->
 * gateway (routes by the body's model, authorises, streams the answer as written) -> runtime over mTLS (a sealed chat
 * directory and an encoder). Errors are OpenAI error objects with the gateway's codes; logs carry metadata only.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { chatModelFiles } from "../helpers/generation.js";
import { captureLogger } from "../helpers/inference.js";
import { startGatewayStack, type GatewayStack } from "../helpers/gateway-stack.js";
import { sealBundled, sealChatModel } from "../helpers/runtime.js";

const MARKER = `quokka${Date.now().toString(36)}prompt`;
let stack: GatewayStack;
let base: string;
const gwLog = captureLogger("gateway");
const team = generateApiKey("team-a");
const other = generateApiKey("team-b");

beforeAll(async () => {
  const sealed = await sealBundled(["encoder"]);
  const chat = await sealChatModel(sealed.signerPrivateKey, chatModelFiles());
  stack = await startGatewayStack({
    artifacts: [{ ...sealed.artifacts[0]!, embeddings: { output: "embedding" } }, chat.artifact],
    keys: new Map([...sealed.keys, [chat.keyId, chat.dataKey]]),
    signerKey: sealed.signerKey,
    models: ["chat", "encoder"],
    clients: [
      { name: "team-a", rateLimit: { perSecond: 1000, burst: 1000 } },
      { name: "team-b", rateLimit: { perSecond: 1000, burst: 1000 }, models: ["encoder"] },
    ],
    apiKeys: [team.record, other.record],
    plaintextApi: true,
    gatewayLogger: gwLog.logger,
  });
  base = `${stack.url}/v1`;
}, 180_000);
afterAll(() => stack.close());

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
    const noModel = await stack.gw.inject({
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
