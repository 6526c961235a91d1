/**
 * The OpenAI-compatible API of the runtime, driven by the official `openai` npm client (unmodified) over a real
 * loopback HTTP listener: models, chat and text completions (whole and streamed), embeddings (base64, the client's
 * default, and float), OpenAI error objects with exact codes, a client that disconnects mid-stream, and no prompt
 * or output in the logs.
 */
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GenerateRequest,
  GenerationEngine,
  type GenerationResult,
} from "../../runtime/inference/generation/engine.js";
import type { DecoderModel } from "../../runtime/inference/generation/model.js";
import { embeddingSpec } from "../../runtime/inference/model/embedding.js";
import { buildApp } from "../../runtime/inference/server/app.js";
import { chatChunk, completionChunk, sseData, textEventWriter } from "../../runtime/inference/openai/sse.js";
import type { GeneratorEntry, ModelEntry } from "../../runtime/inference/server/routes.js";
import { chatPrompt, loadChatModel } from "../helpers/generation.js";
import { captureLogger, servedBundled } from "../helpers/inference.js";

let app: FastifyInstance;
let client: OpenAI;
let model: DecoderModel;
let engine: GenerationEngine;
let encoder: ModelEntry;
const { logger, lines } = captureLogger("inference");
const MARKER = "Zebra quartz marker";
const results: Array<Promise<GenerationResult>> = [];

