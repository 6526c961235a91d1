/** Argument parsing and output helpers shared by the `attestctl golden` subcommands. */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { LaunchDigestCalculator } from "../../measurements/manifest/index.js";
import type { CliIo } from "../io.js";
import { UsageError } from "../errors.js";

/** What `golden` needs from outside its arguments (injected so tests can supply a calculator). */
export interface GoldenDeps {
  /** Loads the launch-digest calculator for `compute` and `check`; undefined: not available in this build. */
  readonly calculator?: () => LaunchDigestCalculator;
  /** Current time for `compute` without `--created-at` or SOURCE_DATE_EPOCH. */
  readonly now?: () => Date;
}

export { UsageError };

/** Parses `argv` strictly; unknown flags and missing values are usage errors. */
export function parse<T extends Record<string, { type: "string" | "boolean" }>>(
  argv: readonly string[],
  options: T,
  positionals: number,
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new UsageError((cause as Error).message);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(
      `expected ${positionals} file argument${positionals === 1 ? "" : "s"}, got ${parsed.positionals.length}`,
    );
  }
  return parsed;
}

/** Returns the value of a required string flag. */
export function required(values: Record<string, unknown>, flag: string): string {
  const value = values[flag];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${flag} is required`);
  return value;
}

/** Writes `text` to `--out` (relative to cwd) or stdout. */
export function output(io: CliIo, out: string | undefined, text: string): void {
  if (out === undefined) io.stdout(text);
  else writeFileSync(resolve(io.cwd, out), text);
}
