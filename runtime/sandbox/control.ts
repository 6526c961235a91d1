/**
 * The commands that talk to a running sandbox: `infer` (through the gateway with the sandbox's
 * client certificate), `tamper` (asks the supervisor to restart the runtime with falsified
 * evidence, then shows the broker's refusal and the gateway's answer), `status` and `down`.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { SANDBOX_MODEL, type TamperMode } from "./configs.js";
import { SandboxError } from "./errors.js";
import { pollUntil, sendRequest, type SandboxResponse } from "./http.js";
import { PUBLIC_FILE_MODE, type SandboxLayout } from "./layout.js";
import { writeFileAtomic } from "../../core/index.js";
import { inferBody, SAMPLE_TEXT } from "./messages.js";
import { commandLineOf, isAlive, signal } from "./processes.js";
import {
  auditLinesSince,
  readJsonFile,
  readRunState,
  requireRunning,
  tamperRequestFile,
  tamperResponseFile,
  type RunState,
  type TamperResponse,
} from "./state.js";

/** Sends `texts` to the sandbox's gateway with its client certificate; resolves with the raw answer. */
export async function inferThroughGateway(
  layout: SandboxLayout,
  state: Pick<RunState, "gatewayUrl">,
  texts: readonly string[],
  model: string = SANDBOX_MODEL.name,
): Promise<SandboxResponse> {
  return sendRequest({
    url: `${state.gatewayUrl}/v2/models/${model}/infer`,
    ca: readFileSync(layout.pki.sandboxCa, "utf8"),
    cert: readFileSync(layout.pki.client.cert, "utf8"),
    key: readFileSync(layout.pki.client.key, "utf8"),
    body: inferBody(texts),
    headers: { "content-type": "application/json" },
    timeoutMs: 60_000,
  });
}

