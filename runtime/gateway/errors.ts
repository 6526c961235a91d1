/**
 * Errors of the gateway (STYLE rules 8-9): stable codes mapped to HTTP statuses; answers use the Open Inference
 * Protocol error JSON (`{ "error": message, "code": CODE }`). Errors from a runtime are passed through as they are.
 */

/** Stable error codes of `runtime/gateway`. */
export type GatewayErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN_MODEL"
  | "RATE_LIMITED"
  | "BODY_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "ROUTE_NOT_FOUND"
  | "MODEL_NOT_FOUND"
  | "UPSTREAM_UNTRUSTED"
  | "UPSTREAM_UNAVAILABLE"
  | "UPSTREAM_TIMEOUT"
  | "INTERNAL"
  | "CONFIG_INVALID";

/** HTTP status for each code (`CONFIG_INVALID` is a start-up error and never reaches a client). */
export const GATEWAY_ERROR_STATUS: Readonly<Record<GatewayErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN_MODEL: 403,
  RATE_LIMITED: 429,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ROUTE_NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  UPSTREAM_UNTRUSTED: 502,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
  INTERNAL: 500,
  CONFIG_INVALID: 500,
};

/** Every `GatewayErrorCode`, in declaration order. */
export const GATEWAY_ERROR_CODES = Object.keys(GATEWAY_ERROR_STATUS) as GatewayErrorCode[];

/** A gateway failure with a stable code; `cause` is forwarded (never shown to clients). */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  /** Seconds for `Retry-After`; absent means no header. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return GATEWAY_ERROR_STATUS[this.code];
  }
}