beforeAll(async () => {
  model = await loadChatModel();
  engine = new GenerationEngine(model, { maxBatch: 4 });
  // The routes get the engine behind a spy that keeps each generation's result (how a generation ended).
  const spy = Object.create(engine, {
    generate: {
      value: (r: GenerateRequest) => {
        const g = engine.generate(r);
        results.push(g.result);
        return g;
      },
    },
  }) as GenerationEngine;
  const chat: GeneratorEntry = { name: "chat", sha256: "0".repeat(64), model, engine: spy, created: 1_700_000_000 };
  const served = await servedBundled("encoder");
  encoder = { ...served, created: 1_700_000_001, embeddings: embeddingSpec(served.model, "embedding") };
  app = buildApp({
    models: new Map([
      ["encoder", encoder],
      ["sentiment", await servedBundled("sentiment")],
    ]),
    generators: new Map([["chat", chat]]),
    isReady: () => true,
    logger,
    server: { name: "ci-inference", version: "test" },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
  await app.close();
  engine.close();
  await model.release();
});

const user = (content: string) => [{ role: "user" as const, content }];

describe("OpenAI API with the official client", () => {
  it("lists the decoder and embedding models (not OIP-only ones)", async () => {
    const list = await client.models.list();
    expect(list.data).toEqual([
      { id: "chat", object: "model", created: 1_700_000_000, owned_by: "confidential-inference" },
      { id: "encoder", object: "model", created: 1_700_000_001, owned_by: "confidential-inference" },
    ]);
    expect((await client.models.retrieve("chat")).id).toBe("chat");
  });

  it("answers a chat completion (greedy: the bundled model echoes the last user message)", async () => {
    const r = await client.chat.completions.create({
      model: "chat",
      messages: user("Hello there, how are you?"),
      temperature: 0,
    });
    expect(r.object).toBe("chat.completion");
    expect(r.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(r.choices).toEqual([
      {
        index: 0,
        message: { role: "assistant", content: "Hello there, how are you?", refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ]);
    const direct = await engine.generate({ promptIds: chatPrompt(model, "Hello there, how are you?"), temperature: 0 })
      .result;
    expect(r.usage).toEqual({
      prompt_tokens: direct.promptTokens,
      completion_tokens: direct.completionTokens,
      total_tokens: direct.promptTokens + direct.completionTokens,
    });
    expect(direct.completionTokens).toBe(12); // 11 text tokens and <|im_end|>
  });

  it("streams a chat completion as SSE: role first, text deltas, finish_reason, usage, [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "chat",
      messages: user("Grüße aus Köln 🚀"),
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("Grüße aus Köln 🚀");
    expect(chunks.at(-2)!.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage!.prompt_tokens).toBe(chatPrompt(model, "Grüße aus Köln 🚀").length);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("gives the same text as the engine for a text completion, whole and streamed (max_tokens, length)", async () => {
    const prompt = "abc abc abc";
    const direct = await engine.generate({ promptIds: model.tokenizer.encode(prompt), maxTokens: 12, temperature: 0 })
      .result;
    const whole = await client.completions.create({ model: "chat", prompt, max_tokens: 12, temperature: 0 });
    expect(whole.choices[0]).toEqual({ index: 0, text: direct.text, logprobs: null, finish_reason: "length" });
    expect(whole.usage).toEqual({
      prompt_tokens: direct.promptTokens,
      completion_tokens: 12,
      total_tokens: direct.promptTokens + 12,
    });
    const stream = await client.completions.create({
      model: "chat",
      prompt,
      max_tokens: 12,
      temperature: 0,
      stream: true,
    });
    let text = "";
    let finish: string | null = null;
    for await (const c of stream) {
      text += c.choices[0]!.text;
      finish = c.choices[0]!.finish_reason ?? finish;
    }
    expect([text, finish]).toEqual([direct.text, "length"]);
  });

  it("samples reproducibly with a seed", async () => {
    const ask = () =>
      client.chat.completions.create({
        model: "chat",
        messages: user("Once upon a time"),
        temperature: 1.5,
        seed: 7,
        max_tokens: 12,
      });
    const [a, b] = await Promise.all([ask(), ask()]);
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
  });

  it("returns embeddings equal to the encoder's own output, base64 (client default) and float", async () => {
    const input = ["the service is excellent", "terrible latency"];
    const direct = await encoder.batcher.submit(2, encoder.embeddings!.prepare(input).feeds);
    const want = Array.from(direct.get("embedding")!.data as Float32Array);
    const b64 = await client.embeddings.create({ model: "encoder", input });
    expect(b64.data.map((d) => d.index)).toEqual([0, 1]);
    expect([...b64.data[0]!.embedding, ...b64.data[1]!.embedding]).toEqual(want);
    const floats = await client.embeddings.create({ model: "encoder", input, encoding_format: "float" });
    expect(floats.data[1]!.embedding).toEqual(want.slice(256));
    expect(floats.usage.prompt_tokens).toBeGreaterThan(4);
  });
});

const failure = async (call: Promise<unknown>) => {
  try {
    await call;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return { status: e.status, code: e.code, param: e.param, type: e.type };
    throw e;
  }
  throw new Error("expected an error");
};

describe("OpenAI error objects", () => {
  it.each([
    [
      "unknown model",
      { model: "gpt-9", messages: user("hi") },
      404,
      "model_not_found",
      "model",
      "invalid_request_error",
    ],
    [
      "context too long",
      { model: "chat", messages: user("hi"), max_tokens: 100_000 },
      400,
      "context_length_exceeded",
      null,
      "invalid_request_error",
    ],
    [
      "temperature out of range",
      { model: "chat", messages: user("hi"), temperature: 5 },
      400,
      "invalid_parameter",
      "temperature",
      "invalid_request_error",
    ],
    ["no messages", { model: "chat", messages: [] }, 400, "invalid_parameter", "messages", "invalid_request_error"],
    [
      "unknown role",
      { model: "chat", messages: [{ role: "robot", content: "hi" }] },
      400,
      "invalid_messages",
      null,
      "invalid_request_error",
    ],
    [
      "tools",
      { model: "chat", messages: user("hi"), tools: [{ type: "function", function: { name: "f" } }] },
      400,
      "invalid_parameter",
      "tools",
      "invalid_request_error",
    ],
    ["n > 1", { model: "chat", messages: user("hi"), n: 2 }, 400, "invalid_parameter", "n", "invalid_request_error"],
    [
      "unknown field",
      { model: "chat", messages: user("hi"), frobnicate: true },
      400,
      "invalid_parameter",
      "frobnicate",
      "invalid_request_error",
    ],
  ])("%s", async (_, body, status, code, param, type) => {
    const got = await failure(client.chat.completions.create(body as never));
    expect(got).toEqual({ status, code, param, type });
  });

  it("embeddings: a decoder model, other dimensions, empty input", async () => {
    expect(await failure(client.embeddings.create({ model: "chat", input: "x" }))).toMatchObject({
      status: 404,
      code: "model_not_found",
    });
    expect(await failure(client.embeddings.create({ model: "encoder", input: "x", dimensions: 8 }))).toMatchObject({
      status: 400,
      code: "invalid_parameter",
      param: "dimensions",
    });
    expect(await failure(client.embeddings.create({ model: "encoder", input: [] }))).toMatchObject({ param: "input" });
  });

  it("malformed JSON and a wrong media type get OpenAI error objects too", async () => {
    const r = await app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: "{",
      headers: { "content-type": "application/json" },
    });
    expect([r.statusCode, r.json()]).toEqual([
      400,
      {
        error: { message: "body: not valid JSON", type: "invalid_request_error", param: null, code: "malformed_json" },
      },
    ]);
    const oip = await app.inject({
      method: "POST",
      url: "/v2/models/nope/infer",
      payload: JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["x"] }] }),
      headers: { "content-type": "application/json" },
    });
    expect(oip.json()).toEqual({ error: "no such model (or version) on this server", code: "MODEL_NOT_FOUND" });
  });
});

