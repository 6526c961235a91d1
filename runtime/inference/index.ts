/** Module face of `runtime/inference`: everything other modules may import from it. */
export { sealAndSignModel, sealAndSignModelDirectory } from "./model/seal.js";
export {
  INFERENCE_ERROR_CODES,
  INFERENCE_ERROR_MEANINGS,
  INFERENCE_ERROR_STATUS,
  InferenceError,
  type InferenceErrorCode,
  isInferenceError,
} from "./errors.js";
export {
  GENERATION_ERROR_CODES,
  GENERATION_ERROR_MEANINGS,
  GenerationError,
  type GenerationErrorCode,
  isGenerationError,
} from "./generation/errors.js";
export {
  CONFIDENTIAL_ERROR_CODES,
  CONFIDENTIAL_ERROR_MEANINGS,
  CONFIDENTIAL_ERROR_STATUS,
  ConfidentialError,
  type ConfidentialErrorCode,
} from "./confidential/index.js";
