/**
 * Building remote shell command lines for `@pulumi/command`. Values are single-quoted so nothing
 * in them is interpreted by the remote shell; environment variables are passed as a prefix
 * (`VAR='value' bash -s`) because SSH servers drop most client environment variables.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Quotes `value` for a POSIX shell (single quotes; embedded `'` closed and escaped). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A command line that runs a script read from stdin with `env` set, e.g.
 * `sudo env A='1' B='x y' bash -s`. Keys are sorted so the command (a resource input) is stable.
 */
export function scriptCommand(env: Readonly<Record<string, string>>, sudo = true): string {
  const vars = Object.keys(env).sort().map((k) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new TypeError(`invalid environment variable name ${JSON.stringify(k)}`);
    return `${k}=${shellQuote(env[k] ?? "")}`;
  });
  return [sudo ? "sudo env" : "env", ...vars, "bash -s"].join(" ");
}

/** Reads a script that ships beside the components (e.g. `host/scripts/preflight.sh`). */
export function readScript(relativePath: string): string {
  return readFileSync(join(__dirname, relativePath), "utf8");
}
