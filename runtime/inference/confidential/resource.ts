/**
 * The runtime's confidential endpoint, a Fastify plugin (the OHTTP *gateway resource* of RFC 9458,
 * inside the boundary):
 *
 * - `GET /attestation[?nonce=HEX]`: the current attestation bundle, or a fresh one bound to the
 *   client's nonce (rate-limited: each costs a report);
 * - `GET /ohttp-keys`: the live key configurations (`application/ohttp-keys`, RFC 9458 section 3.2);
 * - `POST /ohttp`: a `message/ohttp-req` (answered `message/ohttp-res`) or a
 *   `message/ohttp-chunked-req` (answered `message/ohttp-chunked-res`, streamed as the app writes),
 *   carrying a Binary HTTP request for any API of this runtime, dispatched into the same app.
 *
 * A replayed request (same `enc` for a live key) is refused before dispatch. Failures are answered
 * in clear as `application/problem+json` `{ type, title, code }` (RFC 9458 section 5.2); the
 * access log carries the route, status and code only.
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest, InjectOptions, LightMyRequestResponse } from "fastify";
import { NONCE_BYTES } from "../../attestation-bundle/index.js";
import {
  ChunkedRequestDecoder,
  decapsulateRequest,
  decodeBhttpRequest,
  encodeBhttpContentChunk,
  encodeBhttpEnd,
  encodeBhttpResponse,
  encodeBhttpResponseHead,
  encodeKeyConfigs,
  isOhttpError,
  MEDIA_TYPE_OHTTP_CHUNKED_REQ,
  MEDIA_TYPE_OHTTP_CHUNKED_RES,
  MEDIA_TYPE_OHTTP_KEYS,
  MEDIA_TYPE_OHTTP_REQ,
  MEDIA_TYPE_OHTTP_RES,
  OhttpError,
  type BhttpRequest,
  type OhttpErrorCode,
} from "../../ohttp/index.js";
import { injectOptionsOf, notFoundResponse, responseFields } from "./dispatch.js";
import { CONFIDENTIAL_ERROR_STATUS, ConfidentialError } from "./errors.js";
import type { KeyRing } from "./key-ring.js";
import type { ReplayCache } from "./replay.js";

/** What the plugin needs. */
export interface ConfidentialOptions {
  readonly ring: KeyRing;
  readonly replay: ReplayCache;
  /** Runs a request through the whole app (the root instance's `inject`). */
  readonly dispatch: (options: InjectOptions) => Promise<LightMyRequestResponse>;
  /** Largest encapsulated request in bytes (the app's body limit). */
  readonly bodyLimit: number;
  /**
   * Signals of streamed requests in flight, by request id (the inner request carries the outer one's id): the
   * app's routes abort work for a request whose relay went away.
   */
  readonly aborts?: Map<string, AbortSignal>;
  /** Fresh nonce-bound bundles allowed per minute. */
  readonly noncesPerMinute: number;
  readonly now?: () => number;
}

/** Problem type of key configuration errors (RFC 9458 section 5.3). */
export const OHTTP_KEY_PROBLEM = "https://iana.org/assignments/http-problem-types#ohttp-key";

const OHTTP_STATUS: Readonly<Partial<Record<OhttpErrorCode, number>>> = { MESSAGE_TOO_LARGE: 413 };

function problem(req: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  let status = 500;
  let code = "INTERNAL";
  let title = "internal error";
  let type = "about:blank";
  if (isOhttpError(e)) {
    [status, code, title] = [OHTTP_STATUS[e.code] ?? 400, e.code, e.message];
    if (e.code === "OHTTP_KEY_ID_UNKNOWN" || e.code === "OHTTP_UNSUPPORTED_SUITE") type = OHTTP_KEY_PROBLEM;
  } else if (e instanceof ConfidentialError) {
    [status, code, title] = [CONFIDENTIAL_ERROR_STATUS[e.code], e.code, e.message];
  } else {
    req.log.error({ event: "ohttp-failed", err: { type: (e as Error)?.name } }, "confidential request failed");
  }
  req.meta.code = code;
  return reply
    .code(status)
    .type("application/problem+json")
    .header("cache-control", "no-store")
    .send({ type, title, code });
}

/** A token bucket refilled `perMinute` times a minute. */
function limiter(perMinute: number, now: () => number): () => boolean {
  let tokens = perMinute;
  let last = now();
  return () => {
    const t = now();
    tokens = Math.min(perMinute, tokens + ((t - last) / 60_000) * perMinute);
    last = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

async function* readLimited(stream: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > limit) throw new OhttpError("MESSAGE_TOO_LARGE", "request", `more than ${limit} bytes`);
    yield chunk;
  }
}