/** `sandbox infer TEXT`: prints the OIP response JSON; INFER_FAILED (answer on stderr) unless HTTP 200. */
export async function sandboxInfer(layout: SandboxLayout, text: string, out: (s: string) => void): Promise<void> {
  const state = requireRunning(layout);
  let r: SandboxResponse;
  try {
    r = await inferThroughGateway(layout, state, [text]);
  } catch (e) {
    throw new SandboxError(
      "INFER_FAILED",
      `the gateway at ${state.gatewayUrl} did not answer (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { cause: e },
    );
  }
  if (r.status !== 200)
    throw new SandboxError("INFER_FAILED", `the gateway answered HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  out(`${r.text}\n`);
}

/** Options of `sandboxTamper`. */
export interface TamperOptions {
  readonly layout: SandboxLayout;
  readonly mode: TamperMode | "reset";
  /** How long to wait for the supervisor's answer, in ms. */
  readonly timeoutMs: number;
  /** The command that undoes the tampering, as the user types it (e.g. `./bin/attestctl sandbox tamper --reset`). */
  readonly undo: string;
  readonly out: (s: string) => void;
}

/**
 * `sandbox tamper --measurement|--debug|--tcb|--reset`. Resolves when the demonstration holds
 * (tampered: the runtime got no key and the gateway refuses; reset: it serves again); throws
 * TAMPER_NOT_DENIED when tampered evidence was accepted, CONTROL_TIMEOUT when no answer came.
 */
export async function sandboxTamper(o: TamperOptions): Promise<void> {
  const L = o.layout;
  const state = requireRunning(L);
  const id = randomBytes(8).toString("hex");
  writeFileAtomic(tamperRequestFile(L), `${JSON.stringify({ id, mode: o.mode })}\n`, PUBLIC_FILE_MODE);
  o.out(
    `asking the sandbox (pid ${state.pid}) to restart the runtime with ${o.mode === "reset" ? "genuine" : `tampered (${o.mode})`} evidence...\n`,
  );
  signal(state.pid, "SIGUSR2");
  let response: TamperResponse | undefined;
  const answered = await pollUntil(
    async () => {
      response = readJsonFile<TamperResponse>(tamperResponseFile(L));
      return response?.id === id;
    },
    { timeoutMs: o.timeoutMs, intervalMs: 250, stop: () => !isAlive(state.pid) },
  );
  if (!answered || !response)
    throw new SandboxError(
      "CONTROL_TIMEOUT",
      `the sandbox (pid ${state.pid}) did not answer within ${Math.round(o.timeoutMs / 1000)} s; see ${L.logs.runtime}`,
    );
  const denied = auditLinesSince(L, "kbs.attest", response.since)
    .filter((l) => l.decision === "denied")
    .pop();
  const probe = await inferThroughGateway(L, state, [SAMPLE_TEXT]).catch((e: NodeJS.ErrnoException) => ({
    status: 0,
    text: e.code ?? e.message,
    headers: {},
  }));
  if (response.outcome === "ready") {
    o.out(`runtime: attested and serving\ngateway: HTTP ${probe.status} ${probe.text}\n`);
    if (o.mode !== "reset")
      throw new SandboxError(
        "TAMPER_NOT_DENIED",
        `the key broker released keys to a runtime with tampered evidence (${o.mode}): this must never happen; see ${L.keybroker.audit}`,
      );
    if (probe.status !== 200)
      throw new SandboxError(
        "INFER_FAILED",
        `the runtime is ready but the gateway answered HTTP ${probe.status}: ${probe.text.slice(0, 300)}`,
      );
    return;
  }
  if (response.outcome === "timeout")
    throw new SandboxError(
      "CONTROL_TIMEOUT",
      `the restarted runtime neither became ready nor exited in time; see ${L.logs.runtime}`,
    );
  o.out(`runtime: refused, no key and no certificate: ${response.runtimeMessage ?? "(see the runtime log)"}\n`);
  o.out(
    denied
      ? `key broker: denied, drift class ${denied.driftClass ?? "?"} (${denied.code ?? "?"}); audit log ${L.keybroker.audit}:\n  ${JSON.stringify(denied)}\n`
      : `key broker: no denial recorded in ${L.keybroker.audit}\n`,
  );
  o.out(`gateway: HTTP ${probe.status} ${probe.text}\n`);
  if (o.mode === "reset")
    throw new SandboxError(
      "CONTROL_TIMEOUT",
      `the runtime did not come back with genuine evidence; see ${L.logs.runtime}`,
    );
  o.out(`undo: ${o.undo} (or restart the sandbox)\n`);
}

/** `sandbox status`: one line per service. Resolves false when no sandbox is running. */
export function sandboxStatus(layout: SandboxLayout, out: (s: string) => void, json = false): boolean {
  const state = readRunState(layout);
  const running = state !== undefined && isAlive(state.pid);
  if (json) {
    out(`${JSON.stringify(running ? { running, ...state } : { running })}\n`);
    return running;
  }
  if (!running || !state) {
    out(`not running (${layout.root})\n`);
    return false;
  }
  const lines = [
    `sandbox ${state.phase} (pid ${state.pid}, since ${state.startedAt}) in ${layout.root}`,
    `  gateway URL         ${state.gatewayUrl}`,
    `  golden measurement  ${state.measurement}`,
    ...(["keybroker", "runtime", "gateway"] as const).map((n) => {
      const s = state.services[n];
      const port = n === "keybroker" ? state.ports.kbs : n === "runtime" ? state.ports.runtime : state.ports.gateway;
      return `  ${n.padEnd(10)} ${s.status.padEnd(9)} pid ${String(s.pid).padEnd(8)} 127.0.0.1:${port}${n === "runtime" && state.tamper ? `  (tampered evidence: ${state.tamper})` : ""}`;
    }),
  ];
  out(`${lines.join("\n")}\n`);
  return true;
}

/** `sandbox down`: stops the supervisor (which stops the services) and waits. Resolves false when none was running. */
export async function sandboxDown(
  layout: SandboxLayout,
  timeoutMs: number,
  out: (s: string) => void,
): Promise<boolean> {
  const state = readRunState(layout);
  if (state === undefined || !isAlive(state.pid)) {
    out(`not running (${layout.root})\n`);
    return false;
  }
  out(`stopping the sandbox (pid ${state.pid})...\n`);
  signal(state.pid, "SIGTERM");
  const services = (["keybroker", "runtime", "gateway"] as const).map((n) => ({
    pid: state.services[n].pid,
    config: layout.config[n],
  }));
  const ours = services.filter((s) => s.pid > 0 && commandLineOf(s.pid).includes(s.config)).map((s) => s.pid);
  const pids = [state.pid, ...ours];
  if (!(await pollUntil(async () => pids.every((p) => !isAlive(p)), { timeoutMs, intervalMs: 200 }))) {
    for (const p of pids) signal(p, "SIGKILL");
    out("some processes did not stop in time and were killed\n");
  }
  out("stopped\n");
  return true;
}
