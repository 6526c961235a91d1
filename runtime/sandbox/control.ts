/**
 * The commands that talk to a running sandbox: `infer` (the confidential client: verified, then
 * encrypted through the gateway), `tamper` (asks the supervisor to restart the runtime with falsified
 * evidence, then shows the broker's and the client's refusals), `status` and `down`.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { EVIDENCE_TAMPER_MODES, SANDBOX_MODEL, type TamperMode, type TamperScope } from "./configs.js";
import { probeWithClient } from "./client.js";
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

/**
 * `sandbox infer TEXT`: classifies TEXT end to end encrypted: the confidential client verifies the
 * runtime's attestation bundle, then sends the request as Oblivious HTTP through the gateway.
 * Prints the OIP response JSON; INFER_FAILED naming the client's code otherwise.
 */
export async function sandboxInfer(layout: SandboxLayout, text: string, out: (s: string) => void): Promise<void> {
  const state = requireRunning(layout);
  const r = await probeWithClient(layout, Buffer.from(inferBody([text])));
  if (!r.ok)
    throw new SandboxError(
      "INFER_FAILED",
      r.sent
        ? `through the gateway at ${state.gatewayUrl}: ${r.code}: ${r.message}`
        : `the client refused the runtime and sent nothing: ${r.code}: ${r.message}`,
    );
  if (r.status !== 200)
    throw new SandboxError("INFER_FAILED", `the runtime answered HTTP ${r.status}: ${r.text.slice(0, 500)}`);
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

/** Asks the supervisor to restart the runtime and waits for its answer. */
async function restartRuntime(o: TamperOptions, state: RunState, scope: TamperScope): Promise<TamperResponse> {
  const L = o.layout;
  const id = randomBytes(8).toString("hex");
  writeFileAtomic(tamperRequestFile(L), `${JSON.stringify({ id, mode: o.mode, scope })}\n`, PUBLIC_FILE_MODE);
  o.out(
    `asking the sandbox (pid ${state.pid}) to restart the runtime with ${
      o.mode === "reset"
        ? "genuine evidence"
        : scope === "bundle"
          ? `genuine evidence for the key broker and a tampered (${o.mode}) attestation bundle`
          : `tampered (${o.mode}) evidence`
    }...\n`,
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
  if (response.outcome === "timeout")
    throw new SandboxError(
      "CONTROL_TIMEOUT",
      `the restarted runtime neither became ready nor exited in time; see ${L.logs.runtime}`,
    );
  return response;
}

/** The broker's side: the tampered runtime got no key (the plaintext path has nowhere to go). */
async function showBrokerRefusal(o: TamperOptions, state: RunState): Promise<void> {
  const L = o.layout;
  const response = await restartRuntime(o, state, "broker");
  const probe = await inferThroughGateway(L, state, [SAMPLE_TEXT]).catch((e: NodeJS.ErrnoException) => ({
    status: 0,
    text: e.code ?? e.message,
    headers: {},
  }));
  if (response.outcome === "ready") {
    o.out(`runtime: attested and serving\ngateway: HTTP ${probe.status} ${probe.text}\n`);
    throw new SandboxError(
      "TAMPER_NOT_DENIED",
      `the key broker released keys to a runtime with tampered evidence (${o.mode}): this must never happen; see ${L.keybroker.audit}`,
    );
  }
  const denied = auditLinesSince(L, "kbs.attest", response.since)
    .filter((l) => l.decision === "denied")
    .pop();
  o.out(`runtime: refused, no key and no certificate: ${response.runtimeMessage ?? "(see the runtime log)"}\n`);
  o.out(
    denied
      ? `key broker: denied, drift class ${denied.driftClass ?? "?"} (${denied.code ?? "?"}); audit log ${L.keybroker.audit}:\n  ${JSON.stringify(denied)}\n`
      : `key broker: no denial recorded in ${L.keybroker.audit}\n`,
  );
  o.out(`gateway: HTTP ${probe.status} ${probe.text}\n`);
  const client = await probeWithClient(L, Buffer.from(inferBody([SAMPLE_TEXT])));
  o.out(
    client.ok
      ? `client: HTTP ${client.status}\n`
      : `client: ${client.code}: ${client.message}; the prompt was not sent\n`,
  );
}

/**
 * `sandbox tamper --measurement|--debug|--tcb|--unbound-key|--expired|--foreign-root|--reset`.
 * Evidence modes first show the key broker refusing the keys (the runtime exits); every mode then
 * restarts the runtime with genuine evidence for the broker but the tampered evidence in its
 * attestation bundle (as if the broker had been bypassed) and shows the confidential client
 * refusing it before any prompt leaves the client. Resolves when the demonstration holds;
 * TAMPER_NOT_DENIED when tampered evidence was accepted, CONTROL_TIMEOUT when no answer came.
 */
export async function sandboxTamper(o: TamperOptions): Promise<void> {
  const L = o.layout;
  const state = requireRunning(L);
  if (o.mode === "reset") {
    const response = await restartRuntime(o, state, "broker");
    if (response.outcome !== "ready")
      throw new SandboxError(
        "CONTROL_TIMEOUT",
        `the runtime did not come back with genuine evidence; see ${L.logs.runtime}`,
      );
    const client = await probeWithClient(L, Buffer.from(inferBody([SAMPLE_TEXT])));
    if (!client.ok || client.status !== 200)
      throw new SandboxError(
        "INFER_FAILED",
        `the runtime is ready but the client got ${client.ok ? `HTTP ${client.status}` : `${client.code}: ${client.message}`}`,
      );
    o.out(
      `runtime: attested and serving\nclient: verified measurement ${client.measurement.slice(0, 16)}…, HTTP ${client.status} ${client.text}\n`,
    );
    return;
  }
  if (EVIDENCE_TAMPER_MODES.includes(o.mode)) await showBrokerRefusal(o, state);
  const response = await restartRuntime(o, state, "bundle");
  if (response.outcome !== "ready")
    throw new SandboxError(
      "CONTROL_TIMEOUT",
      `the runtime with a tampered bundle did not serve: ${response.runtimeMessage ?? `see ${L.logs.runtime}`}`,
    );
  const client = await probeWithClient(L, Buffer.from(inferBody([SAMPLE_TEXT])));
  if (client.ok)
    throw new SandboxError(
      "TAMPER_NOT_DENIED",
      `the confidential client accepted a tampered attestation bundle (${o.mode}) and sent the prompt: this must never happen`,
    );
  o.out(`runtime: serving, with ${o.mode} tampering in its attestation bundle\n`);
  o.out(`client: refused before sending: ${client.code}: ${client.message}\n`);
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
      return `  ${n.padEnd(10)} ${s.status.padEnd(9)} pid ${String(s.pid).padEnd(8)} 127.0.0.1:${port}${n === "runtime" && state.tamper ? `  (tampered evidence: ${state.tamper}${state.tamperScope === "bundle" ? ", in its attestation bundle" : ""})` : ""}`;
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
