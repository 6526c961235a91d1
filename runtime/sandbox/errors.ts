/**
 * Errors of the local sandbox (STYLE rules 8-9): stable codes, each with a fix (docs/errors.md lists both).
 * Messages name the file, port or process at fault and never carry keys, PINs, prompts or model outputs.
 */
import { CodedError } from "../../core/index.js";

/** Every sandbox error code, in documentation order. */
export const SANDBOX_ERROR_CODES = [
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
] as const;

/** Stable error codes of `runtime/sandbox`. */
export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];

/** One line per code: what happened (docs/errors.md is generated from it). */
export const SANDBOX_ERROR_MEANINGS: Readonly<Record<SandboxErrorCode, string>> = {
  SOFTHSM_MISSING: "no SoftHSM2 PKCS#11 module in the usual places, and not root (or no apt-get)",
  SOFTHSM_INSTALL_FAILED: "running as root, `apt-get install softhsm2` failed (offline mirror, dpkg lock)",
  ALREADY_RUNNING: "a sandbox already runs in that directory",
  NOT_RUNNING: "`infer` or `tamper` without a running sandbox in that directory",
  STATE_INVALID: "`provisioned.json` or `run/state.json` cannot be read (edited, truncated)",
  PROVISION_FAILED:
    "the first run could not set up: the dev stack config or `guest/firmware/OVMF.amdsev.fd` unreadable or changed, or the broker refused the manifest or data key",
  PROCESS_EXITED:
    "a service exited, during start-up or later (a port taken after it was chosen, the PIN no longer matching a hand-edited token, ...)",
  READY_TIMEOUT: "a service was not ready within `ATTESTCTL_SANDBOX_TIMEOUT` seconds (default 300)",
  INFER_FAILED: "the gateway did not answer 200",
  TAMPER_NOT_DENIED: "the broker released keys to tampered evidence",
  CONTROL_TIMEOUT:
    "the sandbox did not answer a `tamper` request in time, or the restarted runtime neither served nor exited",
};

/** One line per code: what to do (docs/errors.md is generated from it). */
export const SANDBOX_ERROR_FIXES: Readonly<Record<SandboxErrorCode, string>> = {
  SOFTHSM_MISSING:
    "install it: `sudo apt-get install softhsm2` (Debian, Ubuntu), `sudo dnf install softhsm` (Fedora), `brew install softhsm` (macOS), or set `SOFTHSM2_MODULE=/path/to/libsofthsm2.so`",
  SOFTHSM_INSTALL_FAILED:
    "the message quotes apt-get; fix apt (`apt-get update`) or install softhsm2 by hand, then `npm start`",
  ALREADY_RUNNING:
    "use it (`./bin/attestctl sandbox status` prints its URL) or stop it (`./bin/attestctl sandbox down`); for a second one use `--dir` and `--ports auto`",
  NOT_RUNNING: "start one (`npm start`) in another shell, or pass the `--dir` it runs in",
  STATE_INVALID: "`./bin/attestctl sandbox down`, then `rm -rf .sandbox` and `npm start` (new keys)",
  PROVISION_FAILED:
    "the message names the file or quotes the broker's answer; fix it and run again (the first run starts over)",
  PROCESS_EXITED: "the message quotes the service's last error and names its log; fix and `npm start` again",
  READY_TIMEOUT:
    "an overloaded or very slow machine: `ATTESTCTL_SANDBOX_TIMEOUT=900 npm start`; read the service's log",
  INFER_FAILED:
    "the message has the gateway's error JSON: `UPSTREAM_UNAVAILABLE` after a `tamper` (run `tamper --reset`), `TOO_MANY_TOKENS` for a text over 62 word pieces, `RATE_LIMITED`",
  TAMPER_NOT_DENIED:
    "must never happen (a bug or an edited broker policy): keep `.sandbox/keybroker/state/audit.log` and report it",
  CONTROL_TIMEOUT: "read `.sandbox/logs/runtime.log`; `tamper --reset` or restart the sandbox",
};

/** A sandbox failure with a stable code; `cause` is forwarded. */
export class SandboxError extends CodedError<SandboxErrorCode> {
  constructor(code: SandboxErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** True when `e` is a SandboxError (with `code`, when given). */
export function isSandboxError(e: unknown, code?: SandboxErrorCode): e is SandboxError {
  return e instanceof SandboxError && (code === undefined || e.code === code);
}
