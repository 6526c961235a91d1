/**
 * Structured logging (pino) with redaction: request metadata only. Paths that could carry credentials or
 * request content are censored even if a caller logs them by mistake; errors are reduced to `{ type, code }`
 * because messages of foreign errors may quote input.
 */
import pino, { type DestinationStream, type Logger } from "pino";

/** Paths censored in every log line (credentials, bodies, tensors, text). */
export const REDACTED_PATHS: readonly string[] = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  "headers.authorization",
  "headers.cookie",
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  "authorization",
  "apiKey",
  "body",
  "req.body",
  "res.body",
  "payload",
  "inputs",
  "outputs",
  "data",
  "text",
  "prompt",
  "*.body",
  "*.inputs",
  "*.outputs",
  "*.data",
  "*.text",
  "*.prompt",
  "*.apiKey",
  "*.authorization",
  "key",
  "*.key",
];

/** Reduces an error to fields that cannot carry request content. */
export function errorFields(err: unknown): { type: string; code?: string } {
  if (err && typeof err === "object") {
    const e = err as { name?: unknown; code?: unknown; constructor?: { name?: string } };
    const type = typeof e.name === "string" ? e.name : (e.constructor?.name ?? "Error");
    return typeof e.code === "string" ? { type, code: e.code } : { type };
  }
  return { type: typeof err };
}

/**
 * Creates a service logger (`service` is added to every line). `destination` defaults to stdout; tests pass a
 * stream to capture lines.
 *
 * @example
 * const log = createLogger({ service: "inference", level: "info" });
 * log.info({ reqId, model: "sentiment", status: 200, ms: 3.2 }, "request");
 */
export function createLogger(opts: { service: string; level?: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level ?? "info",
      base: { service: opts.service },
      redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" },
      serializers: { err: errorFields, error: errorFields },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination({ sync: false }),
  );
}
