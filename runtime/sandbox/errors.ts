/**
 * Errors of the local sandbox (STYLE rules 8-9): stable codes, each with a fix the README's
 * troubleshooting table repeats. Messages name the file, port or process at fault and never carry
 * keys, PINs, prompts or model outputs.
 */

/** Stable error codes of `runtime/sandbox`. */
export type SandboxErrorCode =
  | "SOFTHSM_MISSING"
  | "SOFTHSM_INSTALL_FAILED"
  | "ALREADY_RUNNING"
  | "NOT_RUNNING"
  | "STATE_INVALID"
  | "PROVISION_FAILED"
  | "PROCESS_EXITED"
  | "READY_TIMEOUT"
  | "INFER_FAILED"
  | "TAMPER_NOT_DENIED"
  | "CONTROL_TIMEOUT";

/** Every `SandboxErrorCode`, in declaration order. */
export const SANDBOX_ERROR_CODES: readonly SandboxErrorCode[] = [
  "SOFTHSM_MISSING",
  "SOFTHSM_INSTALL_FAILED",
  "ALREADY_RUNNING",
  "NOT_RUNNING",
  "STATE_INVALID",
  "PROVISION_FAILED",
  "PROCESS_EXITED",
  "READY_TIMEOUT",
  "INFER_FAILED",
  "TAMPER_NOT_DENIED",
  "CONTROL_TIMEOUT",
];

/** A sandbox failure with a stable code; `cause` is forwarded. */
export class SandboxError extends Error {
  override readonly name = "SandboxError";

  constructor(
    readonly code: SandboxErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** True when `e` is a SandboxError (with `code`, when given). */
export function isSandboxError(e: unknown, code?: SandboxErrorCode): e is SandboxError {
  return e instanceof SandboxError && (code === undefined || e.code === code);
}
