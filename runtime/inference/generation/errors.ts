/**
 * Errors of the generation engine (STYLE rules 8-9). Kept apart from `InferenceError` until the HTTP slice maps
 * them to OpenAI error objects; every code is stable. Messages name the field at fault and never echo prompts,
 * outputs or token ids.
 */
import { CodedError, type CodedErrorOptions } from "../../../core/index.js";

/** Stable error codes of `runtime/inference/generation`. */
export const GENERATION_ERROR_CODES = [
  "CONTEXT_LENGTH_EXCEEDED",
  "INVALID_PARAMETER",
  "INVALID_MESSAGES",
  "MODEL_LAYOUT_INVALID",
  "TOKENIZER_INVALID",
  "ENGINE_BUSY",
  "ENGINE_CLOSED",
  "GENERATION_FAILED",
] as const;

/** One of {@link GENERATION_ERROR_CODES}. */
export type GenerationErrorCode = (typeof GENERATION_ERROR_CODES)[number];

/** One line per code (docs/errors.md is generated from it). */
export const GENERATION_ERROR_MEANINGS: Readonly<Record<GenerationErrorCode, string>> = {
  CONTEXT_LENGTH_EXCEEDED: "Prompt tokens plus `maxTokens` exceed the model's context length.",
  INVALID_PARAMETER: "A sampling or stopping parameter is out of range (the problems name each field).",
  INVALID_MESSAGES: "Chat messages the template cannot render (unknown role, content not a string, empty list).",
  MODEL_LAYOUT_INVALID: "The model directory lacks a file or its ONNX graph is not a decoder in the Optimum layout.",
  TOKENIZER_INVALID: "`tokenizer.json` / `tokenizer_config.json` unusable, or the chat template does not parse.",
  ENGINE_BUSY: "Too many generations waiting for a slot; retry later.",
  ENGINE_CLOSED: "The engine was closed; no new generations.",
  GENERATION_FAILED: "onnxruntime failed during a step.",
};

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
