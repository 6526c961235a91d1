/**
 * The generation engine's failures as the runtime's HTTP codes (the engine has its own error class; the
 * server answers with one table).
 */
import { InferenceError } from "../errors.js";
import { isGenerationError } from "../generation/index.js";

/**
 * Maps a generation failure to the runtime's code; other errors pass through unchanged.
 *
 * @example
 * try { engine.generate(r) } catch (e) { throw fromGenerationError(e) } // ENGINE_BUSY -> QUEUE_FULL (503, Retry-After)
 */
export function fromGenerationError(e: unknown): unknown {
  if (!isGenerationError(e)) return e;
  const keep = { cause: e, problems: e.problems };
  switch (e.code) {
    case "CONTEXT_LENGTH_EXCEEDED":
    case "INVALID_PARAMETER":
    case "INVALID_MESSAGES":
      return new InferenceError(e.code, e.message, keep);
    case "ENGINE_BUSY":
      return new InferenceError("QUEUE_FULL", "too many generations are waiting; retry later", {
        cause: e,
        retryAfterSeconds: 1,
      });
    case "ENGINE_CLOSED":
      return new InferenceError("SHUTTING_DOWN", "the runtime is shutting down", { cause: e, retryAfterSeconds: 1 });
    case "GENERATION_FAILED":
      return new InferenceError("INFERENCE_FAILED", "generation failed", { cause: e });
    default:
      return new InferenceError("INTERNAL", "internal error", { cause: e });
  }
}
