/**
 * A small HTTP(S) client for the sandbox's own calls (admin API, readiness probes, `sandbox infer`,
 * tamper probes): TLS pinned to a given CA, an optional client certificate, a timeout. Bodies are
 * returned as text; nothing is logged.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** One request. */
export interface SandboxRequest {
  readonly url: string;
  readonly method?: "GET" | "POST";
  /** PEM CA bundle the server certificate must chain to (HTTPS only). */
  readonly ca?: string;
  /** Client certificate and key (PEM), for mTLS. */
  readonly cert?: string;
  readonly key?: string;
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Milliseconds before the request is abandoned (default 30000). */
  readonly timeoutMs?: number;
}

/** The answer. */
export interface SandboxResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** Sends one request; rejects on connection, TLS or timeout errors (with the socket's error code). */
export function sendRequest(r: SandboxRequest): Promise<SandboxResponse> {
  const u = new URL(r.url);
  const https = u.protocol === "https:";
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, "utf8");
  return new Promise((resolve, reject) => {
    const options = {
      host: u.hostname,
      port: u.port,
      path: `${u.pathname}${u.search}`,
      method: r.method ?? (body ? "POST" : "GET"),
      agent: false as const,
      headers: { ...(body ? { "content-length": String(body.length) } : {}), ...r.headers },
      timeout: r.timeoutMs ?? 30_000,
      ...(https ? { ca: r.ca, cert: r.cert, key: r.key } : {}),
    };
    const req = (https ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () =>
      req.destroy(
        Object.assign(new Error(`no answer from ${u.host} within ${r.timeoutMs ?? 30_000} ms`), { code: "ETIMEDOUT" }),
      ),
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Resolves true as soon as `check` does, false after `timeoutMs` or once `stop` returns true. */
export async function pollUntil(
  check: () => Promise<boolean>,
  o: { readonly timeoutMs: number; readonly intervalMs?: number; readonly stop?: () => boolean },
): Promise<boolean> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (o.stop?.()) return false;
    if (await check().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 250));
  }
}
