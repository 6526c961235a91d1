/**
 * The sandbox's services as separate processes: each is its own compiled entry point
 * (`dist/runtime/<svc>/main.js`, built by `npm run build` from `runtime/<svc>/main.ts`), in its own process group (so Ctrl-C reaches only the supervisor, which stops
 * them in order), with stdout and stderr appended to `.sandbox/logs/<svc>.log`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./layout.js";

/** The three services. */
export type ServiceName = "keybroker" | "runtime" | "gateway";

/** Compiled entry point of each service, relative to the project root (see docs/build.md). */
export const SERVICE_ENTRY: Readonly<Record<ServiceName, string>> = {
  keybroker: "dist/runtime/keybroker/main.js",
  runtime: "dist/runtime/inference/main.js",
  gateway: "dist/runtime/gateway/main.js",
};

/** A started service process. */
export interface ServiceProcess {
  readonly name: ServiceName;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Whether it has exited. */
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<number | string>;
}

/**
 * The command that runs `name`: this Node and the project's compiled entry point, or, with `rootfs`
 * (an OCI image unpacked by `images`), everything from the image: its dynamic loader, C runtime,
 * Node binary and `/app/main.js` with the native addons beside it (no container runtime: only the
 * file system root stays the host's, so the configs and state under the sandbox directory resolve).
 */
export function serviceCommand(
  name: ServiceName,
  configFile: string,
  rootfs?: string,
): { readonly command: string; readonly args: string[]; readonly cwd: string } {
  if (rootfs === undefined)
    return {
      command: process.execPath,
      args: [join(PROJECT_ROOT, SERVICE_ENTRY[name]), "--config", configFile],
      cwd: PROJECT_ROOT,
    };
  return {
    command: join(rootfs, "usr/lib64/ld-linux-x86-64.so.2"),
    args: [
      "--library-path",
      join(rootfs, "usr/lib/x86_64-linux-gnu"),
      join(rootfs, "usr/local/bin/node"),
      join(rootfs, "app/main.js"),
      "--config",
      configFile,
    ],
    cwd: join(rootfs, "app"),
  };
}

/** Starts `name` with `--config <configFile>` (from the unpacked image `rootfs` when given), logging to `logFile`. */
export function startService(
  name: ServiceName,
  configFile: string,
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
  rootfs?: string,
): ServiceProcess {
  appendFileSync(
    logFile,
    `${JSON.stringify({ time: new Date().toISOString(), service: "sandbox", event: "spawn", process: name, config: configFile })}\n`,
    { mode: 0o600 },
  );
  const fd = openSync(logFile, "a", 0o600);
  let child: ChildProcess;
  try {
    const cmd = serviceCommand(name, configFile, rootfs);
    child = spawn(cmd.command, cmd.args, {
      cwd: cmd.cwd,
      detached: true,
      stdio: ["ignore", fd, fd],
      env,
    });
  } finally {
    closeSync(fd);
  }
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      resolve(code ?? signal ?? "unknown");
    });
    child.once("error", () => {
      done = true;
      resolve("spawn-failed");
    });
  });
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    hasExited: () => done,
    async stop(graceMs = 20_000) {
      if (!done) child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!done) child.kill("SIGKILL");
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** True when a process with this pid exists and has not exited (a zombie awaiting its parent counts as exited). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state follows the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/** Sends `signal` to `pid`, ignoring a process that is already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** A process's command line (Linux /proc); empty when unavailable. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}
