/**
 * Errors of the gateway (STYLE rules 8-9): stable codes mapped to HTTP statuses; answers use the Open Inference
 * Protocol error JSON (`{ "error": message, "code": CODE }`). Errors from a runtime are passed through as they are.
 */
import { CodedError, type Problem } from "../../core/index.js";

/** Every gateway error code, in documentation order. */
export const GATEWAY_ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN_MODEL",
  "RATE_LIMITED",
  "BODY_TOO_LARGE",
  "INVALID_REQUEST",
  "UNSUPPORTED_MEDIA_TYPE",
  "ROUTE_NOT_FOUND",
  "MODEL_NOT_FOUND",
  "UPSTREAM_UNTRUSTED",
  "UPSTREAM_UNAVAILABLE",
  "UPSTREAM_TIMEOUT",
  "INTERNAL",
  "CONFIG_INVALID",
  "BROKER_CA_REJECTED",
] as const;

/** Stable error codes of `runtime/gateway`. */
export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

/** HTTP status for each code (`CONFIG_INVALID` and `BROKER_CA_REJECTED` are never sent to a client). */
export const GATEWAY_ERROR_STATUS: Readonly<Record<GatewayErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN_MODEL: 403,
  RATE_LIMITED: 429,
  BODY_TOO_LARGE: 413,
  INVALID_REQUEST: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ROUTE_NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  UPSTREAM_UNTRUSTED: 502,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
  INTERNAL: 500,
  CONFIG_INVALID: 500,
  BROKER_CA_REJECTED: 500,
};

/** One line per code (docs/errors.md is generated from it). */
export const GATEWAY_ERROR_MEANINGS: Readonly<Record<GatewayErrorCode, string>> = {
  UNAUTHENTICATED: "no valid API key or client certificate",
  FORBIDDEN_MODEL: "the client may not use this model",
  RATE_LIMITED: "the client's rate limit is exhausted (`Retry-After`)",
  BODY_TOO_LARGE: "body above the gateway limit",
  INVALID_REQUEST: "`/v1` (dev plaintext API): the body is not a JSON object naming its `model`",
  UNSUPPORTED_MEDIA_TYPE: "content type other than `application/json` or `application/octet-stream` (binary extension)",
  ROUTE_NOT_FOUND: "no such path",
  MODEL_NOT_FOUND: "no runtime is configured for the model",
  UPSTREAM_UNTRUSTED: "every runtime for the model failed TLS verification against the broker CA (not attested)",
  UPSTREAM_UNAVAILABLE: "no runtime reachable (refused, reset, or it refused the gateway's certificate)",
  UPSTREAM_TIMEOUT: "the runtime did not answer in time",
  INTERNAL: "any other failure (fixed message, nothing forwarded)",
  CONFIG_INVALID: "start-up: the config file is invalid (`problems` lists every field path); never sent to a client",
  BROKER_CA_REJECTED:
    "a published broker CA bundle was refused (not signed with the pinned publication key, malformed, not CA certificates, or older than the bundle in use); the gateway keeps its current trust; logged, never sent to a client",
};

/** A gateway failure with a stable code; `cause` is forwarded (never shown to clients). */
export class GatewayError extends CodedError<GatewayErrorCode> {
  /** Seconds for `Retry-After`; absent means no header. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: GatewayErrorCode,
    message: string,
    options: {
      readonly cause?: unknown;
      readonly retryAfterSeconds?: number;
      readonly problems?: readonly Problem[];
    } = {},
  ) {
    super(code, message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return GATEWAY_ERROR_STATUS[this.code];
  }
}

/** True when `e` is a {@link GatewayError} (optionally with the given code). */
export function isGatewayError(e: unknown, code?: GatewayErrorCode): e is GatewayError {
  return e instanceof GatewayError && (code === undefined || e.code === code);
}
