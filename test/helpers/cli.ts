/** Runs `attestctl` in-process (fast) or as a real process (contract tests). */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { register } from "tsx/cjs/api";
import { main } from "../../bin/cli.js";

// bin/cli.ts loads command modules lazily with require("./commands/<name>.js"): in real runs those
// are the compiled command bundles beside dist/bin/cli.js; here runCli runs the sources, and Vitest's
// require is Node's own, so tsx's CommonJS hook (a devDependency) maps them to the .ts files.
register();

/** The outcome of one CLI call. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Project root (where `bin/attestctl` lives). */
export const ROOT = join(__dirname, "../..");

/** Runs the CLI in this process with captured output. */
export async function runCli(
  argv: readonly string[],
  cwd = ROOT,
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env,
    cwd,
  });
  return { code, stdout, stderr };
}

/** Spawns `bin/attestctl` (the compiled CLI in dist/, kept current by vitest's global setup) as a separate process. */
export function spawnCli(argv: readonly string[], cwd = ROOT, input?: string): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/attestctl"), ...argv], {
    cwd,
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `attestctl measure snp --mode snp` over a launch shape, as a separate process (the reference the tests compare with). */
export function measureSnpCli(o: {
  vcpus: number;
  vcpuType: string;
  ovmf: string;
  kernel?: string;
  initrd?: string;
  append?: string;
}): CliResult {
  return spawnCli([
    "measure",
    "snp",
    "--mode",
    "snp",
    "--vcpus",
    String(o.vcpus),
    "--vcpu-type",
    o.vcpuType,
    "--ovmf",
    o.ovmf,
    ...(o.kernel === undefined ? [] : ["--kernel", o.kernel]),
    ...(o.initrd === undefined ? [] : ["--initrd", o.initrd]),
    ...(o.append === undefined ? [] : ["--append", o.append]),
  ]);
}
