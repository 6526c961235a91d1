/**
 * The OpenAI-compatible API as a Fastify plugin, inside the boundary:
 *
 *   GET  /v1/models, /v1/models/{model}   decoder models and embedding models
 *   POST /v1/chat/completions              chat (the model's template), `stream: true` as Server-Sent Events
 *   POST /v1/completions                   text completion, streamed the same way
 *   POST /v1/embeddings                    text models with an `embeddings` output (float or base64)
 *
 * Requests are admitted by the engine (a full queue -> 503 `QUEUE_FULL` with `Retry-After`); a client that goes
 * away stops its generation at the next step. The access log gets model, token counts and the finish reason only.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { InferenceError } from "../errors.js";
import type { GenerationResult, Generation } from "../generation/index.js";
import type { InferenceMetrics } from "../server/metrics.js";
import type { GeneratorEntry, ModelEntry } from "../server/routes.js";
import { fromGenerationError } from "./error-map.js";
import { chatChunk, completionChunk, sseData, sseDone, textEventWriter, usageOf } from "./sse.js";
import { type CompletionRequest, parseChatCompletion, parseEmbeddings, parseTextCompletion } from "./requests.js";

/** What the OpenAI routes need from the runtime. */
export interface OpenAiContext {
  readonly generators: ReadonlyMap<string, GeneratorEntry>;
  /** Tensor models; those with `embeddings` serve `/v1/embeddings`. */
  readonly models: ReadonlyMap<string, ModelEntry>;
  readonly isReady: () => boolean;
  /** Unix seconds (tests). */
  readonly now?: () => number;
  /** Abort signals of encapsulated requests by request id (their relay going away), from the confidential endpoint. */
  readonly aborts?: ReadonlyMap<string, AbortSignal>;
  readonly metrics?: InferenceMetrics;
}

const OWNER = "confidential-inference";

function notFound(name: string): InferenceError {
  return new InferenceError("MODEL_NOT_FOUND", `The model ${JSON.stringify(name)} does not exist on this server`, {
    problems: [{ path: "model", message: "no such model" }],
  });
}

function ready(ctx: OpenAiContext): void {
  if (!ctx.isReady()) throw new InferenceError("MODEL_NOT_READY", "the model is not ready", { retryAfterSeconds: 1 });
}

/**
 * Aborts when the client goes away before the answer is complete: its connection closes (a socket), or, for an
 * encapsulated request, the confidential endpoint's signal fires (the relay or the client went away).
 */
function abortOnClose(req: FastifyRequest, reply: FastifyReply, outer: AbortSignal | undefined): AbortSignal {
  const abort = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  if (outer) {
    if (outer.aborted) abort.abort();
    else outer.addEventListener("abort", () => abort.abort(), { once: true });
  }
  return abort.signal;
}

function start(entry: GeneratorEntry, promptIds: readonly number[], r: CompletionRequest, signal: AbortSignal) {
  try {
    return entry.engine.generate({ ...r.params, promptIds, signal });
  } catch (e) {
    throw fromGenerationError(e);
  }
}

async function settle(gen: Generation): Promise<GenerationResult> {
  try {
    return await gen.result;
  } catch (e) {
    throw fromGenerationError(e);
  }
}

