/**
 * Between Binary HTTP and the runtime's own Fastify app: a decapsulated request becomes an
 * `inject` call into the same app (every API the runtime serves, with its hooks, limits and error
 * answers), and the app's answer becomes a Binary HTTP response. Only end-to-end fields cross:
 * hop-by-hop and framing headers are dropped, the request id is the outer request's.
 */
import type { OutgoingHttpHeaders } from "node:http";
import type { InjectOptions } from "fastify";
import type { BhttpField, BhttpRequest, BhttpResponse } from "../../ohttp/index.js";

/** Headers that describe one hop or the framing, never the message (RFC 9110 section 7.6.1). */
const DROPPED = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "x-request-id",
]);

/** Paths an encapsulated request may not reach: the confidential endpoint itself (no nesting). */
const INTERNAL_PATHS = /^\/(ohttp|ohttp-keys|attestation)(\/|\?|$)/;

/**
 * The inject call for a decapsulated request; undefined when the path is not one an encapsulated
 * request may reach (not origin-form, or the confidential endpoint itself).
 */
export function injectOptionsOf(
  request: BhttpRequest,
  requestId: string,
  streamed: boolean,
): InjectOptions | undefined {
  if (!request.path.startsWith("/") || INTERNAL_PATHS.test(request.path)) return undefined;
  const headers: Record<string, string> = {};
  for (const f of request.headers) {
    if (f.name.startsWith(":") || DROPPED.has(f.name)) continue;
    headers[f.name] = headers[f.name] === undefined ? f.value : `${headers[f.name]}, ${f.value}`;
  }
  headers["x-request-id"] = requestId;
  return {
    method: request.method as InjectOptions["method"],
    url: request.path,
    headers,
    ...(request.content.length > 0 ? { payload: Buffer.from(request.content) } : {}),
    ...(streamed ? { payloadAsStream: true } : {}),
  };
}

/** The app's answer headers as Binary HTTP fields (framing and hop-by-hop headers dropped). */
export function responseFields(headers: OutgoingHttpHeaders | Record<string, unknown>): BhttpField[] {
  const out: BhttpField[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    if (DROPPED.has(n) && n !== "x-request-id") continue;
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push({ name: n, value: String(v) });
  }
  return out;
}

/** The encapsulated answer to a request that may not be dispatched. */
export function notFoundResponse(): BhttpResponse {
  return {
    status: 404,
    headers: [{ name: "content-type", value: "application/json; charset=utf-8" }],
    content: Buffer.from(JSON.stringify({ error: "no such route", code: "ROUTE_NOT_FOUND" })),
    trailers: [],
  };
}
