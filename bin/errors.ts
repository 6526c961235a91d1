/**
 * Errors of the CLI (`bin/`): only what the command line itself gets wrong. Each maps to an exit code
 * (usage 2, unreadable input 1); errors of the library underneath keep their own classes and codes.
 */
import { CodedError, type CodedErrorOptions } from "../core/index.js";

/** Every CLI error code. */
export const CLI_ERROR_CODES = ["USAGE", "INPUT_UNREADABLE"] as const;

/** Stable code of a CLI failure. */
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

/** A failure of the command line, with a stable `code`. */
export class CliError extends CodedError<CliErrorCode> {}

/** Bad usage: unknown flag, missing value, stray argument, a file a flag names that cannot be used (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super("USAGE", message, options);
  }
}

/** An input file could not be read (exit 1; `attestctl measure` fails the way the reference tool does). */
export class InputFileError extends CliError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super("INPUT_UNREADABLE", message, options);
  }
}
