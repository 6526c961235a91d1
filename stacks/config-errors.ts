/**
 * Errors raised while reading the stack configuration.
 *
 * Every problem names the full config key path, prefixed with the project namespace, e.g.
 * `confidential-inference:hosts[1].address: not an IP address or hostname`.
 */

/** Stable codes for configuration failures. */
export type ConfigErrorCode = "CONFIG_INVALID";

/** One problem found in the configuration. */
export interface ConfigProblem {
  /** Path below the namespace, e.g. `hosts[1].address` (no namespace prefix). */
  readonly path: string;
  /** What is wrong, in words a platform engineer can act on. */
  readonly message: string;
}

/** The project namespace every config key lives under. */
export const CONFIG_NAMESPACE = "confidential-inference";

/** Formats a problem as `confidential-inference:<path>: <message>`. */
export function formatProblem(problem: ConfigProblem): string {
  return `${CONFIG_NAMESPACE}:${problem.path}: ${problem.message}`;
}

/**
 * The configuration is invalid. `problems` lists every bad key at once, sorted by path, so a
 * single `pulumi up` shows everything to fix.
 */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode = "CONFIG_INVALID";
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map(formatProblem);
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Renders a zod-style path (`["hosts", 1, "address"]`) as `hosts[1].address`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}
