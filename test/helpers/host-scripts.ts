/**
 * Fixtures of the host-script tests: running a script of components/host/scripts with a given
 * environment, the fake hosts under test/components/host/fixtures/, and their chip ids.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

/** Project root, the shipped host scripts, the fake host trees, and the stub binaries. */
export const ROOT = join(__dirname, "../..");
export const SCRIPTS = join(ROOT, "components/host/scripts");
export const FIX = join(__dirname, "../components/host/fixtures");
export const BIN = join(FIX, "bin");

/** Runs `script` with bash and exactly `env` (plus PATH); never throws. */
export function run(script: string, env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("bash", [join(SCRIPTS, script)], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The environment that points the scripts at fake host `name` (its /proc, /sys and snphost output). */
export function host(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PROC_ROOT: join(FIX, name, "proc"),
    SYSFS_ROOT: join(FIX, name, "sys"),
    SNPHOST: join(BIN, "snphost"),
    SNPHOST_FIXTURE: join(FIX, name, "snphost"),
    ...extra,
  };
}

const hex = (from: number, to: number) =>
  Buffer.from(Array.from({ length: to - from }, (_, i) => from + i)).toString("hex");
/** The chip ids the fake Milan, Genoa and Turin hosts report. */
export const MILAN_CHIP = "d4".repeat(8) + hex(1, 57);
export const GENOA_CHIP = hex(100, 164);
export const TURIN_CHIP = hex(200, 208) + "00".repeat(56);
