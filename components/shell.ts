/**
 * Building remote shell command lines for `@pulumi/command`. Values are single-quoted so nothing
 * in them is interpreted by the remote shell; environment variables are passed as a prefix
 * (`env VAR='value' ...`) because SSH servers drop most client environment variables.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Quotes `value` for a POSIX shell (single quotes; embedded `'` closed and escaped). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A self-contained remote command line that runs `script` with `env` set, as root through
 * `sudo -n` unless `sudo` is false: `sudo -n env A='1' B='x y' bash -c '<script>' <name>`.
 * The script travels in the command itself (not stdin) so create and delete commands stand alone.
 * Keys are sorted so the command (a resource input) is stable.
 */
export function remoteScript(
  name: string,
  script: string,
  env: Readonly<Record<string, string>>,
  sudo: boolean,
): string {
  const vars = Object.keys(env)
    .sort()
    .map((k) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new TypeError(`invalid environment variable name ${JSON.stringify(k)}`);
      return `${k}=${shellQuote(env[k] ?? "")}`;
    });
  return [sudo ? "sudo -n env" : "env", ...vars, "bash -c", shellQuote(script), shellQuote(name)].join(" ");
}

/** A remote command line that runs `command` (already shell syntax) as root. */
export function asRoot(command: string, sudo: boolean): string {
  return sudo ? `sudo -n sh -c ${shellQuote(command)}` : command;
}

/** Reads a script that ships beside the components (e.g. `host/scripts/preflight.sh`). */
export function readScript(relativePath: string): string {
  return readFileSync(join(__dirname, relativePath), "utf8");
}
