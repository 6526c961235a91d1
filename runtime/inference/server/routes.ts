/**
 * Open Inference Protocol v2 routes (REST, JSON tensors) as a Fastify plugin: server health and metadata, model
 * metadata and readiness, and inference. Schemas are declared for params and bodies; the infer body is then
 * checked in depth against the model's contract by `parseInferRequest`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { InferenceError } from "../errors.js";
import { parseInferRequest } from "../oip/request.js";
import { encodeBinaryTensor, HEADER_LENGTH_HEADER } from "../oip/binary.js";
import { toJsonData } from "../oip/tensors.js";
import type { Batcher } from "../batching/batcher.js";
import type { PreparedFeeds, ServedModel } from "../model/served.js";
import type { DecoderModel, GenerationEngine } from "../generation/index.js";

/** How a text model's pooled output serves `/v1/embeddings`. */
export interface EmbeddingSpec {
  /** Graph output with one vector per text, `[batch, dimensions]`. */
  readonly output: string;
  readonly dimensions: number;
  /** Tokenizes texts into graph feeds; `tokens` counts real (unpadded) tokens for `usage`. */
  prepare(texts: readonly string[]): PreparedFeeds & { readonly tokens: number };
}

/** A served model with its batcher. */
export interface ModelEntry {
  readonly model: ServedModel;
  readonly batcher: Batcher;
  /** Present when the model serves `/v1/embeddings`. */
  readonly embeddings?: EmbeddingSpec;
  /** Unix seconds when it was loaded. */
  readonly created?: number;
}

/** A decoder model with its engine. */
export interface GeneratorEntry {
  readonly name: string;
  /** SHA-256 of the sealed model directory's bundle (what the registry signed). */
  readonly sha256: string;
  readonly model: DecoderModel;
  readonly engine: GenerationEngine;
  /** Unix seconds when it was loaded (`created` in `/v1/models`). */
  readonly created: number;
}

/** What the routes need from the runtime. */
export interface RouteContext {
  /** Models by name (may be filled after the app is built). */
  readonly models: ReadonlyMap<string, ModelEntry>;
  /** True once attestation succeeded and every model is loaded, and until shutdown starts. */
  readonly isReady: () => boolean;
  /** Server name and version for `GET /v2`. */
  readonly server: { readonly name: string; readonly version: string };
  /** Decoder models (the OpenAI API); absent means none. */
  readonly generators?: ReadonlyMap<string, GeneratorEntry>;
}

/** Per-request metadata for the access log (never contents). */
export interface RequestMeta {
  model?: string;
  rows?: number;
  code?: string;
  /** Token counts and finish reason of a generation (counts only, never text). */
  tokens?: { promptTokens: number; completionTokens: number; finish: string };
  /** Raw tensor bytes after the JSON header of a binary body (binary tensor extension). */
  binary?: Buffer;
}

declare module "fastify" {
  interface FastifyRequest {
    meta: RequestMeta;
  }
}

const modelParams = {
  type: "object",
  required: ["model"],
  properties: {
    model: { type: "string", minLength: 1, maxLength: 128 },
    version: { type: "string", minLength: 1, maxLength: 64 },
  },
} as const;

const tensorSchema = {
  type: "object",
  required: ["name", "shape", "datatype"],
  properties: {
    name: { type: "string", maxLength: 128 },
    shape: { type: "array", maxItems: 8, items: { type: "integer", minimum: 0 } },
    datatype: { type: "string", maxLength: 16 },
    parameters: { type: "object" },
    data: { type: "array" },
  },
} as const;

const inferBody = {
  type: "object",
  required: ["inputs"],
  properties: {
    id: { type: "string", maxLength: 256 },
    parameters: { type: "object" },
    inputs: { type: "array", minItems: 1, maxItems: 64, items: tensorSchema },
    outputs: {
      type: "array",
      maxItems: 64,
      items: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string", maxLength: 128 }, parameters: { type: "object" } },
      },
    },
  },
} as const;

const readyReply = { type: "object", properties: { ready: { type: "boolean" } } } as const;

type ModelRequest = FastifyRequest<{ Params: { model: string; version?: string } }>;

function lookup(ctx: RouteContext, req: ModelRequest): ModelEntry {
  const entry = ctx.models.get(req.params.model);
  if (!entry || (req.params.version !== undefined && req.params.version !== entry.model.version)) {
    throw new InferenceError("MODEL_NOT_FOUND", "no such model (or version) on this server");
  }
  req.meta.model = entry.model.name;
  return entry;
}

/** Registers the OIP routes. */
export async function oipRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  app.get(
    "/v2/health/live",
    { schema: { response: { 200: { type: "object", properties: { live: { type: "boolean" } } } } } },
    async () => ({ live: true }),
  );
  app.get("/v2/health/ready", { schema: { response: { 200: readyReply, 503: readyReply } } }, async (_req, reply) => {
    const ready = ctx.isReady();
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get("/v2", async () => ({ name: ctx.server.name, version: ctx.server.version, extensions: [] }));

  const metadata = async (req: ModelRequest) => lookup(ctx, req).model.metadata();
  app.get("/v2/models/:model", { schema: { params: modelParams } }, metadata);
  app.get("/v2/models/:model/versions/:version", { schema: { params: modelParams } }, metadata);

  const modelReady = async (req: ModelRequest, reply: { code(n: number): { send(v: unknown): unknown } }) => {
    const entry = lookup(ctx, req);
    const ready = ctx.isReady();
    return reply.code(ready ? 200 : 503).send({ name: entry.model.name, ready });
  };
  app.get("/v2/models/:model/ready", { schema: { params: modelParams } }, modelReady);
  app.get("/v2/models/:model/versions/:version/ready", { schema: { params: modelParams } }, modelReady);

  const infer = async (req: ModelRequest, reply: FastifyReply) => {
    const entry = lookup(ctx, req);
    if (!ctx.isReady()) throw new InferenceError("MODEL_NOT_READY", "the model is not ready", { retryAfterSeconds: 1 });
    const parsed = parseInferRequest(req.body, entry.model.contract, req.meta.binary);
    const prepared = entry.model.prepare(parsed);
    req.meta.rows = prepared.rows;
    const out = await entry.batcher.submit(prepared.rows, prepared.feeds);
    const outputs = entry.model.finish(out, parsed.outputs);
    const blobs: Buffer[] = [];
    const header = {
      model_name: entry.model.name,
      model_version: entry.model.version,
      ...(parsed.id !== undefined ? { id: parsed.id } : {}),
      outputs: outputs.map(([name, t]) => {
        if (!parsed.binaryOutputs.has(name)) return { name, datatype: t.datatype, shape: t.shape, data: toJsonData(t) };
        const blob = encodeBinaryTensor(t);
        blobs.push(blob);
        return { name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: blob.length } };
      }),
    };
    if (blobs.length === 0) return header;
    const json = Buffer.from(JSON.stringify(header), "utf8");
    return reply
      .header(HEADER_LENGTH_HEADER, String(json.length))
      .type("application/octet-stream")
      .send(Buffer.concat([json, ...blobs]));
  };
  app.post("/v2/models/:model/infer", { schema: { params: modelParams, body: inferBody } }, infer);
  app.post("/v2/models/:model/versions/:version/infer", { schema: { params: modelParams, body: inferBody } }, infer);
}