describe("streams and the boundary", () => {
  it("stops a generation when the client disconnects mid-stream", async () => {
    const abort = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "chat", messages: user("abc abc abc"), temperature: 0, max_tokens: 400, stream: true },
      { signal: abort.signal },
    );
    let seen = 0;
    let finish: string | null | undefined;
    try {
      for await (const c of stream) {
        finish = c.choices[0]?.finish_reason ?? finish;
        if ((c.choices[0]?.delta.content ?? "").length > 0 && ++seen === 3) abort.abort();
      }
    } catch (e) {
      expect((e as Error).name).toMatch(/Abort/);
    }
    expect([seen, finish]).toEqual([3, undefined]);
    const ended = await results.at(-1)!;
    expect(ended.finishReason).toBe("cancelled");
    expect(ended.completionTokens).toBeLessThan(100);
    const deadline = Date.now() + 2000;
    while (engine.load.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(engine.load).toEqual({ active: 0, queued: 0 });
  });

  it("serves concurrent chats in shared decode steps, each its own answer", async () => {
    const texts = ["one two three", "Bonjour tout le monde", "What is a launch measurement?", "x"];
    const answers = await Promise.all(
      texts.map((t) => client.chat.completions.create({ model: "chat", messages: user(t), temperature: 0 })),
    );
    expect(answers.map((a) => a.choices[0]!.message.content)).toEqual(texts);
  });

  it("logs token counts and the finish reason, never the prompt or the answer", async () => {
    lines.length = 0;
    await client.chat.completions.create({ model: "chat", messages: user(MARKER), temperature: 0 });
    await client.embeddings.create({ model: "encoder", input: MARKER });
    const log = lines.join("\n");
    expect(log).not.toContain("Zebra");
    expect(log).not.toContain("quartz");
    const access = lines.map((l) => JSON.parse(l)).filter((l) => l.route === "/v1/chat/completions");
    expect(access[0]).toMatchObject({
      model: "chat",
      status: 200,
      code: "OK",
      tokens: { promptTokens: expect.any(Number), completionTokens: expect.any(Number), finish: "stop" },
    });
  });
});

describe("SSE events", () => {
  it("a text event written from the serialised shell equals the chunk object's JSON, for any text", () => {
    const head = { id: "chatcmpl-1", created: 5, model: "chat" };
    for (const t of ["hi", 'a"b\\c\n', "\u0000", "🚀", "\u2028"]) {
      expect(textEventWriter(head, "chat")(t)).toBe(sseData(chatChunk(head, { content: t }, null)));
      expect(textEventWriter(head, "text")(t)).toBe(sseData(completionChunk(head, t, null)));
    }
    expect(textEventWriter(head, "chat")("x")).toBe(
      'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":5,"model":"chat","system_fingerprint":null,"choices":[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":null}]}\n\n',
    );
  });
});

describe("admission with backpressure", () => {
  it("a full generation queue answers 503 queue_full with Retry-After (the SDKs retry it); admitted ones complete", async () => {
    const busy = new GenerationEngine(model, { maxBatch: 1, maxActive: 1, maxQueued: 1 });
    const small = buildApp({
      models: new Map(),
      generators: new Map([["chat", { name: "chat", sha256: "0".repeat(64), model, engine: busy, created: 0 }]]),
      isReady: () => true,
      logger,
      server: { name: "ci-inference", version: "test" },
    });
    await small.ready();
    try {
      const ask = () =>
        small.inject({
          method: "POST",
          url: "/v1/chat/completions",
          headers: { "content-type": "application/json" },
          payload: JSON.stringify({ model: "chat", messages: user("abc abc abc"), temperature: 0, max_tokens: 30 }),
        });
      const answers = await Promise.all([ask(), ask(), ask(), ask()]);
      const refused = answers.filter((a) => a.statusCode === 503);
      expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(2);
      expect(refused.map((a) => [a.json().error.code, a.json().error.type, a.headers["retry-after"]])).toEqual([
        ["queue_full", "server_error", "1"],
        ["queue_full", "server_error", "1"],
      ]);
    } finally {
      await small.close();
      busy.close();
    }
  });
});
