/**
 * The inference runtime's HTTP error table for the shared mapping (runtime/http): each code's status,
 * and Fastify's own failures (body limit, media type, JSON, schema validation) as our stable codes.
 * Answers use the OIP error JSON (`{ "error": message, "code": CODE }`).
 */
import { type HttpErrorTable, validationMessage } from "../../http/index.js";
import { INFERENCE_ERROR_STATUS, InferenceError, type InferenceErrorCode } from "../errors.js";

/** How the runtime maps errors to replies. */
export const INFERENCE_HTTP_ERRORS: HttpErrorTable<InferenceErrorCode> = {
  errorClass: InferenceError,
  status: INFERENCE_ERROR_STATUS,
  fastify: {
    FST_ERR_CTP_BODY_TOO_LARGE: { code: "BODY_TOO_LARGE", message: "body: larger than the limit" },
    FST_ERR_CTP_INVALID_MEDIA_TYPE: {
      code: "UNSUPPORTED_MEDIA_TYPE",
      message:
        "content-type: must be application/json (or application/octet-stream with Inference-Header-Content-Length)",
    },
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: "INVALID_REQUEST", message: "content-length: does not match the body" },
    FST_ERR_CTP_EMPTY_JSON_BODY: { code: "MALFORMED_JSON", message: "body: empty" },
    FST_ERR_CTP_INVALID_JSON_BODY: { code: "MALFORMED_JSON", message: "body: not valid JSON" },
  },
  validation: (failure) => ({
    code: "INVALID_REQUEST",
    message: validationMessage(failure),
    problems: failure.problems,
  }),
  badRequest: { code: "MALFORMED_JSON", message: "body: not valid JSON" },
  notFound: { code: "ROUTE_NOT_FOUND", message: "no such route" },
};

/** Codes whose 5xx is load or lifecycle, not a failure worth an error log line. */
export const QUIET_CODES: ReadonlySet<string> = new Set<InferenceErrorCode>([
  "QUEUE_FULL",
  "SHUTTING_DOWN",
  "MODEL_NOT_READY",
]);
