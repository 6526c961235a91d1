/**
 * Runs the real sandbox (`bin/attestctl sandbox up`) as a separate process in a temporary
 * directory with free ports, and the CLI's other subcommands against it. Never touches a
 * developer's `.sandbox/`. Timeouts are generous: a loaded 2-core machine needs minutes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./cli.js";

/** Seconds each service may take to become ready (passed as ATTESTCTL_SANDBOX_TIMEOUT). */
export const SERVICE_TIMEOUT_S = 600;

/** A running `sandbox up`. */
export interface RunningSandbox {
  readonly dir: string;
  readonly process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code once it has exited. */
  readonly exited: Promise<number | null>;
}

/** Starts `sandbox up --dir DIR --ports auto [extra...]`; resolves once it printed the ready block, rejects if it exits first. */
export function startSandbox(dir: string, timeoutMs = 900_000, extra: readonly string[] = []): Promise<RunningSandbox> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "bin/attestctl"), "sandbox", "up", "--dir", dir, "--ports", "auto", ...extra],
    {
      cwd: ROOT,
      env: { ...process.env, ATTESTCTL_SANDBOX_TIMEOUT: String(SERVICE_TIMEOUT_S) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let text = "";
  child.stdout.on("data", (c: Buffer) => (text += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (text += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const sandbox: RunningSandbox = { dir, process: child, output: () => text, exited };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox not ready after ${timeoutMs} ms:\n${text}`)), timeoutMs);
    const check = setInterval(() => {
      if (text.includes("\nready: ")) {
        clearInterval(check);
        clearTimeout(timer);
        resolve(sandbox);
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`sandbox up exited (${code}) before it was ready:\n${text}`));
    });
  });
}

/** Stops it with SIGTERM (what Ctrl-C does) and resolves with its exit code. */
export async function stopSandbox(s: RunningSandbox): Promise<number | null> {
  if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill("SIGTERM");
  return s.exited;
}

/** Runs `attestctl sandbox ARGS --dir DIR` to completion (asynchronously, so this process keeps reaping its children). */
export function sandboxCli(
  dir: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, "bin/attestctl"), "sandbox", ...args, "--dir", dir], {
    cwd: ROOT,
    env: { ...process.env, ATTESTCTL_SANDBOX_TIMEOUT: String(SERVICE_TIMEOUT_S) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** A curl command the ready block printed (the lines from `curl` to the URL): to the proxy, or to the gateway (mTLS). */
export function printedCurl(output: string, to: "proxy" | "gateway" = "gateway"): string {
  const lines = output.split("\n");
  const start = lines.findIndex(
    (l) => l.trimStart().startsWith("curl ") && l.includes("--cacert") === (to === "gateway"),
  );
  const end = lines.findIndex((l, i) => i > start && l.trim().endsWith("/infer"));
  if (start < 0 || end < 0) throw new Error(`no curl command in:\n${output}`);
  return lines.slice(start, end + 1).join("\n");
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out.sort();
}

/** Parsed JSON of a file. */
export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** A running `attestctl proxy --sandbox DIR` process. */
export interface RunningProxy {
  readonly url: string;
  readonly process: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

/** Starts `attestctl proxy --sandbox DIR` on a free port; resolves with its URL once it listens. */
export function startProxyProcess(dir: string, extra: readonly string[] = []): Promise<RunningProxy> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "bin/attestctl"), "proxy", "--sandbox", dir, "--listen", "127.0.0.1:0", ...extra],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      const url = /^(http:\/\/\S+)$/m.exec(out)?.[1];
      if (url === undefined) return;
      clearInterval(check);
      resolve({
        url,
        process: child,
        output: () => `${out}${err}`,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          return exited;
        },
      });
    }, 50);
    void exited.then((code) => {
      clearInterval(check);
      reject(new Error(`attestctl proxy exited (${code}) before listening:\n${out}${err}`));
    });
  });
}
