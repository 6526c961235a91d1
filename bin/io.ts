/** What a CLI command may touch besides its arguments, injected so commands run in-process in tests. */
export interface CliIo {
  /** Writes to standard output (results only). */
  readonly stdout: (text: string) => void;
  /** Writes to standard error (diagnostics, errors). */
  readonly stderr: (text: string) => void;
  /** Environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory that relative paths resolve against. */
  readonly cwd: string;
}

/** Exit codes shared by every subcommand. */
export const EXIT = {
  /** Success (for `verify`: evidence accepted). */
  ok: 0,
  /** The operation ran and failed (measurement error, evidence rejected, stale manifest, ...). */
  failed: 1,
  /** Bad usage: unknown flag, missing argument. */
  usage: 2,
} as const;

/** One `attestctl` subcommand. */
export interface Command {
  /** Subcommand name, e.g. `measure`. */
  readonly name: string;
  /** One line for `attestctl --help`. */
  readonly summary: string;
  /** Runs the subcommand with the arguments after its name; resolves to the exit code. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}
