/**
 * The gateway factory (outside the boundary; STYLE rule 5): `buildGatewayApp(opts)` returns an unstarted Fastify
 * instance. It authenticates clients (API key, hashed at rest, or a client certificate), applies per-client
 * rate limits and body limits, and forwards OIP requests to the runtimes serving the model over mTLS, trusting
 * only the broker CA. It never parses or logs bodies: logs carry metadata only.
 */
import { createHash, randomUUID } from "node:crypto";
import type { TLSSocket } from "node:tls";
import fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { listenerTimeouts, type ListenerTimeouts } from "../../core/index.js";
import { MetricsRegistry, type Counter, errorFields } from "../observability/index.js";
import { ApiKeyStore, type ApiKeyRecord } from "./api-keys.js";
import { installErrorReplies, isOpenAiPath, oipErrorBody, openAiErrorBody } from "../http/index.js";
import { GatewayError } from "./errors.js";
import { GATEWAY_HTTP_ERRORS } from "./http-errors.js";
import { RateLimiter, type RateLimit } from "./rate-limit.js";
import { type RuntimeClient, type Upstream, type UpstreamReply, withFailover } from "./upstream.js";
import type { RelayClient } from "./relay-client.js";
import { relayRoutes } from "./relay.js";
import { openAiProxyRoutes } from "./openai-proxy.js";

/** A client of the gateway. */
export interface GatewayClient {
  readonly name: string;
  readonly rateLimit: RateLimit;
  /** Models this client may use; absent means all. */
  readonly models?: readonly string[];
  /** SHA-256 fingerprints (hex, no colons) of client certificates that authenticate as this client. */
  readonly certificateSha256?: readonly string[];
}