/** Registers the routes. */
export async function openAiRoutes(app: FastifyInstance, ctx: OpenAiContext): Promise<void> {
  const now = ctx.now ?? (() => Math.floor(Date.now() / 1000));
  const generator = (req: FastifyRequest, name: string): GeneratorEntry => {
    const entry = ctx.generators.get(name);
    if (entry === undefined) throw notFound(name);
    req.meta.model = name;
    ready(ctx);
    return entry;
  };
  const listed = () => [
    ...[...ctx.generators.values()].map((g) => ({ id: g.name, object: "model", created: g.created, owned_by: OWNER })),
    ...[...ctx.models.values()]
      .filter((m) => m.embeddings !== undefined)
      .map((m) => ({ id: m.model.name, object: "model", created: m.created ?? 0, owned_by: OWNER })),
  ];

  app.get("/v1/models", async () => ({ object: "list", data: listed() }));
  app.get<{ Params: { model: string } }>("/v1/models/:model", async (req) => {
    const found = listed().find((m) => m.id === req.params.model);
    if (found === undefined) throw notFound(req.params.model);
    return found;
  });

  /** Runs one generation and answers as one JSON object or as an event stream. */
  const answer = (
    req: FastifyRequest,
    reply: FastifyReply,
    r: CompletionRequest,
    gen: Generation,
    kind: "chat" | "text",
    signal: AbortSignal,
  ) => {
    const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomBytes(12).toString("hex")}`;
    const created = now();
    const head = { id, created, model: r.model };
    gen.result.then(
      (res) => {
        ctx.metrics?.generations.inc({ model: r.model, finish: res.finishReason });
        ctx.metrics?.generatedTokens.inc({ model: r.model }, res.completionTokens);
      },
      () => undefined,
    );
    const logResult = (res: GenerationResult) => {
      req.meta.tokens = {
        promptTokens: res.promptTokens,
        completionTokens: res.completionTokens,
        finish: res.finishReason,
      };
    };
    if (!r.stream)
      return settle(gen).then((res) => {
        logResult(res);
        const finish = res.finishReason === "length" ? "length" : "stop";
        const choice =
          kind === "chat"
            ? { index: 0, message: { role: "assistant", content: res.text, refusal: null }, logprobs: null }
            : { index: 0, text: res.text, logprobs: null };
        return {
          ...head,
          id,
          object: kind === "chat" ? "chat.completion" : "text_completion",
          system_fingerprint: null,
          choices: [{ ...choice, finish_reason: finish }],
          usage: usageOf(res),
        };
      });
    // Logged however the stream ends (a cancelled generation too: counts and the finish reason only).
    gen.result.then(logResult, () => undefined);
    const chunk = kind === "chat" ? chatChunk : completionChunk;
    async function* events(): AsyncGenerator<string> {
      if (kind === "chat") yield sseData(chunk(head, { role: "assistant", content: "" }, null));
      try {
        const textEvent = textEventWriter(head, kind);
        for await (const c of gen) if (c.text.length > 0) yield textEvent(c.text);
        const res = await gen.result;
        logResult(res);
        yield sseData(chunk(head, kind === "chat" ? {} : "", res.finishReason === "length" ? "length" : "stop"));
        if (r.includeUsage) yield sseData({ ...chunk(head, undefined, null), choices: [], usage: usageOf(res) });
      } catch (e) {
        const mapped = fromGenerationError(e);
        const code = mapped instanceof InferenceError ? mapped.code : "INTERNAL";
        req.meta.code = code;
        yield sseData({
          error: { message: "generation failed", type: "server_error", param: null, code: code.toLowerCase() },
        });
      }
      yield sseDone();
    }
    const stream = Readable.from(events(), { objectMode: false });
    // A client gone mid-stream: the generation stopped (the signal), and the events nobody reads are dropped.
    signal.addEventListener("abort", () => stream.destroy(), { once: true });
    return reply
      .type("text/event-stream; charset=utf-8")
      .header("cache-control", "no-store")
      .header("x-accel-buffering", "no")
      .send(stream);
  };

  app.post("/v1/chat/completions", async (req, reply) => {
    const r = parseChatCompletion(req.body);
    const entry = generator(req, r.model);
    const template = entry.model.chatTemplate;
    if (template === undefined)
      throw new InferenceError("INVALID_PARAMETER", "model: this model has no chat template; use /v1/completions", {
        problems: [{ path: "model", message: "has no chat template" }],
      });
    let prompt: string;
    try {
      prompt = template.render(r.messages, true);
    } catch (e) {
      throw fromGenerationError(e);
    }
    const signal = abortOnClose(req, reply, ctx.aborts?.get(req.id));
    const gen = start(entry, entry.model.tokenizer.encode(prompt), r, signal);
    return answer(req, reply, r, gen, "chat", signal);
  });

  app.post("/v1/completions", async (req, reply) => {
    const r = parseTextCompletion(req.body);
    const entry = generator(req, r.model);
    const ids = typeof r.prompt === "string" ? entry.model.tokenizer.encode(r.prompt) : r.prompt;
    const signal = abortOnClose(req, reply, ctx.aborts?.get(req.id));
    const gen = start(entry, ids, r, signal);
    return answer(req, reply, r, gen, "text", signal);
  });

  app.post("/v1/embeddings", async (req) => {
    const r = parseEmbeddings(req.body);
    const entry = ctx.models.get(r.model);
    const spec = entry?.embeddings;
    if (entry === undefined || spec === undefined) throw notFound(r.model);
    req.meta.model = r.model;
    ready(ctx);
    if (r.dimensions !== undefined && r.dimensions !== spec.dimensions)
      throw new InferenceError("INVALID_PARAMETER", `dimensions: this model's vectors have ${spec.dimensions}`, {
        problems: [{ path: "dimensions", message: `must be ${spec.dimensions}` }],
      });
    const data: Array<{ object: "embedding"; index: number; embedding: number[] | string }> = [];
    let promptTokens = 0;
    const step = entry.model.contract.maxBatchSize;
    for (let at = 0; at < r.input.length; at += step) {
      const texts = r.input.slice(at, at + step);
      const prepared = spec.prepare(texts);
      promptTokens += prepared.tokens;
      const out = await entry.batcher.submit(prepared.rows, prepared.feeds);
      const vectors = out.get(spec.output);
      if (vectors === undefined) throw new InferenceError("INFERENCE_FAILED", "the model gave no embedding output");
      for (let i = 0; i < texts.length; i++) {
        const row = Float32Array.from({ length: spec.dimensions }, (_, k) =>
          Number(vectors.data[i * spec.dimensions + k]),
        );
        data.push({
          object: "embedding",
          index: at + i,
          embedding: r.encodingFormat === "base64" ? Buffer.from(row.buffer).toString("base64") : Array.from(row),
        });
      }
    }
    req.meta.rows = r.input.length;
    return { object: "list", data, model: r.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
  });
}
