/**
 * `attestctl` dispatch: `attestctl <command> [args]`. Command modules load lazily so a call pays
 * only for the command it runs.
 */
import { EXIT, type CliIo, type Command } from "./io.js";

interface CommandEntry {
  readonly summary: string;
  /** Loads the command module on first use (its own bundle in dist/bin/commands; scripts/build.mjs keeps the require). */
  readonly load: () => Command;
}

/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading keeps start-up to the command being run */
/** Every subcommand, in help order. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  measure: {
    summary: "compute an expected launch measurement (sev-snp-measure compatible)",
    load: () => (require("./commands/measure.js") as { command: Command }).command,
  },
  verify: {
    summary: "verify attestation evidence (signature, certificate chain, policy)",
    load: () => (require("./commands/verify.js") as { command: Command }).command,
  },
  golden: {
    summary: "compute, check, diff, sign and verify golden manifests",
    load: () => (require("./commands/golden.js") as { command: Command }).command,
  },
  render: {
    summary: "render a stack's desired state offline (Pulumi mocks)",
    load: () => (require("./commands/render.js") as { command: Command }).command,
  },
  sandbox: {
    summary: "run the whole attested path on this machine",
    load: () => (require("./commands/sandbox.js") as { command: Command }).command,
  },
  proxy: {
    summary: "local proxy: verify a runtime's attestation, then send end-to-end encrypted requests",
    load: () => (require("./commands/proxy.js") as { command: Command }).command,
  },
  image: {
    summary: "build the services' OCI images reproducibly (no container daemon)",
    load: () => (require("./commands/image.js") as { command: Command }).command,
  },
  "api-key": {
    summary: "generate a gateway API key (stored as a stack secret)",
    load: () => (require("./commands/api-key.js") as { command: Command }).command,
  },
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The top-level help text. */
export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return [
    "usage: attestctl <command> [options]",
    "",
    "Confidential inference on AMD SEV-SNP: golden measurements, attestation verification, sandbox.",
    "",
    "commands:",
    ...lines,
    "",
    "Run `attestctl <command> --help` for a command's options.",
    "",
  ].join("\n");
}

/** Runs `attestctl` with `argv` (without the program name); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.stderr : io.stdout)(helpText());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.stderr(`attestctl: unknown command "${name}"\n\n${helpText()}`);
    return EXIT.usage;
  }
  const command = entry.load();
  return command.run(rest, io);
}