/** Options of `buildGatewayApp`. */
export interface GatewayOptions {
  readonly clients: readonly GatewayClient[];
  readonly apiKeys: readonly ApiKeyRecord[];
  /** Runtimes by model name (round-robin; a runtime that fails TLS or refuses the connection is skipped). */
  readonly routes: Readonly<Record<string, readonly Upstream[]>>;
  readonly runtimes: Pick<RuntimeClient, "forward">;
  readonly logger: Logger;
  readonly registry?: MetricsRegistry;
  /** Largest request body in bytes; default 1 MiB. */
  readonly bodyLimit?: number;
  /** Clock in ms for rate limits; absent means `Date.now`. */
  readonly now?: () => number;
  /** Header, body, handshake and idle timeouts of the client listener (core `listenerTimeouts`); absent: the defaults. */
  readonly timeouts?: Partial<ListenerTimeouts>;
  /** Streaming client to the runtimes' confidential endpoints: with it, the OHTTP relay routes are served (relay.ts). */
  readonly relay?: RelayClient;
  /**
   * Serve the OIP API in clear (the gateway then sees prompts and answers). Absent: true (library and
   * tests); the gateway's config file has `plaintextApi`, default false, which main.ts passes.
   */
  readonly plaintextApi?: boolean;
  /** Client-facing TLS; with `clientCa`, client certificates are requested and may authenticate. Absent: plain HTTP (behind a TLS-terminating ingress, or tests). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly clientCa?: string };
}

interface Meta {
  client?: string;
  model?: string;
  code?: string;
  upstream?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    gw: Meta;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Paths served without authentication (probes); every other request authenticates before its body is read. */
const PUBLIC_PATHS = new Set(["/v2/health/live", "/v2/health/ready"]);
const params = {
  type: "object",
  required: ["model"],
  properties: {
    model: { type: "string", minLength: 1, maxLength: 128 },
    version: { type: "string", minLength: 1, maxLength: 64 },
  },
} as const;

/** Gateway metrics. */
interface GatewayMetrics {
  requests: Counter;
  untrusted: Counter;
  limited: Counter;
}

/**
 * Builds the gateway.
 *
 * @example
 * const gw = buildGatewayApp({ clients, apiKeys, routes: { sentiment: [{ url: "https://10.0.0.5:8443" }] }, runtimes: new RuntimeClient(tls, { timeoutMs: 15000 }), logger });
 * await gw.listen({ host: "0.0.0.0", port: 8080 });
 */
export function buildGatewayApp(opts: GatewayOptions): FastifyInstance {
  const bodyLimit = opts.bodyLimit ?? 1024 * 1024;
  const now = opts.now ?? Date.now;
  const keys = new ApiKeyStore(opts.apiKeys);
  const clients = new Map(opts.clients.map((c) => [c.name, c]));
  const byCert = new Map(
    opts.clients.flatMap((c) => (c.certificateSha256 ?? []).map((f) => [f.toLowerCase(), c.name] as const)),
  );
  for (const r of opts.apiKeys)
    if (!clients.has(r.client))
      throw new GatewayError("CONFIG_INVALID", `apiKeys[${r.id}].client: no client named ${r.client}`);
  const limiter = new RateLimiter();
  const registry = opts.registry ?? new MetricsRegistry();
  const metrics: GatewayMetrics = {
    requests: registry.counter("ci_gateway_requests_total", "Gateway requests by client, model and result code", [
      "client",
      "model",
      "code",
    ]),
    untrusted: registry.counter(
      "ci_gateway_upstream_untrusted_total",
      "Runtime connections refused because the runtime certificate is not from the broker CA",
    ),
    limited: registry.counter("ci_gateway_rate_limited_total", "Requests refused by the per-client rate limit", [
      "client",
    ]),
  };
  const cursor = new Map<string, number>();
  const t = listenerTimeouts(opts.timeouts);

  const app = fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    ...t.fastify,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ...(opts.tls
      ? {
          https: {
            cert: opts.tls.cert,
            key: opts.tls.key,
            ...(opts.tls.clientCa ? { ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
            minVersion: "TLSv1.2" as const,
            ...t.server,
            ...t.tls,
          },
        }
      : { http: { ...t.server } }),
  }) as unknown as FastifyInstance;

  app.decorateRequest("gw", null as never);
  app.removeAllContentTypeParsers();
  // Bodies pass through unparsed: JSON, or the binary tensor extension (octet-stream + header length).
  app.addContentTypeParser(
    ["application/json", "application/octet-stream"],
    { parseAs: "buffer", bodyLimit },
    (_req, body, done) => done(null, body),
  );

  const started = new WeakMap<object, bigint>();
  const sent = new WeakMap<object, number>();
  app.addHook("onRequest", async (req, reply) => {
    req.gw = {};
    started.set(req, process.hrtime.bigint());
    reply.header("x-request-id", req.id);
    // Authentication before the body: an unauthenticated request is answered 401 without reading (or
    // buffering) a byte of its body, and its connection is closed so the unread body goes nowhere.
    if (PUBLIC_PATHS.has(req.url.split("?")[0] ?? "")) return;
    try {
      req.gw.client = authenticate(req);
    } catch (e) {
      if (req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined)
        void reply.header("connection", "close");
      throw e;
    }
  });
  app.addHook("onSend", async (req, _reply, payload) => {
    if (typeof payload === "string" || Buffer.isBuffer(payload)) sent.set(req, Buffer.byteLength(payload));
    return payload;
  });
  app.addHook("onResponse", async (req, reply) => {
    const t0 = started.get(req);
    const code = req.gw?.code ?? (reply.statusCode < 400 ? "OK" : `HTTP_${reply.statusCode}`);
    metrics.requests.inc({ client: req.gw?.client ?? "-", model: req.gw?.model ?? "-", code });
    req.log.info(
      {
        client: req.gw?.client ?? "-",
        method: req.method,
        route: req.routeOptions.url ?? "-",
        model: req.gw?.model ?? "-",
        upstream: req.gw?.upstream,
        status: reply.statusCode,
        code,
        requestBytes: Number(req.headers["content-length"] ?? 0),
        responseBytes: sent.get(req) ?? 0,
        ms: t0 === undefined ? 0 : Math.round(Number(process.hrtime.bigint() - t0) / 1e3) / 1e3,
      },
      "request",
    );
  });

  installErrorReplies(app, {
    table: GATEWAY_HTTP_ERRORS,
    body: (r, req) => (isOpenAiPath(req.url) ? openAiErrorBody(r) : oipErrorBody(r)),
    onError: (req, r, err) => {
      if (req.gw) req.gw.code = r.code;
      if (r.unrecognised) req.log.error({ err: errorFields(err) }, "request failed");
    },
  });

  function authenticate(req: FastifyRequest): string {
    if (req.gw?.client !== undefined) return req.gw.client;
    const socket = req.raw.socket as TLSSocket;
    if (opts.tls?.clientCa && socket.authorized) {
      const der = socket.getPeerCertificate()?.raw;
      const client = der ? byCert.get(createHash("sha256").update(der).digest("hex")) : undefined;
      if (client) return client;
    }
    const auth = req.headers.authorization;
    const presented =
      typeof auth === "string" && auth.startsWith("Bearer ")
        ? auth.slice(7)
        : (req.headers["x-api-key"] as string | undefined);
    const client = keys.authenticate(presented);
    if (!client) throw new GatewayError("UNAUTHENTICATED", "missing or invalid API key or client certificate");
    return client;
  }

  /** Authentication, rate limit, routing and model permission: shared by the plaintext API and the relay. */
  function admit(req: FastifyRequest, model: string): readonly Upstream[] {
    const clientName = authenticate(req);
    req.gw.client = clientName;
    const client = clients.get(clientName)!;
    const decision = limiter.take(clientName, client.rateLimit, now());
    if (!decision.ok) {
      metrics.limited.inc({ client: clientName });
      throw new GatewayError("RATE_LIMITED", `rate limit of ${client.rateLimit.perSecond}/s exceeded`, {
        retryAfterSeconds: decision.retryAfterSeconds,
      });
    }
    const upstreams = Object.hasOwn(opts.routes, model) ? opts.routes[model]! : [];
    if (upstreams.length === 0) throw new GatewayError("MODEL_NOT_FOUND", "no runtime serves this model");
    req.gw.model = model;
    if (client.models && !client.models.includes(model))
      throw new GatewayError("FORBIDDEN_MODEL", "this client may not use this model");
    return upstreams;
  }

  async function proxy(req: FastifyRequest<{ Params: { model: string } }>, reply: FastifyReply): Promise<FastifyReply> {
    const model = req.params.model;
    const res: UpstreamReply = await withFailover(
      model,
      admit(req, model),
      cursor,
      (upstream) => {
        req.gw.upstream = new URL(upstream.url).host;
        return opts.runtimes.forward(upstream, {
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req),
          ...(Buffer.isBuffer(req.body) ? { body: req.body } : {}),
        });
      },
      () => metrics.untrusted.inc(),
    );
    req.gw.code = res.status < 400 ? "OK" : (upstreamCode(res.body) ?? `HTTP_${res.status}`);
    if (res.retryAfter) reply.header("retry-after", res.retryAfter);
    if (res.headerLength) reply.header("inference-header-content-length", res.headerLength);
    return reply
      .code(res.status)
      .type(res.contentType ?? "application/json")
      .send(res.body);
  }

