/**
 * The OpenAI-compatible API through the gateway's plaintext API (dev stacks only, like `/v2`): the gateway reads the
 * body's `model` to authorise and route, forwards the request over mTLS to a runtime of that model and streams the
 * answer back as the runtime writes it (Server-Sent Events included). Outside dev, clients use `attestctl proxy`
 * (Oblivious HTTP): there the gateway cannot read the body at all.
 *
 *   GET  /v1/models                                   the models this client may use
 *   POST /v1/chat/completions, /v1/completions, /v1/embeddings
 */
import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "./errors.js";
import type { RelayClient } from "./relay-client.js";
import { type Upstream, type UpstreamCursor, withFailover } from "./upstream.js";

/** What the routes need from the gateway. */
export interface OpenAiProxyContext {
  readonly relay: RelayClient;
  /** Authenticates, rate-limits and authorises the client for `model`; returns its runtimes. */
  readonly admit: (req: FastifyRequest, model: string) => readonly Upstream[];
  /** Round-robin positions shared with the gateway's other routes. */
  readonly cursor: UpstreamCursor;
  /** Counts runtimes refused for their certificate. */
  readonly onUntrusted?: () => void;
  /** The models the authenticated client may use. */
  readonly models: (req: FastifyRequest) => readonly string[];
}

const PATHS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"] as const;

function modelOf(body: unknown): string {
  let doc: unknown;
  try {
    doc = Buffer.isBuffer(body) ? JSON.parse(body.toString("utf8")) : undefined;
  } catch {
    doc = undefined;
  }
  const model = (doc as { model?: unknown } | undefined)?.model;
  if (typeof model !== "string" || model.length === 0 || model.length > 128)
    throw new GatewayError("INVALID_REQUEST", "body: must be a JSON object with a model name", {
      problems: [{ path: "model", message: "must be a model name" }],
    });
  return model;
}

/** Registers the routes (an encapsulated plugin). */
export async function openAiProxyRoutes(app: FastifyInstance, ctx: OpenAiProxyContext): Promise<void> {
  app.get("/v1/models", async (req) => ({
    object: "list",
    data: ctx.models(req).map((id) => ({ id, object: "model", created: 0, owned_by: "confidential-inference" })),
  }));

  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    const model = modelOf(req.body);
    const res: IncomingMessage = await withFailover(
      model,
      ctx.admit(req, model),
      ctx.cursor,
      (upstream) => {
        req.gw.upstream = new URL(upstream.url).host;
        return ctx.relay.open(upstream, {
          method: "POST",
          path: req.url,
          headers: {
            "content-type": "application/json",
            accept: String(req.headers.accept ?? "application/json"),
            "x-request-id": req.id,
          },
          body: req.body as Buffer,
        });
      },
      ctx.onUntrusted,
    );
    req.gw.code = (res.statusCode ?? 502) < 400 ? "OK" : `HTTP_${res.statusCode}`;
    const retry = res.headers["retry-after"];
    if (typeof retry === "string") void reply.header("retry-after", retry);
    // A client that goes away stops the runtime's generation: closing our side closes the upstream request.
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) res.destroy();
    });
    return reply
      .code(res.statusCode ?? 502)
      .type(String(res.headers["content-type"] ?? "application/json"))
      .header("cache-control", "no-store")
      .send(res);
  };
  for (const path of PATHS) app.post(path, forward);
}
