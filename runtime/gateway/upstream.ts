/**
 * The gateway's client to inference runtimes: HTTPS with the gateway's client certificate, trusting **only the
 * broker CA**, which signs runtime certificates only after attestation. A runtime whose certificate does not
 * chain to it (an unattested runtime) fails the handshake before any request byte is sent: `UPSTREAM_UNTRUSTED`.
 */
import { Agent, request } from "node:https";
import { isIP } from "node:net";
import { GatewayError } from "./errors.js";

/** TLS material for talking to runtimes. */
export interface UpstreamTls {
  /** PEM broker CA: the only trust anchor for runtime certificates. */
  readonly brokerCa: string;
  /** PEM client certificate of the gateway (issued by the gateway CA the runtimes accept). */
  readonly cert: string;
  /** PEM private key of `cert`. */
  readonly key: string;
}

/** One runtime endpoint. */
export interface Upstream {
  /** `https://host:port` */
  readonly url: string;
  /** Name checked against the runtime certificate; absent means the URL host. */
  readonly servername?: string;
}

/** A runtime's answer, passed through. */
export interface UpstreamReply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly retryAfter: string | undefined;
  /** `Inference-Header-Content-Length` of a binary reply (binary tensor extension). */
  readonly headerLength: string | undefined;
  readonly body: Buffer;
}

/** Certificate verification failures (OpenSSL verify codes and Node's hostname check). */
export const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** Sends requests to runtimes over mTLS with keep-alive connections. */
export class RuntimeClient {
  private agent: Agent;
  private trusted: boolean;
  private readonly retiring = new Map<NodeJS.Timeout, Agent>();

  constructor(
    private readonly tls: UpstreamTls,
    private readonly opts: { timeoutMs: number; maxSockets?: number },
  ) {
    this.agent = this.newAgent(tls.brokerCa);
    this.trusted = tls.brokerCa.includes("-----BEGIN CERTIFICATE-----");
  }

  private newAgent(brokerCa: string): Agent {
    return new Agent({
      // No certificate at all means no trust anchor (never the system roots): every runtime is refused.
      ca: brokerCa.includes("-----BEGIN CERTIFICATE-----") ? brokerCa : [],
      cert: this.tls.cert,
      key: this.tls.key,
      keepAlive: true,
      maxSockets: this.opts.maxSockets ?? 64,
      minVersion: "TLSv1.2",
    });
  }

  /** True once a broker CA is trusted (from the config file or a published bundle). */
  get hasTrust(): boolean {
    return this.trusted;
  }

  /**
   * Replaces the trust anchors (a rotated broker CA bundle) without a restart: new requests use a new
   * connection pool; the old pool is closed once requests already on it have had their timeout.
   */
  setTrust(brokerCa: string): void {
    const old = this.agent;
    this.agent = this.newAgent(brokerCa);
    this.trusted = brokerCa.includes("-----BEGIN CERTIFICATE-----");
    const t = setTimeout(() => {
      this.retiring.delete(t);
      old.destroy();
    }, this.opts.timeoutMs + 1000);
    t.unref();
    this.retiring.set(t, old);
  }

  /** Forwards one request; failures become `UPSTREAM_UNTRUSTED`, `UPSTREAM_UNAVAILABLE` or `UPSTREAM_TIMEOUT`. */
  forward(
    upstream: Upstream,
    req: { method: string; path: string; headers: Record<string, string>; body?: Buffer },
  ): Promise<UpstreamReply> {
    const url = new URL(upstream.url);
    // SNI carries host names only (RFC 6066): an IP literal is checked against the certificate's IP SANs.
    const servername = upstream.servername ?? (isIP(url.hostname) === 0 ? url.hostname : undefined);
    return new Promise((resolve, reject) => {
      const r = request(
        {
          agent: this.agent,
          host: url.hostname,
          port: url.port || 443,
          method: req.method,
          path: req.path,
          ...(servername ? { servername } : {}),
          headers: { ...req.headers, ...(req.body ? { "content-length": String(req.body.length) } : {}) },
          timeout: this.opts.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 502,
              contentType: res.headers["content-type"],
              retryAfter: typeof res.headers["retry-after"] === "string" ? res.headers["retry-after"] : undefined,
              headerLength:
                typeof res.headers["inference-header-content-length"] === "string"
                  ? res.headers["inference-header-content-length"]
                  : undefined,
              body: Buffer.concat(chunks),
            }),
          );
          res.on("error", (e) =>
            reject(new GatewayError("UPSTREAM_UNAVAILABLE", "the runtime closed the connection", { cause: e })),
          );
        },
      );
      r.on("timeout", () =>
        r.destroy(new GatewayError("UPSTREAM_TIMEOUT", `the runtime did not answer within ${this.opts.timeoutMs} ms`)),
      );
      r.on("error", (e: NodeJS.ErrnoException) => {
        if (e instanceof GatewayError) return reject(e);
        if (e.code && UNTRUSTED.has(e.code))
          return reject(
            new GatewayError(
              "UPSTREAM_UNTRUSTED",
              "the runtime's certificate is not from the broker CA (not attested)",
              { cause: e },
            ),
          );
        reject(new GatewayError("UPSTREAM_UNAVAILABLE", "the runtime is unreachable", { cause: e }));
      });
      r.end(req.body);
    });
  }

  /** Closes pooled connections. */
  close(): void {
    for (const [t, old] of this.retiring) {
      clearTimeout(t);
      old.destroy();
    }
    this.retiring.clear();
    this.agent.destroy();
  }
}

/** Round-robin start positions by model, shared by the gateway's routes. */
export type UpstreamCursor = Map<string, number>;

/**
 * Sends to the model's runtimes in turn, starting where the last request for the model did not: a failure before
 * the request reached a runtime (`UPSTREAM_UNTRUSTED`, `UPSTREAM_UNAVAILABLE`) moves on to the next runtime; any
 * other failure, or the last runtime's, is thrown. `onUntrusted` counts runtimes refused for their certificate.
 */
export async function withFailover<T>(
  model: string,
  upstreams: readonly Upstream[],
  cursor: UpstreamCursor,
  attempt: (upstream: Upstream) => Promise<T>,
  onUntrusted?: () => void,
): Promise<T> {
  const start = cursor.get(model) ?? 0;
  cursor.set(model, (start + 1) % upstreams.length);
  let last: unknown;
  for (let i = 0; i < upstreams.length; i++) {
    try {
      return await attempt(upstreams[(start + i) % upstreams.length]!);
    } catch (e) {
      last = e;
      const code = (e as { code?: unknown }).code;
      if (code === "UPSTREAM_UNTRUSTED") onUntrusted?.();
      if (code === "UPSTREAM_UNTRUSTED" || code === "UPSTREAM_UNAVAILABLE") continue;
      throw e;
    }
  }
  throw last;
}
