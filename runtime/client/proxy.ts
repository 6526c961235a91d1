/**
 * The local proxy behind `attestctl proxy`: an HTTP listener on 127.0.0.1 that takes ordinary
 * requests (curl, OpenAI or KServe SDKs pointed at it), verifies the model's runtimes and sends
 * each request as Oblivious HTTP through the gateway. Requests that accept `text/event-stream` or
 * carry `"stream": true` go as chunked OHTTP and their answers stream back as they are opened.
 *
 * Failures are answered 502 `{ "error", "code" }` with the client's code (a refusal names the check
 * the runtime failed, and nothing was sent); the gateway's own refusals in clear (401, 429, ...)
 * keep their status, with `code` `RELAY_FAILED` and the gateway's code as `upstreamCode`. The proxy
 * never logs bodies: the optional log gets method, model, status, code and duration.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConfidentialClient, ConfidentialRequest } from "./client.js";
import { type ClientError, isClientError } from "./errors.js";

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  readonly client: ConfidentialClient;
  /** Listen address; default 127.0.0.1 (the proxy holds the gateway credentials: keep it local). */
  readonly host?: string;
  /** Port; default 0 (a free port). */
  readonly port?: number;
  /** Model for requests whose path and body name none (e.g. `GET /v1/models`). */
  readonly defaultModel?: string;
  /** Always use chunked OHTTP (default: only for streaming requests). */
  readonly alwaysChunked?: boolean;
  /** Largest request body in bytes; default 16 MiB. */
  readonly maxBodyBytes?: number;
  /** Receives one metadata line per request (never contents). */
  readonly log?: (fields: Readonly<Record<string, string | number>>) => void;
}

/** A listening proxy. */
export interface RunningProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Request headers that reach the runtime (everything else, credentials included, stays local). */
const FORWARDED = ["content-type", "accept", "inference-header-content-length"];
/** Answer headers that describe the proxy's own hop. */
const HOP = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

/**
 * Which model a request is for, and whether its answer should stream: the OIP path names the model
 * (and an OIP answer streams only when the client accepts `text/event-stream`); otherwise a JSON
 * body's `model` and `stream` (OpenAI style) decide, else the default model. The body is parsed
 * only when the path does not say.
 */
export function routeOf(
  path: string,
  body: Buffer,
  headers: { readonly contentType: string; readonly accept: string },
  fallback?: string,
): { readonly model: string | undefined; readonly stream: boolean } {
  const acceptsEvents = headers.accept.includes("text/event-stream");
  const oip = /^\/v2\/models\/([^/?]+)/.exec(path);
  if (oip) return { model: decodeURIComponent(oip[1]!), stream: acceptsEvents };
  let json: { model?: unknown; stream?: unknown } = {};
  if (headers.contentType.startsWith("application/json") && body.length > 0) {
    try {
      json = (JSON.parse(body.toString("utf8")) as typeof json | null) ?? {};
    } catch {
      // not JSON: the runtime answers that itself
    }
  }
  return {
    model: typeof json.model === "string" && json.model.length > 0 ? json.model : fallback,
    stream: acceptsEvents || json.stream === true,
  };
}

async function readRequest(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) return undefined;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

function sendJson(res: ServerResponse, status: number, value: object): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Status and body for a client failure. */
export function failureReply(e: ClientError): { status: number; body: Record<string, string> } {
  const upstream = e.details.upstreamCode;
  const status = e.details.status;
  if (e.code === "RELAY_FAILED" && typeof status === "number" && status >= 400 && status < 600)
    return {
      status,
      body: { error: e.message, code: e.code, ...(typeof upstream === "string" ? { upstreamCode: upstream } : {}) },
    };
  return { status: 502, body: { error: e.message, code: e.code } };
}

/**
 * Starts the proxy.
 *
 * @example
 * const proxy = await startProxy({ client, defaultModel: "sentiment" });
 * // curl -d '{"inputs":[...]}' -H 'content-type: application/json' ${proxy.url}/v2/models/sentiment/infer
 */
export async function startProxy(o: ProxyOptions): Promise<RunningProxy> {
  const max = o.maxBodyBytes ?? 16 * 1024 * 1024;
  const server = createServer((req, res) => {
    const t0 = process.hrtime.bigint();
    let model = "-";
    let code = "OK";
    const done = (status: number) =>
      o.log?.({
        method: req.method ?? "-",
        model,
        status,
        code,
        ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e3) / 1e3,
      });
    void (async () => {
      const body = await readRequest(req, max);
      if (body === undefined) {
        code = "BODY_TOO_LARGE";
        sendJson(res, 413, { error: `body: larger than ${max} bytes`, code });
        return done(413);
      }
      const path = req.url ?? "/";
      const route = routeOf(
        path,
        body,
        { contentType: String(req.headers["content-type"] ?? ""), accept: String(req.headers.accept ?? "") },
        o.defaultModel,
      );
      const m = route.model;
      if (m === undefined) {
        code = "NO_RUNTIME";
        sendJson(res, 404, { error: "no model in the path or the body, and no default model", code });
        return done(404);
      }
      model = m;
      const headers: Record<string, string> = {};
      for (const h of FORWARDED) if (typeof req.headers[h] === "string") headers[h] = req.headers[h] as string;
      const request: ConfidentialRequest = { method: req.method ?? "GET", path, headers, body };
      try {
        if (o.alwaysChunked || route.stream) {
          const answer = await o.client.stream(model, request);
          res.writeHead(
            answer.status,
            answer.headers.filter((f) => !HOP.has(f.name)).flatMap((f) => [f.name, f.value]),
          );
          // A caller that goes away ends the stream here, which closes it upstream (the generation stops).
          for await (const piece of answer.body) {
            if (res.destroyed) break;
            res.write(piece);
          }
          res.end();
          return done(answer.status);
        }
        const answer = await o.client.send(model, request);
        const fields = answer.headers.filter((f) => !HOP.has(f.name)).flatMap((f) => [f.name, f.value]);
        res.writeHead(answer.status, [...fields, "content-length", String(answer.body.length)]);
        res.end(answer.body);
        return done(answer.status);
      } catch (e) {
        code = isClientError(e) ? e.code : "INTERNAL";
        if (res.headersSent) {
          res.destroy();
          return done(0);
        }
        const reply = isClientError(e) ? failureReply(e) : { status: 500, body: { error: "internal error", code } };
        sendJson(res, reply.status, reply.body);
        return done(reply.status);
      }
    })();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host ?? "127.0.0.1";
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
