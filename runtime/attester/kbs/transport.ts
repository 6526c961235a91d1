/**
 * A minimal HTTPS JSON transport for the guest-side KBS client: node:https with the broker CA
 * pinned (the KBS protocol relies on TLS to authenticate the broker) and keep-alive connections,
 * so one TLS handshake carries a whole KBS exchange.
 */
import { Agent, request } from "node:https";
import { isIP } from "node:net";
import { createSecureContext, type SecureContext } from "node:tls";

/** One HTTP response with a parsed JSON body (undefined when the body was empty or not JSON). */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/** Sends JSON requests to one broker. */
export interface Transport {
  send(
    method: "GET" | "POST",
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<JsonResponse>;
  close(): void;
}

// Trust stores by CA bundle: parsing the PEM and building the OpenSSL store is per process, not per connection.
const contexts = new Map<string, SecureContext>();

function contextFor(ca: string): SecureContext {
  let ctx = contexts.get(ca);
  if (!ctx) {
    ctx = createSecureContext({ ca });
    if (contexts.size >= 16) contexts.clear();
    contexts.set(ca, ctx);
  }
  return ctx;
}

/** A transport over HTTPS to `baseUrl`, trusting only `ca` (PEM bundle). */
export function httpsTransport(baseUrl: string, ca: string, options: { timeoutMs?: number } = {}): Transport {
  const base = new URL(baseUrl);
  // One connection: the KBS exchange is sequential, and a second socket would cost a second TLS handshake.
  const agent = new Agent({ keepAlive: true, secureContext: contextFor(ca), maxSockets: 1 });
  return {
    send(method, path, o = {}) {
      const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
      return new Promise<JsonResponse>((resolve, reject) => {
        const req = request(
          {
            agent,
            host: base.hostname,
            port: base.port || 443,
            ...(isIP(base.hostname) === 0 ? { servername: base.hostname } : {}),
            method,
            path: `${base.pathname.replace(/\/$/, "")}${path}`,
            timeout: options.timeoutMs ?? 30_000,
            headers: {
              accept: "application/json",
              ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}),
              ...o.headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let body: unknown;
              try {
                body = text === "" ? undefined : (JSON.parse(text) as unknown);
              } catch {
                body = undefined;
              }
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
            });
            res.on("error", reject);
          },
        );
        req.on("timeout", () => req.destroy(new Error(`request to ${path} timed out`)));
        req.on("error", reject);
        req.end(payload);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
