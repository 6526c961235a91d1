/**
 * The inference server factory (STYLE rule 5): `buildApp(opts)` returns an unstarted Fastify instance serving
 * the Open Inference Protocol and the OpenAI-compatible API (`/v1`, OpenAI error objects) over HTTPS with mutual TLS (or plain HTTP for `inject()` tests when `tls` is
 * absent). Only `main.ts` / `startRuntime` listen.
 */
import { randomUUID } from "node:crypto";
import fastify, { LogController, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { InferenceError } from "../errors.js";
import { installErrorReplies, isOpenAiPath, oipErrorBody, openAiErrorBody } from "../../http/index.js";
import { listenerTimeouts, type ListenerTimeouts } from "../../../core/index.js";
import { errorFields } from "../../observability/index.js";
import { HEADER_LENGTH_HEADER, splitBinaryBody } from "../oip/binary.js";
import { INFERENCE_HTTP_ERRORS, QUIET_CODES } from "./http-errors.js";
import type { InferenceMetrics } from "./metrics.js";
import { oipRoutes, type RouteContext } from "./routes.js";
import { confidentialRoutes, type ConfidentialOptions } from "../confidential/index.js";
import { openAiRoutes } from "../openai/routes.js";

/** Server TLS material. Client certificates are required and must chain to `clientCa`. */
export interface ServerTls {
  /** PEM certificate chain issued by the key broker after attestation. */
  readonly cert: string;
  /** PEM private key of `cert` (generated inside the boundary). */
  readonly key: string;
  /** PEM CA bundle whose certificates may connect (the gateway CA); nothing else is accepted. */
  readonly clientCa: string;
}

/** Options of `buildApp`. */
export interface InferenceAppOptions extends RouteContext {
  readonly logger: Logger;
  /** mTLS material; absent means plain HTTP (tests with `inject()` only). */
  readonly tls?: ServerTls;
  readonly metrics?: InferenceMetrics;
  /** Largest request body in bytes; default 1 MiB. Larger -> 413 `BODY_TOO_LARGE`. */
  readonly bodyLimit?: number;
  /** Socket request timeout in ms (slow clients); default 30000. */
  readonly requestTimeoutMs?: number;
  /** Header, handshake and idle timeouts (core `listenerTimeouts`); `requestTimeoutMs` wins for the request. */
  readonly timeouts?: Partial<ListenerTimeouts>;
  /** True once shutdown has begun: new requests get 503 `SHUTTING_DOWN`. */
  readonly isDraining?: () => boolean;
  /** The confidential endpoint (`/attestation`, `/ohttp-keys`, `/ohttp`); absent: not served. */
  readonly confidential?: Omit<ConfidentialOptions, "dispatch" | "bodyLimit">;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Builds the inference server.
 *
 * @example
 * const app = buildApp({ models, isReady: () => true, logger, server: { name: "ci-inference", version: "0.1.0" }, tls });
 * await app.listen({ host: "0.0.0.0", port: 8443 });
 */
export function buildApp(opts: InferenceAppOptions): FastifyInstance {
  const bodyLimit = opts.bodyLimit ?? 1024 * 1024;
  const t = listenerTimeouts({
    ...opts.timeouts,
    ...(opts.requestTimeoutMs === undefined ? {} : { requestMs: opts.requestTimeoutMs }),
  });
  const app = fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    ...t.fastify,
    return503OnClosing: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: false } },
    ...(opts.tls
      ? {
          https: {
            cert: opts.tls.cert,
            key: opts.tls.key,
            ca: opts.tls.clientCa,
            requestCert: true,
            rejectUnauthorized: true,
            minVersion: "TLSv1.2" as const,
            ...t.server,
            ...t.tls,
          },
        }
      : { http: { ...t.server } }),
  }) as unknown as FastifyInstance;

  app.decorateRequest("meta", null as never);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer", bodyLimit }, (_req, body, done) => {
    try {
      done(null, JSON.parse((body as Buffer).toString("utf8")));
    } catch {
      done(new InferenceError("MALFORMED_JSON", "body: not valid JSON"), undefined);
    }
  });

  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer", bodyLimit }, (req, body, done) => {
    try {
      const { json, binary } = splitBinaryBody(body as Buffer, req.headers[HEADER_LENGTH_HEADER]);
      req.meta.binary = binary;
      done(null, json);
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  const started = new WeakMap<object, bigint>();
  app.addHook("onRequest", async (req, reply) => {
    req.meta = {};
    started.set(req, process.hrtime.bigint());
    reply.header("x-request-id", req.id);
    if (opts.isDraining?.())
      throw new InferenceError("SHUTTING_DOWN", "the runtime is shutting down", { retryAfterSeconds: 1 });
  });
  const responseBytes = new WeakMap<object, number>();
  app.addHook("onSend", async (req, _reply, payload) => {
    if (typeof payload === "string" || Buffer.isBuffer(payload)) responseBytes.set(req, Buffer.byteLength(payload));
    return payload;
  });
  app.addHook("onResponse", async (req, reply) => {
    const t0 = started.get(req);
    const ms = t0 === undefined ? 0 : Number(process.hrtime.bigint() - t0) / 1e6;
    const code = req.meta?.code ?? (reply.statusCode < 400 ? "OK" : "ERROR");
    const model = req.meta?.model ?? "-";
    opts.metrics?.requests.inc({ model, code });
    if (code === "OK" && req.routeOptions.url?.endsWith("/infer")) opts.metrics?.duration.observe({ model }, ms / 1000);
    req.log.info(
      {
        method: req.method,
        route: req.routeOptions.url ?? "-",
        model,
        rows: req.meta?.rows,
        ...(req.meta?.tokens ? { tokens: req.meta.tokens } : {}),
        status: reply.statusCode,
        code,
        requestBytes: Number(req.headers["content-length"] ?? 0),
        responseBytes: responseBytes.get(req) ?? 0,
        ms: Math.round(ms * 1000) / 1000,
      },
      "request",
    );
  });

  installErrorReplies(app, {
    table: INFERENCE_HTTP_ERRORS,
    body: (r, req) => (isOpenAiPath(req.url) ? openAiErrorBody(r) : oipErrorBody(r)),
    onError: (req, r, err) => {
      req.meta = req.meta ?? {};
      req.meta.code = r.code;
      if (err !== undefined && r.status >= 500 && !QUIET_CODES.has(r.code)) {
        req.log.error(
          { err: errorFields(err), cause: errorFields((err as { cause?: unknown }).cause) },
          "request failed",
        );
      }
    },
  });

  app.register(async (scope) => oipRoutes(scope, opts));
  const aborts = new Map<string, AbortSignal>();
  app.register(async (scope) =>
    openAiRoutes(scope, {
      generators: opts.generators ?? new Map(),
      models: opts.models,
      isReady: opts.isReady,
      aborts,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    }),
  );
  const confidential = opts.confidential;
  if (confidential !== undefined)
    app.register(async (scope) =>
      confidentialRoutes(scope, { ...confidential, bodyLimit, aborts, dispatch: (o) => app.inject(o) }),
    );
  return app;
}
