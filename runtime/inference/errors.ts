/**
 * Errors of the inference runtime (STYLE rules 8-9). Every failure has a stable `code`; the HTTP layer maps
 * each code to a status with `INFERENCE_ERROR_STATUS` and answers with the Open Inference Protocol error JSON
 * (`{ "error": message, "code": CODE }`). Messages name the field at fault and never echo input values.
 */

import { CodedError, type Problem } from "../../core/index.js";

/** Every inference runtime error code, in documentation order. */
export const INFERENCE_ERROR_CODES = [
  "MALFORMED_JSON",
  "UNSUPPORTED_MEDIA_TYPE",
  "BODY_TOO_LARGE",
  "INVALID_REQUEST",
  "UNKNOWN_INPUT",
  "MISSING_INPUT",
  "DATATYPE_MISMATCH",
  "SHAPE_MISMATCH",
  "DATA_SIZE_MISMATCH",
  "UNKNOWN_OUTPUT",
  "TOO_MANY_TOKENS",
  "BATCH_TOO_LARGE",
  "CONTEXT_LENGTH_EXCEEDED",
  "INVALID_PARAMETER",
  "INVALID_MESSAGES",
  "MODEL_NOT_FOUND",
  "ROUTE_NOT_FOUND",
  "MODEL_NOT_READY",
  "QUEUE_FULL",
  "REQUEST_TIMEOUT",
  "SHUTTING_DOWN",
  "INFERENCE_FAILED",
  "INTERNAL",
  "MODEL_CONTAINER_MALFORMED",
  "MODEL_DECRYPT_FAILED",
  "MODEL_SIGNATURE_INVALID",
  "MODEL_DIGEST_MISMATCH",
  "MODEL_LOAD_FAILED",
  "TOKENIZER_INVALID",
  "KEY_RELEASE_FAILED",
  "CONFIG_INVALID",
] as const;

/** Stable error codes of `runtime/inference`. */
export type InferenceErrorCode = (typeof INFERENCE_ERROR_CODES)[number];

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
  CONTEXT_LENGTH_EXCEEDED: 400,
  INVALID_PARAMETER: 400,
  INVALID_MESSAGES: 400,
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

/** One line per code (docs/errors.md is generated from it); `boot:` codes end the boot and never reach a client. */
export const INFERENCE_ERROR_MEANINGS: Readonly<Record<InferenceErrorCode, string>> = {
  MALFORMED_JSON: "the body is not JSON",
  UNSUPPORTED_MEDIA_TYPE: "content type other than `application/json` or `application/octet-stream` (binary extension)",
  BODY_TOO_LARGE: "body above the limit (default 1 MiB)",
  INVALID_REQUEST: "the request does not have the OIP structure (field path in the message)",
  UNKNOWN_INPUT: "an input the model does not have",
  MISSING_INPUT: "a required input is absent",
  DATATYPE_MISMATCH: "wrong datatype, or an element of the wrong type or range",
  SHAPE_MISMATCH: "wrong rank or dimension, or batch sizes differ between inputs",
  DATA_SIZE_MISMATCH: "element count does not match the shape",
  UNKNOWN_OUTPUT: "a requested output the model does not have",
  TOO_MANY_TOKENS: "a text longer than the model's sequence length",
  BATCH_TOO_LARGE: "more rows in one request than `maxBatchSize`",
  CONTEXT_LENGTH_EXCEEDED:
    "/v1: prompt tokens plus `max_tokens` exceed the model's context (OpenAI `context_length_exceeded`)",
  INVALID_PARAMETER: "/v1: a field of the request is missing, of the wrong type or out of range (`param` names it)",
  INVALID_MESSAGES: "/v1: chat messages the model's template cannot render (role, content)",
  MODEL_NOT_FOUND: "no such model or version",
  ROUTE_NOT_FOUND: "no such path",
  MODEL_NOT_READY: "not attested or not loaded yet (`Retry-After`)",
  QUEUE_FULL: "the batching queue is full (`Retry-After`)",
  REQUEST_TIMEOUT: "not finished within `requestTimeoutMs`",
  SHUTTING_DOWN: "the runtime is draining (`Retry-After`)",
  INFERENCE_FAILED: "onnxruntime failed on the batch",
  INTERNAL: "any other failure (fixed message, nothing forwarded)",
  MODEL_CONTAINER_MALFORMED: "boot: not a version-1 container",
  MODEL_DECRYPT_FAILED: "boot: wrong data key or modified container (GCM authentication)",
  MODEL_SIGNATURE_INVALID: "boot: signature does not verify with the pinned key, or signed for another model",
  MODEL_DIGEST_MISMATCH: "boot: plaintext SHA-256/size differs from the signed one, or the container from its pin",
  MODEL_LOAD_FAILED: "boot: onnxruntime cannot load the plaintext, or unsupported tensor types",
  TOKENIZER_INVALID: "boot: `tokenizer.json` unusable",
  KEY_RELEASE_FAILED: "boot: attestation refused, no key for a model, or released certificate not from the broker CA",
  CONFIG_INVALID:
    "boot: the runtime config or its `keyBroker` section is invalid, or serving config inconsistent with the graph (`problems` lists field paths)",
};

/** An inference runtime failure with a stable code; `cause` is forwarded (never shown to clients). */
export class InferenceError extends CodedError<InferenceErrorCode> {
  /** Seconds a client should wait before retrying (sent as `Retry-After`); absent means no hint. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: InferenceErrorCode,
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
    return INFERENCE_ERROR_STATUS[this.code];
  }
}

/** True when `e` is an `InferenceError` (optionally with the given code). */
export function isInferenceError(e: unknown, code?: InferenceErrorCode): e is InferenceError {
  return e instanceof InferenceError && (code === undefined || e.code === code);
}
