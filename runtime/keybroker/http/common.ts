/**
 * Shared HTTP plumbing of the two listeners: problem bodies for every error (STYLE.md rule 9),
 * fastify's own errors mapped to our codes, and request logs with metadata only (route pattern,
 * status, duration, code: never headers, cookies, bodies or tokens).
 */
import type { FastifyError, FastifyInstance } from "fastify";
import { KeyBrokerError, problemOf } from "../errors.js";

/** Maps a fastify framework error to a KeyBrokerError (others pass through). */
export function fromFastifyError(e: unknown): unknown {
  const code = (e as FastifyError | undefined)?.code;
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new KeyBrokerError("BODY_TOO_LARGE", "request body too large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new KeyBrokerError("MEDIA_TYPE_UNSUPPORTED", "unsupported Content-Type");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new KeyBrokerError("BODY_MALFORMED", "request body is not valid JSON");
    case "FST_ERR_VALIDATION":
      return new KeyBrokerError("BODY_INVALID", `invalid request: ${(e as FastifyError).message.slice(0, 200)}`);
    default:
      return e;
  }
}

/** Installs the error handler, the not-found handler and metadata-only request logging. */
export function installCommon(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const mapped = fromFastifyError(err);
    const { status, body } = problemOf(mapped);
    if (status >= 500) req.log.error({ code: body.code, route: req.routeOptions.url, err: mapped }, "request failed");
    void reply.code(status).type("application/json").send(body);
  });
  app.setNotFoundHandler((_req, reply) => {
    const { status, body } = problemOf(new KeyBrokerError("ROUTE_NOT_FOUND", "no such endpoint"));
    void reply.code(status).type("application/json").send(body);
  });
  app.addHook("onResponse", async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        route: req.routeOptions.url ?? "(none)",
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      "request",
    );
  });
}

/** Value of one cookie from a Cookie header, or undefined. */
export function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
