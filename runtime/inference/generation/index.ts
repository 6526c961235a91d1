/**
 * Public surface of the generation engine (decoder-only models in the Optimum / transformers.js layout). The HTTP
 * layer and the sandbox import from here.
 */
export { type ChatMessage, type ChatTemplate, loadChatTemplate } from "./chat-template.js";
export { MODEL_DIRECTORY_FILES, readModelDirectory } from "./directory.js";
export {
  type EngineOptions,
  type FinishReason,
  type GenerateRequest,
  type Generation,
  type GenerationChunk,
  GenerationEngine,
  type GenerationResult,
} from "./engine.js";
export { GENERATION_ERROR_CODES, GenerationError, type GenerationErrorCode, isGenerationError } from "./errors.js";
export {
  DECODER_MODEL_FILES,
  type DecoderLayout,
  type DecoderModel,
  type DecoderModelOptions,
  type DecoderSession,
  loadDecoderModel,
} from "./model.js";
export type { GenerationParams } from "./params.js";
export { type GenerationTokenizer, loadGenerationTokenizer, StreamDetokenizer } from "./tokenizer.js";
