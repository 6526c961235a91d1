/**
 * Renders `docs/cli.md` from the CLI's own help texts: the top-level `attestctl --help` and
 * `attestctl <command> --help` for every command in `bin/cli.ts` COMMANDS, so the reference cannot
 * drift from the code. `npx tsx scripts/cli-reference.ts` writes the page; `test/docs/cli.test.ts`
 * checks the committed copy is current.
 */
import { join } from "node:path";
import { COMMANDS, helpText } from "../../bin/cli.js";
import type { CliIo } from "../../bin/io.js";

/** Project root; absolute paths under it (e.g. the sandbox's default directory) print as `./...`. */
const ROOT = join(__dirname, "../..");

/** Where each command is explained in prose (relative to `docs/`). */
export const CLI_TOPICS: Readonly<Record<string, string>> = {
  measure: "[measurements.md](measurements.md#measurements-attestctl-measure)",
  verify: "[verifier.md](verifier.md)",
  golden: "[measurements.md](measurements.md#attestctl-golden)",
  render: "[deploy.md](deploy.md#reviewing-changes-offline-attestctl-render)",
  sandbox: "[sandbox.md](sandbox.md)",
  proxy: "[confidential-requests.md](confidential-requests.md)",
  image: "[images.md](images.md)",
  "api-key": "[deploy.md](deploy.md#gateway-clients-api-keys-certificates-tls-exposure)",
};

/** One command's `--help` output and exit code, run in-process with a neutral environment. */
export async function commandHelp(name: string): Promise<{ readonly text: string; readonly exitCode: number }> {
  const entry = COMMANDS[name];
  if (entry === undefined) throw new TypeError(`commandHelp: unknown command ${name}`);
  let text = "";
  const io: CliIo = { stdout: (s) => (text += s), stderr: (s) => (text += s), env: {}, cwd: ROOT };
  const exitCode = await entry.load().run(["--help"], io);
  return { text: text.replaceAll(`${ROOT}/`, "./"), exitCode };
}

/** The whole `docs/cli.md` page. */
export async function cliReferencePage(): Promise<string> {
  const lines = [
    "# `attestctl` command reference",
    "",
    "<!-- Generated from the commands' own --help texts by `npx tsx scripts/cli-reference.ts`; do not edit. -->",
    "",
    "`attestctl` is this package's CLI. From a clone, run it as `npx attestctl <command>`; `npm start` runs",
    "`attestctl sandbox up`. Every command takes `--help`, and what follows is exactly what it prints.",
    "",
    "Exit codes, for every command: 0 success, 1 the operation failed (e.g. evidence rejected, a stale",
    "manifest), 2 usage error (unknown flag, missing argument). `attestctl: internal error` with exit code",
    "70 is a bug: please report it with the command line. Error codes: [errors.md](errors.md).",
    "",
    "## `attestctl`",
    "",
    "```text",
    helpText().trimEnd(),
    "```",
  ];
  for (const name of Object.keys(COMMANDS)) {
    const { text } = await commandHelp(name);
    lines.push("", `## \`attestctl ${name}\``, "");
    if (CLI_TOPICS[name] !== undefined) lines.push(`More: ${CLI_TOPICS[name]}.`, "");
    lines.push("```text", text.trimEnd(), "```");
  }
  return `${lines.join("\n")}\n`;
}
