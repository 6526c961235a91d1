/**
 * Errors of the stack program and its offline tools (`attestctl golden`, `attestctl render`): the stack
 * configuration is invalid, or a file cannot be read.
 *
 * Every configuration problem names the full config key path, prefixed with the project namespace, e.g.
 * `confidential-inference:hosts[1].address: not an IP address or hostname`.
 */
import { CodedError, problemCount, type Problem } from "../core/index.js";

/** Every stacks error code, in documentation order. */
export const STACK_ERROR_CODES = ["CONFIG_INVALID", "FILE_UNREADABLE"] as const;

/** Stable codes of `stacks` failures. */
export type StackErrorCode = (typeof STACK_ERROR_CODES)[number];

/** One line per code (docs/errors.md is generated from it). */
export const STACK_ERROR_MEANINGS: Readonly<Record<StackErrorCode, string>> = {
  CONFIG_INVALID:
    "the stack configuration is invalid; `problems` lists every bad key (a single `pulumi up` shows everything to fix)",
  FILE_UNREADABLE: "a file the command names cannot be read or decoded (the message names it)",
};

/** Stable codes for configuration failures. */
export type ConfigErrorCode = Extract<StackErrorCode, "CONFIG_INVALID">;

/** One problem found in the configuration; `path` is below the namespace (`hosts[1].address`). */
export type ConfigProblem = Problem;

/** The project namespace every config key lives under. */
export const CONFIG_NAMESPACE = "confidential-inference";

/** Formats a problem as `confidential-inference:<path>: <message>`. */
export function formatProblem(problem: ConfigProblem): string {
  return `${CONFIG_NAMESPACE}:${problem.path}: ${problem.message}`;
}

/** The configuration is invalid. `problems` lists every bad key at once, sorted by path. */
export class ConfigError extends CodedError<ConfigErrorCode> {
  constructor(problems: readonly ConfigProblem[]) {
    super(
      "CONFIG_INVALID",
      `invalid stack configuration (${problemCount(problems)}):\n${problems.map(formatProblem).join("\n")}`,
      {
        problems,
      },
    );
  }
}

/** A file could not be read or decoded (`FILE_UNREADABLE`; the CLI exits 1 and the message names the file). */
export class FileError extends CodedError<Extract<StackErrorCode, "FILE_UNREADABLE">> {
  constructor(message: string, options: { readonly cause?: unknown } = {}) {
    super("FILE_UNREADABLE", message, options);
  }
}

/** True when `e` is a {@link ConfigError} or a {@link FileError} (optionally with the given code). */
export function isStackError(e: unknown, code?: StackErrorCode): e is ConfigError | FileError {
  return (e instanceof ConfigError || e instanceof FileError) && (code === undefined || e.code === code);
}
