/**
 * Errors of the generation engine (STYLE rules 8-9). Kept apart from `InferenceError` until the HTTP slice maps
 * them to OpenAI error objects; every code is stable. Messages name the field at fault and never echo prompts,
 * outputs or token ids.
 */
import { CodedError, type CodedErrorOptions } from "../../../core/errors.js";

/** Stable error codes of `runtime/inference/generation`. */
export const GENERATION_ERROR_CODES = [
  /** Prompt tokens plus `maxTokens` exceed the model's context length. */
  "CONTEXT_LENGTH_EXCEEDED",
  /** A sampling or stopping parameter is out of range (the problems name each field). */
  "INVALID_PARAMETER",
  /** Chat messages the template cannot render (unknown role, content not a string, empty list). */
  "INVALID_MESSAGES",
  /** The model directory lacks a file or its ONNX graph is not a decoder in the Optimum layout. */
  "MODEL_LAYOUT_INVALID",
  /** `tokenizer.json` / `tokenizer_config.json` unusable, or the chat template does not parse. */
  "TOKENIZER_INVALID",
  /** Too many generations waiting for a slot; retry later. */
  "ENGINE_BUSY",
  /** The engine was closed; no new generations. */
  "ENGINE_CLOSED",
  /** onnxruntime failed during a step. */
  "GENERATION_FAILED",
] as const;

/** One of {@link GENERATION_ERROR_CODES}. */
export type GenerationErrorCode = (typeof GENERATION_ERROR_CODES)[number];

/** A generation failure with a stable code; `cause` is forwarded (never shown to clients). */
export class GenerationError extends CodedError<GenerationErrorCode> {
  constructor(code: GenerationErrorCode, message: string, options: CodedErrorOptions = {}) {
    super(code, message, options);
  }
}

/** True when `e` is a `GenerationError` (optionally with the given code). */
export function isGenerationError(e: unknown, code?: GenerationErrorCode): e is GenerationError {
  return e instanceof GenerationError && (code === undefined || e.code === code);
}
