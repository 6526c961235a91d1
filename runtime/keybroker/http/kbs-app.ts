/**
 * The KBS listener (app factory, STYLE.md rule 5): Trustee's HTTP binding of the KBS attestation
 * protocol. Only main.ts listens; tests use `inject()` or listen on loopback themselves.
 *
 *   POST /kbs/v0/auth                                Request -> Challenge + Set-Cookie kbs-session-id
 *   POST /kbs/v0/attest                              Attestation (+ cookie) -> { token [, runtime-certificate] }
 *   GET  /kbs/v0/resource/{repository}/{type}/{tag}  bearer token or cookie -> JWE (flattened JSON)
 *   GET  /healthz                                    200, or 503 HSM_UNAVAILABLE while the HSM is away
 */
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { listenerTimeouts } from "../../../core/index.js";
import type { KeyBroker } from "../broker.js";
import { KeyBrokerError } from "../errors.js";
import { problemOf } from "./problem.js";
import { kbsAttest } from "../kbs/attest.js";
import { kbsAuth } from "../kbs/auth.js";
import { kbsResource } from "../kbs/resource.js";
import { CERTIFICATE_PARAM, SESSION_COOKIE } from "../../kbs-protocol/index.js";
import { cookie, installCommon } from "./common.js";

/** Options of buildKbsApp. */
export interface KbsAppOptions {
  /** TLS key and certificate (PEM); absent: plain HTTP (tests with inject only). */
  readonly https?: { readonly key: string; readonly cert: string };
}

const objectBody = { body: { type: "object" } } as const;
const resourceParams = {
  params: {
    type: "object",
    required: ["repository", "type", "tag"],
    properties: {
      repository: { type: "string", maxLength: 64 },
      type: { type: "string", maxLength: 64 },
      tag: { type: "string", maxLength: 128 },
    },
  },
} as const;

function sessionCookie(id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/kbs/v0; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

/**
 * Builds the KBS app (not listening).
 *
 * @example
 * const app = buildKbsApp(broker, { https: broker.listenerTls() });
 * await app.listen({ host: "127.0.0.1", port: 8444 });
 */
export function buildKbsApp(broker: KeyBroker, options: KbsAppOptions = {}): FastifyInstance {
  const t = listenerTimeouts(broker.config.timeouts);
  const app = Fastify({
    loggerInstance: broker.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: broker.config.limits.bodyBytes,
    return503OnClosing: true,
    ...t.fastify,
    ...(options.https
      ? {
          https: {
            key: options.https.key,
            cert: options.https.cert,
            minVersion: "TLSv1.2" as const,
            ...t.server,
            ...t.tls,
          },
        }
      : { http: { ...t.server } }),
  }) as unknown as FastifyInstance;
  installCommon(app);
  const cookieAge = broker.config.ttl.nonceSeconds + broker.config.ttl.tokenSeconds;

  app.post("/kbs/v0/auth", { schema: objectBody }, async (req, reply) => {
    const { sessionId, challenge } = await kbsAuth(broker, req.body, { peer: req.ip });
    void reply.header("set-cookie", sessionCookie(sessionId, cookieAge)).type("application/json");
    return challenge;
  });

  app.post("/kbs/v0/attest", { schema: objectBody }, async (req, reply) => {
    const sessionId = cookie(req.headers.cookie, SESSION_COOKIE);
    const { token, certificate } = await kbsAttest(broker, sessionId, req.body, { peer: req.ip });
    void reply.header("set-cookie", sessionCookie(sessionId as string, cookieAge)).type("application/json");
    return certificate ? { token, [CERTIFICATE_PARAM]: certificate } : { token };
  });

  app.get<{ Params: { repository: string; type: string; tag: string } }>(
    "/kbs/v0/resource/:repository/:type/:tag",
    { schema: resourceParams },
    async (req, reply) => {
      const authz = req.headers.authorization;
      const bearer = authz?.startsWith("Bearer ") ? authz.slice(7).trim() : undefined;
      const sessionId = cookie(req.headers.cookie, SESSION_COOKIE);
      const jwe = await kbsResource(
        broker,
        { ...(bearer ? { bearer } : {}), ...(sessionId ? { sessionId } : {}) },
        req.params.repository,
        req.params.type,
        req.params.tag,
        { peer: req.ip },
      );
      void reply.type("application/json");
      return jwe;
    },
  );

  app.get("/healthz", async (_req, reply) => {
    if (!broker.hsm.available) {
      const { status, body } = problemOf(
        new KeyBrokerError("HSM_UNAVAILABLE", "HSM unavailable; retrying in the background"),
      );
      return reply.code(status).type("application/json").send(body);
    }
    return { status: "ok", epoch: broker.epoch() };
  });

  return app;
}