/** Registers the confidential endpoint on `scope` (an encapsulated plugin of the runtime app). */
export async function confidentialRoutes(scope: FastifyInstance, o: ConfidentialOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const takeNonce = limiter(o.noncesPerMinute, now);
  scope.addContentTypeParser(MEDIA_TYPE_OHTTP_REQ, { parseAs: "buffer", bodyLimit: o.bodyLimit }, (_r, body, done) =>
    done(null, body),
  );
  scope.addContentTypeParser(MEDIA_TYPE_OHTTP_CHUNKED_REQ, (_r, payload, done) => done(null, payload));

  scope.get<{ Querystring: { nonce?: string } }>("/attestation", async (req, reply) => {
    try {
      const nonce = req.query.nonce;
      if (nonce === undefined) return await reply.header("cache-control", "no-store").send(o.ring.bundle());
      const re = new RegExp(`^(?:[0-9a-f]{2}){${NONCE_BYTES.min},${NONCE_BYTES.max}}$`);
      if (typeof nonce !== "string" || !re.test(nonce))
        throw new ConfidentialError(
          "NONCE_INVALID",
          `nonce: ${NONCE_BYTES.min}..${NONCE_BYTES.max} bytes of lower-case hex`,
        );
      if (!takeNonce())
        throw new ConfidentialError("NONCE_RATE_LIMITED", `at most ${o.noncesPerMinute} nonce bundles a minute`);
      const bundle = await o.ring.bundleForNonce(Buffer.from(nonce, "hex"));
      return await reply.header("cache-control", "no-store").send(bundle);
    } catch (e) {
      return problem(req, reply, e);
    }
  });

  scope.get("/ohttp-keys", async (_req, reply) =>
    reply
      .type(MEDIA_TYPE_OHTTP_KEYS)
      .header("cache-control", "no-store")
      .send(Buffer.from(encodeKeyConfigs(o.ring.keys().map((k) => k.config)))),
  );

  const checkReplay = (keyId: number | undefined, enc: Uint8Array | undefined) => {
    const expiresAt = keyId === undefined ? undefined : o.ring.expiryOf(keyId);
    if (keyId === undefined || enc === undefined || expiresAt === undefined)
      throw new OhttpError("OHTTP_KEY_ID_UNKNOWN", "request.key_id", "the key expired");
    if (!o.replay.record(keyId, expiresAt, enc))
      throw new ConfidentialError("OHTTP_REPLAYED", "this encapsulated request was already received");
  };

  scope.post("/ohttp", async (req, reply) => {
    try {
      const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
      if (type === MEDIA_TYPE_OHTTP_REQ) {
        const opened = await decapsulateRequest(o.ring.keys(), req.body as Buffer, { maxBytes: o.bodyLimit });
        checkReplay(opened.keyId, opened.enc);
        const inner = decodeBhttpRequest(opened.request);
        const answer = await plainAnswer(inner, req.id, o.dispatch);
        return await reply
          .type(MEDIA_TYPE_OHTTP_RES)
          .header("cache-control", "no-store")
          .send(Buffer.from(await opened.sealResponse(answer)));
      }
      const decoder = new ChunkedRequestDecoder(o.ring.keys(), { maxBytes: o.bodyLimit });
      const parts: Uint8Array[] = [];
      for await (const bytes of readLimited(req.body as AsyncIterable<Buffer>, o.bodyLimit))
        parts.push(...(await decoder.push(bytes)));
      parts.push(await decoder.finish());
      checkReplay(decoder.keyId, decoder.enc);
      const inner = decodeBhttpRequest(Buffer.concat(parts));
      const encoder = await decoder.createResponseEncoder();
      const options = injectOptionsOf(inner, req.id, true);
      // The relay (or the client) going away aborts the request inside too, so a generation stops at its next step.
      const gone = new AbortController();
      o.aborts?.set(req.id, gone.signal);
      reply.raw.once("close", () => {
        o.aborts?.delete(req.id);
        if (!reply.raw.writableFinished) gone.abort();
      });
      const res = options === undefined ? undefined : await o.dispatch({ ...options, signal: gone.signal });
      async function* sealed(): AsyncGenerator<Uint8Array> {
        yield encoder.header;
        if (res === undefined) {
          yield await encoder.finish(encodeBhttpResponse(notFoundResponse(), { framing: "indeterminate" }));
          return;
        }
        yield await encoder.push(
          encodeBhttpResponseHead({ status: res.statusCode, headers: responseFields(res.headers) }),
        );
        for await (const data of res.stream() as AsyncIterable<Buffer>) {
          const piece = await encoder.push(encodeBhttpContentChunk(data));
          if (piece.length > 0) yield piece;
        }
        yield await encoder.finish(encodeBhttpEnd());
      }
      return await reply
        .type(MEDIA_TYPE_OHTTP_CHUNKED_RES)
        .header("cache-control", "no-store")
        .send(Readable.from(sealed()));
    } catch (e) {
      return problem(req, reply, e);
    }
  });
}

/** Dispatches a decapsulated request and encodes the whole answer (known-length Binary HTTP). */
async function plainAnswer(
  inner: BhttpRequest,
  requestId: string,
  dispatch: ConfidentialOptions["dispatch"],
): Promise<Uint8Array> {
  const options = injectOptionsOf(inner, requestId, false);
  if (options === undefined) return encodeBhttpResponse(notFoundResponse());
  const res = await dispatch(options);
  return encodeBhttpResponse({
    status: res.statusCode,
    headers: responseFields(res.headers),
    content: res.rawPayload,
    trailers: [],
  });
}
