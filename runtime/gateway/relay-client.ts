/**
 * The gateway's streaming client to runtimes, for the OHTTP relay: the same mTLS as `RuntimeClient`
 * (the gateway's client certificate; only the broker CA trusted, so an unattested runtime fails the
 * handshake before a byte is sent), but bodies stream in both directions and are never buffered or
 * parsed: the gateway cannot open them, and chunked OHTTP answers must reach the client as written.
 */
import type { IncomingMessage } from "node:http";
import { Agent, request } from "node:https";
import { isIP } from "node:net";
import { pipeline, type Readable } from "node:stream";
import { GatewayError } from "./errors.js";
import { UNTRUSTED, type Upstream, type UpstreamTls } from "./upstream.js";

/** What the relay routes need from a client to runtimes. */
export interface RelayClient {
  /**
   * Sends a request and resolves once the runtime's answer head arrived; its body streams.
   * @throws GatewayError `UPSTREAM_UNTRUSTED`, `UPSTREAM_UNAVAILABLE`, `UPSTREAM_TIMEOUT` (before any answer).
   */
  open(
    upstream: Upstream,
    req: {
      readonly method: "GET" | "POST";
      readonly path: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly body?: Buffer | Readable;
    },
  ): Promise<IncomingMessage>;
  /** Replaces the trusted broker CA bundle (a rotation) without a restart; in-flight requests finish on the old pool. */
  setTrust(brokerCa: string): void;
  close(): void;
}

/**
 * A relay client over its own keep-alive agent.
 *
 * @example const relay = streamingRuntimeClient(tls, { timeoutMs: 15000 });
 */
export function streamingRuntimeClient(
  tls: UpstreamTls,
  opts: { readonly timeoutMs: number; readonly maxSockets?: number },
): RelayClient {
  const newAgent = (ca: string) =>
    new Agent({
      ca,
      cert: tls.cert,
      key: tls.key,
      keepAlive: true,
      maxSockets: opts.maxSockets ?? 64,
      minVersion: "TLSv1.2",
    });
  let agent = newAgent(tls.brokerCa);
  const retiring = new Set<Agent>();
  return {
    setTrust(brokerCa) {
      const old = agent;
      agent = newAgent(brokerCa);
      retiring.add(old);
      setTimeout(() => {
        retiring.delete(old);
        old.destroy();
      }, opts.timeoutMs + 1000).unref();
    },
    open(upstream, req) {
      const url = new URL(upstream.url);
      const servername = upstream.servername ?? (isIP(url.hostname) === 0 ? url.hostname : undefined);
      const buffered = Buffer.isBuffer(req.body) ? req.body : undefined;
      return new Promise((resolve, reject) => {
        const r = request(
          {
            agent,
            host: url.hostname,
            port: url.port || 443,
            method: req.method,
            path: req.path,
            ...(servername ? { servername } : {}),
            headers: { ...req.headers, ...(buffered ? { "content-length": String(buffered.length) } : {}) },
            timeout: opts.timeoutMs,
          },
          (res) => {
            r.setTimeout(0);
            resolve(res);
          },
        );
        r.on("timeout", () =>
          r.destroy(new GatewayError("UPSTREAM_TIMEOUT", `the runtime did not answer within ${opts.timeoutMs} ms`)),
        );
        r.on("error", (e: NodeJS.ErrnoException) => {
          if (e instanceof GatewayError) return reject(e);
          if (e.code && UNTRUSTED.has(e.code))
            return reject(
              new GatewayError(
                "UPSTREAM_UNTRUSTED",
                "the runtime's certificate is not from the broker CA (not attested)",
                {
                  cause: e,
                },
              ),
            );
          reject(new GatewayError("UPSTREAM_UNAVAILABLE", "the runtime is unreachable", { cause: e }));
        });
        if (req.body === undefined || buffered) r.end(buffered);
        else pipeline(req.body, r, () => undefined);
      });
    },
    close: () => {
      agent.destroy();
      for (const a of retiring) a.destroy();
      retiring.clear();
    },
  };
}
