/**
 * Installs the shared error mapping on a Fastify app: one error handler and one not-found handler, each
 * sending the app's own wire format (the body shape is a parameter; the mapping is not).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { httpErrorReply, notFoundReply, type HttpErrorReply, type HttpErrorTable } from "./error-reply.js";

/** Options of {@link installErrorReplies}. */
export interface ErrorReplyOptions<C extends string> {
  /** The app's codes, statuses and Fastify mapping. */
  readonly table: HttpErrorTable<C>;
  /** Shapes the body the app sends (its wire format: RFC 7807 problem, OIP error JSON, ...). */
  readonly body: (reply: HttpErrorReply<C>) => object;
  /** Sets the reply's Content-Type; absent leaves Fastify's (`application/json; charset=utf-8`). */
  readonly contentType?: string;
  /**
   * Called for every failure before the reply is sent, with the original error (`undefined` for an unknown
   * route): the app's logging and request labels. It must not throw.
   */
  readonly onError?: (req: FastifyRequest, reply: HttpErrorReply<C>, err: unknown) => void;
}

/**
 * Maps every error and unknown route of `app` to a status and the app's body; unknown errors become
 * `INTERNAL` 500 with a fixed message. A `retryAfterSeconds` on the error becomes `Retry-After`.
 *
 * @example
 * installErrorReplies(app, { table: INFERENCE_HTTP_ERRORS, body: oipErrorBody });
 */
export function installErrorReplies<C extends string>(app: FastifyInstance, options: ErrorReplyOptions<C>): void {
  const send = (req: FastifyRequest, reply: FastifyReply, r: HttpErrorReply<C>, err: unknown) => {
    options.onError?.(req, r, err);
    if (r.retryAfterSeconds !== undefined) void reply.header("retry-after", String(r.retryAfterSeconds));
    if (options.contentType !== undefined) void reply.type(options.contentType);
    return reply.code(r.status).send(options.body(r));
  };
  app.setErrorHandler((err, req, reply) => send(req, reply, httpErrorReply(options.table, err), err));
  app.setNotFoundHandler((req, reply) => send(req, reply, notFoundReply(options.table), undefined));
}

/** The Open Inference Protocol error JSON (`{ "error": message, "code": CODE }`) of the runtime and the gateway. */
export function oipErrorBody(reply: HttpErrorReply<string>): { error: string; code: string } {
  return { error: reply.message, code: reply.code };
}
