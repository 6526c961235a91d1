/**
 * Shared HTTP plumbing of the two listeners: problem bodies for every error (STYLE.md rule 9),
 * fastify's own errors mapped to our codes, and request logs with metadata only (route pattern,
 * status, duration, code: never headers, cookies, bodies or tokens).
 */
import type { FastifyInstance } from "fastify";
import { installErrorReplies } from "../../http/index.js";
import { KEY_BROKER_HTTP_ERRORS, problemBody } from "./problem.js";

/** Installs the shared error mapping (problem bodies), the not-found handler and metadata-only request logging. */
export function installCommon(app: FastifyInstance): void {
  installErrorReplies(app, {
    table: KEY_BROKER_HTTP_ERRORS,
    body: problemBody,
    contentType: "application/json",
    onError: (req, r, err) => {
      if (r.status >= 500) req.log.error({ code: r.code, route: req.routeOptions.url, err }, "request failed");
    },
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
