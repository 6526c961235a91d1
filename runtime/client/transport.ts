/**
 * How the client reaches the gateway: GET JSON (bundles) and POST encapsulated bodies whose answers
 * stream. `httpGateway` speaks HTTPS (optionally with a client certificate, or an API key) or plain
 * HTTP, with keep-alive connections; tests inject their own transport.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** A relayed answer: status, headers and a body that streams. */
export interface RelayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** The client's view of the gateway. */
export interface GatewayTransport {
  /** GETs a path; the body is read whole (at most `maxBytes`). */
  get(path: string, maxBytes: number): Promise<{ readonly status: number; readonly body: Buffer }>;
  /** POSTs an encapsulated body; resolves once the answer's head arrived. */
  post(path: string, contentType: string, body: Uint8Array): Promise<RelayResponse>;
  /** Closes pooled connections. */
  close(): void;
}

/** Options of {@link httpGateway}. */
export interface HttpGatewayOptions {
  /** Gateway base URL (`https://gateway.example:8080`). */
  readonly url: string;
  /** PEM CA bundle for the gateway's certificate; absent: the system's roots. */
  readonly ca?: string;
  /** Client certificate and key (PEM), when the gateway authenticates by certificate. */
  readonly cert?: string;
  readonly key?: string;
  /** API key sent as `Authorization: Bearer`, when the gateway authenticates by key. */
  readonly apiKey?: string;
  /** Milliseconds without progress before a request fails; default 120000. */
  readonly timeoutMs?: number;
  /** Connections kept per gateway; default 64. */
  readonly maxSockets?: number;
}

/** Reads a body whole, up to `max` bytes (the rest is discarded). */
export async function readBody(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    if (total < max) parts.push(Buffer.from(chunk).subarray(0, max - total));
    total += chunk.length;
  }
  return Buffer.concat(parts);
}

/**
 * A transport over node:http(s) with keep-alive.
 *
 * @example const transport = httpGateway({ url: "https://127.0.0.1:8080", ca, cert, key });
 */
export function httpGateway(o: HttpGatewayOptions): GatewayTransport {
  const base = new URL(o.url);
  const https = base.protocol === "https:";
  const agent = https
    ? new HttpsAgent({
        keepAlive: true,
        maxSockets: o.maxSockets ?? 64,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.cert ? { cert: o.cert, key: o.key } : {}),
      })
    : new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets ?? 64 });
  const auth = o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {};
  const send = (method: string, path: string, headers: Record<string, string>, body?: Uint8Array) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        {
          agent,
          host: base.hostname,
          port: base.port || (https ? 443 : 80),
          method,
          path: `${base.pathname.replace(/\/$/, "")}${path}`,
          headers: { ...auth, ...headers, ...(body ? { "content-length": String(body.length) } : {}) },
          timeout: o.timeoutMs ?? 120_000,
        },
        resolve,
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("gateway timeout"), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      req.end(body);
    });
  return {
    async get(path, maxBytes) {
      const res = await send("GET", path, { accept: "application/json" });
      return { status: res.statusCode ?? 0, body: await readBody(res, maxBytes) };
    },
    async post(path, contentType, body) {
      const res = await send("POST", path, { "content-type": contentType }, body);
      return { status: res.statusCode ?? 0, headers: res.headers, body: res };
    },
    close: () => agent.destroy(),
  };
}
