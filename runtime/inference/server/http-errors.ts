/**
 * Maps any error thrown while handling a request to the OIP error JSON (`{ "error": message, "code": CODE }`)
 * and a status. Fastify's own errors (body limit, media type, schema validation) get our stable codes; anything
 * unknown becomes `INTERNAL` with a fixed message (foreign messages may quote input).
 */
import { INFERENCE_ERROR_STATUS, InferenceError, type InferenceErrorCode } from "../errors.js";

/** What the error handler sends. */
export interface HttpErrorReply {
  readonly status: number;
  readonly code: InferenceErrorCode;
  readonly message: string;
  /** Seconds for `Retry-After`; absent means no header. */
  readonly retryAfterSeconds?: number;
}

const FASTIFY_CODES: Readonly<Record<string, [InferenceErrorCode, string]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ["BODY_TOO_LARGE", "body: larger than the limit"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    "UNSUPPORTED_MEDIA_TYPE",
    "content-type: must be application/json (or application/octet-stream with Inference-Header-Content-Length)",
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["INVALID_REQUEST", "content-length: does not match the body"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["MALFORMED_JSON", "body: empty"],
  FST_ERR_CTP_INVALID_JSON_BODY: ["MALFORMED_JSON", "body: not valid JSON"],
};

/** Converts an error to the reply the client sees. */
export function toHttpError(err: unknown): HttpErrorReply {
  if (err instanceof InferenceError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    };
  }
  const e = err as {
    code?: unknown;
    validation?: Array<{ instancePath?: string; message?: string }>;
    validationContext?: string;
    statusCode?: number;
  } | null;
  if (e && Array.isArray(e.validation)) {
    const where = e.validationContext ?? "body";
    const message = e.validation
      .map((v) => `${where}${(v.instancePath ?? "").replace(/\//g, ".")}: ${v.message ?? "invalid"}`)
      .join("; ");
    return { status: 400, code: "INVALID_REQUEST", message };
  }
  const mapped = e && typeof e.code === "string" ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return { status: INFERENCE_ERROR_STATUS[mapped[0]], code: mapped[0], message: mapped[1] };
  if (e instanceof SyntaxError || e?.statusCode === 400)
    return { status: 400, code: "MALFORMED_JSON", message: "body: not valid JSON" };
  return { status: 500, code: "INTERNAL", message: "internal error" };
}
