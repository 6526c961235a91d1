/** Module face of `runtime/sandbox`: everything other modules may import from it. */
export { CLIENT_REFUSAL, TAMPER_MODES, type TamperMode, type TamperScope } from "./configs.js";
export {
  type ClientProbe,
  probeWithClient,
  sandboxClient,
  sandboxClientConfig,
  type SandboxClientConfig,
  sandboxTrustInput,
} from "./client.js";
export {
  isSandboxError,
  SANDBOX_ERROR_CODES,
  SANDBOX_ERROR_FIXES,
  SANDBOX_ERROR_MEANINGS,
  SandboxError,
  type SandboxErrorCode,
} from "./errors.js";
export { DEFAULT_SANDBOX_DIR, PROJECT_ROOT, sandboxLayout, type SandboxLayout } from "./layout.js";
export {
  inferThroughGateway,
  sandboxDown,
  sandboxInfer,
  sandboxStatus,
  sandboxTamper,
  type TamperOptions,
} from "./control.js";
export { type ChatOptions, sandboxChat, sseValues } from "./chat.js";
export { type UpOptions } from "./supervision.js";
export { sandboxUp } from "./supervisor.js";
