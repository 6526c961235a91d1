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
  readonly body: (reply: HttpErrorReply<C>, req: FastifyRequest) => object;
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
    return reply.code(r.status).send(options.body(r, req));
  };
  app.setErrorHandler((err, req, reply) => send(req, reply, httpErrorReply(options.table, err), err));
  app.setNotFoundHandler((req, reply) => send(req, reply, notFoundReply(options.table), undefined));
}

/** The Open Inference Protocol error JSON (`{ "error": message, "code": CODE }`) of the runtime and the gateway. */
export function oipErrorBody(reply: HttpErrorReply<string>): { error: string; code: string } {
  return { error: reply.message, code: reply.code };
}

/** True for the OpenAI-compatible API's paths (their errors use OpenAI's error object). */
export function isOpenAiPath(url: string): boolean {
  return /^\/v1\/(chat\/completions|completions|embeddings|models)(\/|\?|$)/.test(url);
}

/** OpenAI's `type` for a status. */
function openAiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "invalid_request_error";
  if (status === 429) return "rate_limit_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

/**
 * OpenAI's error object: `{ error: { message, type, param, code } }`; `code` is our stable code in lower case
 * (`context_length_exceeded`, `model_not_found`, ...), `param` the first problem's field.
 */
export function openAiErrorBody(reply: HttpErrorReply<string>): {
  error: { message: string; type: string; param: string | null; code: string };
} {
  const path = reply.problems[0]?.path;
  return {
    error: {
      message: reply.message,
      type: openAiType(reply.status),
      param: path === undefined ? null : path.replace(/^body\./, ""),
      code: reply.code.toLowerCase(),
    },
  };
}
