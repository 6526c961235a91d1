/**
 * The running sandbox's state file (`run/state.json`, written by the supervisor) and the files
 * `sandbox tamper` exchanges with it, plus readers for the services' logs and the broker's audit
 * log. Everything here is public information: pids, ports, states, codes and drift classes.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseAuditLog, type AuditLine } from "../keybroker/index.js";
import type { SandboxPorts, TamperMode, TamperScope } from "./configs.js";
import { SandboxError } from "./errors.js";
import { PUBLIC_FILE_MODE, type SandboxLayout } from "./layout.js";
import { writeFileAtomic } from "../../core/index.js";
import { isAlive, type ServiceName } from "./processes.js";

/** Where a service is. `refused`: the runtime exited because the broker refused its evidence. */
export type ServiceStatus = "starting" | "ready" | "refused" | "exited" | "stopped";

/** `run/state.json`. */
export interface RunState {
  readonly version: 1;
  /** The supervisor (`attestctl sandbox up`). */
  readonly pid: number;
  readonly startedAt: string;
  readonly phase: "starting" | "ready" | "stopping";
  readonly ports: SandboxPorts;
  readonly gatewayUrl: string;
  readonly measurement: string;
  readonly services: Readonly<Record<ServiceName, { readonly pid: number; readonly status: ServiceStatus }>>;
  /** The runtime's current evidence falsification; absent: genuine evidence. */
  readonly tamper?: TamperMode;
  /** Where it shows (absent with `tamper`: `broker`). */
  readonly tamperScope?: TamperScope;
}

/** A tamper request (`run/tamper-request.json`). `reset` restores genuine evidence. */
export interface TamperRequest {
  readonly id: string;
  readonly mode: TamperMode | "reset";
  /** Default `broker`. */
  readonly scope?: TamperScope;
}

/** The supervisor's answer (`run/tamper-response.json`). */
export interface TamperResponse {
  readonly id: string;
  readonly mode: TamperMode | "reset";
  /** `ready`: the runtime attested and serves; `refused`: it exited without a key; `timeout`: neither in time. */
  readonly outcome: "ready" | "refused" | "timeout";
  /** The runtime's own account (its boot error line), when refused. */
  readonly runtimeMessage?: string;
  /** ISO time the tampered runtime was started (audit lines from then on belong to it). */
  readonly since: string;
}

/** Writes the run state. */
export function writeRunState(layout: SandboxLayout, state: RunState): void {
  writeFileAtomic(layout.run.state, `${JSON.stringify(state, null, 2)}\n`, PUBLIC_FILE_MODE);
}

/** Reads the run state; absent when there is none. A malformed file is STATE_INVALID. */
export function readRunState(layout: SandboxLayout): RunState | undefined {
  if (!existsSync(layout.run.state)) return undefined;
  try {
    const s = JSON.parse(readFileSync(layout.run.state, "utf8")) as RunState;
    if (s.version !== 1 || !Number.isInteger(s.pid)) throw new Error("unknown format");
    return s;
  } catch (e) {
    throw new SandboxError(
      "STATE_INVALID",
      `${layout.run.state} is unreadable (${(e as Error).message}): run \`attestctl sandbox down\` or remove it`,
      { cause: e },
    );
  }
}

/** The running sandbox's state; NOT_RUNNING (with how to start one) when there is none. */
export function requireRunning(layout: SandboxLayout): RunState {
  const s = readRunState(layout);
  if (s === undefined || !isAlive(s.pid)) {
    throw new SandboxError(
      "NOT_RUNNING",
      `no sandbox is running in ${layout.root}: start one with \`npm start\` (or \`attestctl sandbox up${layout.root.endsWith("/.sandbox") ? "" : ` --dir ${layout.root}`}\`)`,
    );
  }
  return s;
}

/** Removes the run state and control files (the supervisor, on exit). */
export function clearRunState(layout: SandboxLayout): void {
  for (const f of [layout.run.state, tamperRequestFile(layout), tamperResponseFile(layout)]) rmSync(f, { force: true });
}

/** Path of the pending tamper request. */
export function tamperRequestFile(layout: SandboxLayout): string {
  return join(layout.run.dir, "tamper-request.json");
}

/** Path of the supervisor's last tamper answer. */
export function tamperResponseFile(layout: SandboxLayout): string {
  return join(layout.run.dir, "tamper-response.json");
}

/** Reads a JSON file, or undefined when it is missing or not (yet) valid JSON. */
export function readJsonFile<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/**
 * The last error a service logged: the `msg` (and `code`) of its last pino line at level error or
 * above, else its last non-JSON line (entry points print `CODE: message` on stderr). Undefined when none.
 */
export function lastLogError(logFile: string): string | undefined {
  if (!existsSync(logFile)) return undefined;
  const lines = readFileSync(logFile, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-200)
    .reverse();
  for (const line of lines) {
    let entry: { level?: unknown; msg?: unknown; code?: unknown; service?: unknown } | undefined;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return line.trim().slice(0, 500);
    }
    if (
      entry &&
      entry.service !== "sandbox" &&
      typeof entry.level === "number" &&
      entry.level >= 50 &&
      typeof entry.msg === "string"
    ) {
      return `${typeof entry.code === "string" ? `${entry.code}: ` : ""}${entry.msg}`;
    }
  }
  return undefined;
}

/** Audit lines of `event` written at or after `since` (ISO time), oldest first. */
export function auditLinesSince(layout: SandboxLayout, event: AuditLine["event"], since: string): AuditLine[] {
  if (!existsSync(layout.keybroker.audit)) return [];
  return parseAuditLog(readFileSync(layout.keybroker.audit, "utf8")).filter((l) => l.event === event && l.ts >= since);
}