  app.get("/v2/health/live", async () => ({ live: true }));
  app.get("/v2/health/ready", async () => ({ ready: true }));
  const relay = opts.relay;
  if (relay !== undefined) app.register(async (scope) => relayRoutes(scope, { relay, admit, bodyLimit }));
  if (opts.plaintextApi === false) return app;
  app.get("/v2/models/:model", { schema: { params } }, proxy);
  app.get("/v2/models/:model/versions/:version", { schema: { params } }, proxy);
  app.get("/v2/models/:model/ready", { schema: { params } }, proxy);
  app.get("/v2/models/:model/versions/:version/ready", { schema: { params } }, proxy);
  app.post("/v2/models/:model/infer", { schema: { params } }, proxy);
  app.post("/v2/models/:model/versions/:version/infer", { schema: { params } }, proxy);
  if (relay !== undefined)
    app.register(async (scope) =>
      openAiProxyRoutes(scope, {
        relay,
        admit,
        cursor,
        onUntrusted: () => metrics.untrusted.inc(),
        models: (req) => {
          const client = clients.get(authenticate(req))!;
          return Object.keys(opts.routes).filter((m) => !client.models || client.models.includes(m));
        },
      }),
    );
  return app;
}

/** The only headers sent to a runtime: request id, content type and the binary extension's header length. */
function forwardHeaders(req: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {
    "x-request-id": req.id,
    accept: "application/json, application/octet-stream",
  };
  if (!Buffer.isBuffer(req.body)) return headers;
  const binary = (req.headers["content-type"] ?? "").startsWith("application/octet-stream");
  headers["content-type"] = binary ? "application/octet-stream" : "application/json";
  const length = req.headers["inference-header-content-length"];
  if (binary && typeof length === "string") headers["inference-header-content-length"] = length;
  return headers;
}

/** The runtime's stable error code from an OIP error body, if any (metadata for logs and metrics). */
function upstreamCode(body: Buffer): string | undefined {
  if (body.length > 4096) return undefined;
  try {
    const code = (JSON.parse(body.toString("utf8")) as { code?: unknown }).code;
    return typeof code === "string" && /^[A-Z_]{1,40}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}
