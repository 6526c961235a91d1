/**
 * Module face of `stacks/`: the typed stack config, golden inputs and offline rendering. The Pulumi
 * program itself is `main.ts` (Pulumi.yaml `main`).
 */
export {
  ConfigError,
  FileError,
  isStackError,
  STACK_ERROR_CODES,
  STACK_ERROR_MEANINGS,
  type StackErrorCode,
} from "./errors.js";
export { parseStackConfig } from "./config-parse.js";
export { goldenSourceFromStackConfig } from "./golden-inputs.js";
export { renderedMarkdown } from "./render/markdown.js";
export { type RenderedState } from "./render/render.js";
export { stackConfigFromDocument } from "./stack-file.js";
export { loadGoldenConfig, readInput, type LoadedGoldenConfig } from "./golden-source.js";
