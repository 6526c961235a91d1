/**
 * The key broker's HTTP error table for the shared mapping (runtime/http) and its wire format: an RFC 7807
 * problem body (the KBS `ErrorInformation` `type` and `detail`, plus our `code`, `driftClass`, `problems`).
 */
import { httpErrorReply, type HttpErrorReply, type HttpErrorTable } from "../../http/index.js";
import { KEY_BROKER_ERROR_STATUS, KeyBrokerError, PROBLEM_TYPE_PREFIX, type KeyBrokerErrorCode } from "../errors.js";

/** How both listeners (KBS and admin) map errors to replies. */
export const KEY_BROKER_HTTP_ERRORS: HttpErrorTable<KeyBrokerErrorCode> = {
  errorClass: KeyBrokerError,
  status: KEY_BROKER_ERROR_STATUS,
  fastify: {
    FST_ERR_CTP_BODY_TOO_LARGE: { code: "BODY_TOO_LARGE", message: "request body too large" },
    FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: "MEDIA_TYPE_UNSUPPORTED", message: "unsupported Content-Type" },
    FST_ERR_CTP_INVALID_JSON_BODY: { code: "BODY_MALFORMED", message: "request body is not valid JSON" },
    FST_ERR_CTP_EMPTY_JSON_BODY: { code: "BODY_MALFORMED", message: "request body is not valid JSON" },
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: "BODY_MALFORMED", message: "request body is not valid JSON" },
  },
  validation: (failure) => ({
    code: "BODY_INVALID",
    message: `invalid request: ${failure.message.slice(0, 200)}`,
    problems: failure.problems,
  }),
  notFound: { code: "ROUTE_NOT_FOUND", message: "no such endpoint" },
};

/** RFC 7807 problem body sent for an error (KBS `ErrorInformation` plus `code`). */
export interface ProblemBody {
  readonly type: string;
  readonly detail: string;
  readonly code: KeyBrokerErrorCode;
  readonly driftClass?: string;
  readonly problems?: readonly { readonly path: string; readonly message: string }[];
}

/** Shapes a mapped failure as a problem body (`driftClass` and `problems` only when they apply). */
export function problemBody(reply: HttpErrorReply<KeyBrokerErrorCode>): ProblemBody {
  const driftClass = reply.error instanceof KeyBrokerError ? reply.error.driftClass : undefined;
  return {
    type: PROBLEM_TYPE_PREFIX + reply.code,
    detail: reply.message,
    code: reply.code,
    ...(driftClass === undefined ? {} : { driftClass }),
    ...(reply.problems.length === 0 ? {} : { problems: reply.problems }),
  };
}

/**
 * Status and problem body for any error; unknown errors become `INTERNAL` with a fixed message.
 *
 * @example problemOf(new KeyBrokerError("NONCE_REUSED", "challenge already answered")).status // 401
 */
export function problemOf(e: unknown): { status: number; body: ProblemBody } {
  const reply = httpErrorReply(KEY_BROKER_HTTP_ERRORS, e);
  return { status: reply.status, body: problemBody(reply) };
}
