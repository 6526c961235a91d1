/**
 * The gateway as an Oblivious HTTP relay (RFC 9458 section 2): routes that authenticate the client,
 * rate-limit and route by model and runtime exactly like the plaintext API, then pass opaque bodies
 * to and from a runtime's confidential endpoint. The gateway holds no key that opens them; it
 * parses nothing but the public bundles it lists, and logs metadata only.
 *
 *   GET  /v1/attestation/{model}                    { model, runtimes: [{ id, bundle }] }
 *   GET  /v1/attestation/{model}/{runtime}[?nonce=] one runtime's bundle (fresh for a nonce)
 *   GET  /v1/ohttp-keys/{model}/{runtime}           application/ohttp-keys
 *   POST /v1/ohttp/{model}/{runtime}                message/ohttp-req | message/ohttp-chunked-req
 *
 * A runtime's id is the first 16 hex of SHA-256 of its URL in the gateway config: stable across
 * gateway replicas with the same config, and meaningless elsewhere.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Transform } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatewayError } from "./errors.js";
import type { RelayClient } from "./relay-client.js";
import type { Upstream } from "./upstream.js";

/** What the relay routes need from the gateway. */
export interface RelayContext {
  readonly relay: RelayClient;
  /**
   * Authenticates the client, applies its rate limit and model permission, and returns the model's runtimes.
   * @throws GatewayError `UNAUTHENTICATED`, `RATE_LIMITED`, `MODEL_NOT_FOUND`, `FORBIDDEN_MODEL`.
   */
  readonly admit: (req: FastifyRequest, model: string) => readonly Upstream[];
  /** Largest encapsulated request in bytes. */
  readonly bodyLimit: number;
}

/** The runtime's id in the relay's URLs. */
export function runtimeId(upstream: Upstream): string {
  return createHash("sha256").update(upstream.url).digest("hex").slice(0, 16);
}

const MODEL = { type: "string", minLength: 1, maxLength: 128 } as const;
const RUNTIME = { type: "string", pattern: "^[0-9a-f]{16}$" } as const;
const modelParams = { type: "object", required: ["model"], properties: { model: MODEL } } as const;
const runtimeParams = {
  type: "object",
  required: ["model", "runtime"],
  properties: { model: MODEL, runtime: RUNTIME },
} as const;
const BUNDLE_LIMIT = 1024 * 1024;
/** Largest answer relayed in one piece (a `message/ohttp-res`, bounded by the client's own limit). */
const ANSWER_LIMIT = 16 * 1024 * 1024 + 1024;

type RuntimeRequest = FastifyRequest<{ Params: { model: string; runtime: string } }>;

async function readAll(res: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    total += c.length;
    if (total > max) {
      res.destroy();
      return undefined;
    }
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/** Passes bytes through, failing once more than `max` went by. */
function limit(max: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > max) cb(new GatewayError("BODY_TOO_LARGE", "body: larger than the limit"));
      else cb(null, chunk);
    },
  });
}

/** Registers the relay routes (an encapsulated plugin: its own body parsers). */
export async function relayRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  app.addContentTypeParser("message/ohttp-req", { parseAs: "buffer", bodyLimit: ctx.bodyLimit }, (_r, body, done) =>
    done(null, body),
  );
  app.addContentTypeParser("message/ohttp-chunked-req", (_r, payload, done) => done(null, payload));

  const upstreamOf = (req: RuntimeRequest): Upstream => {
    const upstream = ctx.admit(req, req.params.model).find((u) => runtimeId(u) === req.params.runtime);
    if (upstream === undefined) throw new GatewayError("MODEL_NOT_FOUND", "no such runtime serves this model");
    req.gw.upstream = new URL(upstream.url).host;
    return upstream;
  };

  /**
   * Sends the runtime's answer on, unread: a chunked OHTTP answer streams as the runtime writes it;
   * anything else (a whole encapsulated answer, a bundle, an error in clear) is passed in one piece.
   */
  const passOn = async (req: FastifyRequest, reply: FastifyReply, res: IncomingMessage) => {
    req.gw.code = (res.statusCode ?? 502) < 400 ? "OK" : `HTTP_${res.statusCode}`;
    const retry = res.headers["retry-after"];
    if (typeof retry === "string") void reply.header("retry-after", retry);
    const type = res.headers["content-type"] ?? "application/octet-stream";
    void reply
      .code(res.statusCode ?? 502)
      .type(type)
      .header("cache-control", "no-store");
    if (type === "message/ohttp-chunked-res") return reply.send(res);
    const body = await readAll(res, ANSWER_LIMIT);
    if (body === undefined)
      throw new GatewayError("UPSTREAM_UNAVAILABLE", "the runtime's answer exceeds the relay limit");
    return reply.send(body);
  };

  app.get<{ Params: { model: string } }>("/v1/attestation/:model", { schema: { params: modelParams } }, async (req) => {
    const upstreams = ctx.admit(req, req.params.model);
    const listed = await Promise.all(
      upstreams.map(async (u) => {
        try {
          const res = await ctx.relay.open(u, {
            method: "GET",
            path: "/attestation",
            headers: { accept: "application/json", "x-request-id": req.id },
          });
          const body = await readAll(res, BUNDLE_LIMIT);
          if (res.statusCode !== 200 || body === undefined) return undefined;
          return { id: runtimeId(u), bundle: JSON.parse(body.toString("utf8")) as unknown };
        } catch {
          return undefined;
        }
      }),
    );
    const runtimes = listed.filter((r) => r !== undefined);
    if (runtimes.length === 0)
      throw new GatewayError("UPSTREAM_UNAVAILABLE", "no runtime of this model published an attestation bundle");
    return { model: req.params.model, runtimes };
  });

  app.get(
    "/v1/attestation/:model/:runtime",
    { schema: { params: runtimeParams } },
    async (req: RuntimeRequest, reply) => {
      const query = req.url.includes("?") ? req.url.slice(req.url.indexOf("?")) : "";
      const res = await ctx.relay.open(upstreamOf(req), {
        method: "GET",
        path: `/attestation${query}`,
        headers: { accept: "application/json", "x-request-id": req.id },
      });
      return passOn(req, reply, res);
    },
  );

  app.get(
    "/v1/ohttp-keys/:model/:runtime",
    { schema: { params: runtimeParams } },
    async (req: RuntimeRequest, reply) => {
      const res = await ctx.relay.open(upstreamOf(req), {
        method: "GET",
        path: "/ohttp-keys",
        headers: { accept: "application/ohttp-keys", "x-request-id": req.id },
      });
      return passOn(req, reply, res);
    },
  );

  app.post("/v1/ohttp/:model/:runtime", { schema: { params: runtimeParams } }, async (req: RuntimeRequest, reply) => {
    const upstream = upstreamOf(req);
    const type = String(req.headers["content-type"] ?? "")
      .split(";")[0]!
      .trim();
    const chunked = type === "message/ohttp-chunked-req";
    const body = chunked ? (req.body as IncomingMessage).pipe(limit(ctx.bodyLimit)) : (req.body as Buffer);
    const res = await ctx.relay.open(upstream, {
      method: "POST",
      path: "/ohttp",
      headers: { "content-type": type, "x-request-id": req.id, ...(chunked ? { "transfer-encoding": "chunked" } : {}) },
      body,
    });
    return passOn(req, reply, res);
  });
}
