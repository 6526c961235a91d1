/**
 * Errors of the inference runtime (STYLE rules 8-9). Every failure has a stable `code`; the HTTP layer maps
 * each code to a status with `INFERENCE_ERROR_STATUS` and answers with the Open Inference Protocol error JSON
 * (`{ "error": message, "code": CODE }`). Messages name the field at fault and never echo input values.
 */

import { CodedError, type Problem } from "../../core/errors.js";

/** Stable error codes of `runtime/inference`. */
export type InferenceErrorCode =
  | "MALFORMED_JSON"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "BODY_TOO_LARGE"
  | "INVALID_REQUEST"
  | "UNKNOWN_INPUT"
  | "MISSING_INPUT"
  | "DATATYPE_MISMATCH"
  | "SHAPE_MISMATCH"
  | "DATA_SIZE_MISMATCH"
  | "UNKNOWN_OUTPUT"
  | "TOO_MANY_TOKENS"
  | "BATCH_TOO_LARGE"
  | "MODEL_NOT_FOUND"
  | "ROUTE_NOT_FOUND"
  | "MODEL_NOT_READY"
  | "QUEUE_FULL"
  | "REQUEST_TIMEOUT"
  | "SHUTTING_DOWN"
  | "INFERENCE_FAILED"
  | "INTERNAL"
  | "MODEL_CONTAINER_MALFORMED"
  | "MODEL_DECRYPT_FAILED"
  | "MODEL_SIGNATURE_INVALID"
  | "MODEL_DIGEST_MISMATCH"
  | "MODEL_LOAD_FAILED"
  | "TOKENIZER_INVALID"
  | "KEY_RELEASE_FAILED"
  | "CONFIG_INVALID";

/** HTTP status for each code. Boot-time codes (model, tokenizer, key release, config) never reach a client. */
export const INFERENCE_ERROR_STATUS: Readonly<Record<InferenceErrorCode, number>> = {
  MALFORMED_JSON: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BODY_TOO_LARGE: 413,
  INVALID_REQUEST: 400,
  UNKNOWN_INPUT: 400,
  MISSING_INPUT: 400,
  DATATYPE_MISMATCH: 400,
  SHAPE_MISMATCH: 400,
  DATA_SIZE_MISMATCH: 400,
  UNKNOWN_OUTPUT: 400,
  TOO_MANY_TOKENS: 400,
  BATCH_TOO_LARGE: 400,
  MODEL_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  MODEL_NOT_READY: 503,
  QUEUE_FULL: 503,
  REQUEST_TIMEOUT: 504,
  SHUTTING_DOWN: 503,
  INFERENCE_FAILED: 500,
  INTERNAL: 500,
  MODEL_CONTAINER_MALFORMED: 500,
  MODEL_DECRYPT_FAILED: 500,
  MODEL_SIGNATURE_INVALID: 500,
  MODEL_DIGEST_MISMATCH: 500,
  MODEL_LOAD_FAILED: 500,
  TOKENIZER_INVALID: 500,
  KEY_RELEASE_FAILED: 500,
  CONFIG_INVALID: 500,
};

/** Every `InferenceErrorCode`, in declaration order. */
export const INFERENCE_ERROR_CODES = Object.keys(INFERENCE_ERROR_STATUS) as InferenceErrorCode[];

/** An inference runtime failure with a stable code; `cause` is forwarded (never shown to clients). */
export class InferenceError extends CodedError<InferenceErrorCode> {
  /** Seconds a client should wait before retrying (sent as `Retry-After`); absent means no hint. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: InferenceErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number; problems?: readonly Problem[] } = {},
  ) {
    super(code, message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return INFERENCE_ERROR_STATUS[this.code];
  }
}

/** True when `e` is an `InferenceError` (optionally with the given code). */
export function isInferenceError(e: unknown, code?: InferenceErrorCode): e is InferenceError {
  return e instanceof InferenceError && (code === undefined || e.code === code);
}
