/**
 * Strict flag parsing for the commands (`node:util` parseArgs), with one wording for its failures: Node's messages
 * differ between releases, so an unknown flag is always `unknown option --x`.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.js";

/** Parsed flags and positionals. */
export interface ParsedArgs {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/**
 * Parses `argv` strictly (positionals allowed); a parse failure is a UsageError.
 *
 * @example
 * const { values } = parseStrictArgs(argv, { quote: { type: "string" }, json: { type: "boolean" } });
 */
export function parseStrictArgs(argv: readonly string[], options: NonNullable<ParseArgsConfig["options"]>): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (e) {
    const unknown =
      (e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
        ? /'([^']+)'/.exec((e as Error).message)?.[1]
        : undefined;
    throw new UsageError(unknown ? `unknown option ${unknown}` : (e as Error).message);
  }
}
