/**
 * Timeouts every listener of the project sets (key broker KBS and admin, gateway, inference runtime, ops),
 * so a client that trickles its headers or its body, or opens a TLS connection and says nothing, is cut
 * instead of holding a socket for ever. Fastify leaves Node's request timeout off (0) and Node checks
 * expired requests only every 30 s; these options turn both into small, explicit numbers:
 *
 * - `headersMs`: the whole request head must arrive within this time (Node `headersTimeout`, 408);
 * - `requestMs`: the whole request, head and body, within this time (Node `requestTimeout`, 408);
 *   a response that streams for longer is not affected (the timer stops once the request is read);
 * - `handshakeMs`: the TLS handshake (tls `handshakeTimeout`, the socket is destroyed);
 * - `idleMs`: a connection with no traffic at all in either direction (socket timeout);
 * - `keepAliveMs`: an idle keep-alive connection between requests;
 * - `checkIntervalMs`: how often Node looks for expired requests (the cut happens up to this much late).
 */

/** Listener timeouts in milliseconds (see the file comment for each). */
export interface ListenerTimeouts {
  readonly headersMs: number;
  readonly requestMs: number;
  readonly handshakeMs: number;
  readonly idleMs: number;
  readonly keepAliveMs: number;
  readonly checkIntervalMs: number;
}

/**
 * Defaults for request/response APIs with small bodies (KBS messages, admin calls, OIP requests of at most a
 * few MiB): 10 s for the head, 30 s for the whole request, 10 s for the TLS handshake, 120 s idle, 5 s
 * keep-alive, checked every second.
 */
export const DEFAULT_LISTENER_TIMEOUTS: ListenerTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  handshakeMs: 10_000,
  idleMs: 120_000,
  keepAliveMs: 5_000,
  checkIntervalMs: 1_000,
};

/** The server options Node reads at construction (`http.createServer` / `https.createServer`). */
export interface NodeServerTimeouts {
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly connectionsCheckingInterval: number;
  readonly keepAliveTimeout: number;
}

/** What to spread into Fastify's options, and into its `https` (or `http`) server options. */
export interface FastifyTimeouts {
  /** Fastify-level options: `requestTimeout`, `connectionTimeout` (idle), `keepAliveTimeout`. */
  readonly fastify: {
    readonly requestTimeout: number;
    readonly connectionTimeout: number;
    readonly keepAliveTimeout: number;
  };
  /** Node server options (put them in Fastify's `https: {...}` or `http: {...}`). */
  readonly server: NodeServerTimeouts;
  /** TLS-only server option (put it in `https: {...}`). */
  readonly tls: { readonly handshakeTimeout: number };
}

/**
 * Resolves partial timeouts (absent or undefined members: the default) against the defaults and checks them (caller misuse raises `TypeError`:
 * non-positive values, or a head timeout above the request timeout, which Node refuses).
 *
 * @example
 * const t = listenerTimeouts({ requestMs: 5_000 });
 * fastify({ ...t.fastify, https: { key, cert, ...t.server, ...t.tls } });
 */
export function listenerTimeouts(partial: Partial<ListenerTimeouts> = {}): FastifyTimeouts {
  const set = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const t: ListenerTimeouts = { ...DEFAULT_LISTENER_TIMEOUTS, ...set };
  for (const [k, v] of Object.entries(t))
    if (!Number.isInteger(v) || v <= 0) throw new TypeError(`listenerTimeouts: ${k} must be a positive integer (ms)`);
  const headersMs = Math.min(t.headersMs, t.requestMs);
  return {
    fastify: { requestTimeout: t.requestMs, connectionTimeout: t.idleMs, keepAliveTimeout: t.keepAliveMs },
    server: {
      headersTimeout: headersMs,
      requestTimeout: t.requestMs,
      connectionsCheckingInterval: t.checkIntervalMs,
      keepAliveTimeout: t.keepAliveMs,
    },
    tls: { handshakeTimeout: t.handshakeMs },
  };
}
