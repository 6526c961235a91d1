/**
 * `attestctl sandbox up` (`npm start`): sets the sandbox up on first run, starts the key broker,
 * the inference runtime and the gateway as separate processes on 127.0.0.1, prints how to call
 * it, then supervises: Ctrl-C (SIGINT) or SIGTERM stops the three in order (gateway, runtime,
 * broker); SIGUSR2 makes it act on a `sandbox tamper` request; a service that dies stops the rest.
 */
import { readFileSync, rmSync } from "node:fs";
import {
  DEFAULT_PORTS,
  gatewayConfig,
  keyBrokerConfig,
  runtimeConfig,
  SANDBOX_TOKEN_LABEL,
  tcbBelow,
  type Provisioned,
  type SandboxPorts,
  type TamperMode,
} from "./configs.js";
import { SandboxError } from "./errors.js";
import { pollUntil, sendRequest } from "./http.js";
import { PUBLIC_FILE_MODE, type SandboxLayout } from "./layout.js";
import { writeFileAtomic } from "../../core/index.js";
import { choosePorts } from "./ports.js";
import { commandLineOf, isAlive, signal, startService, type ServiceName, type ServiceProcess } from "./processes.js";
import { importIntoBroker, prepareFirstRun, readProvisioned, type PendingProvision } from "./provision.js";
import { ensureSoftHsm } from "./softhsm.js";
import {
  auditLinesSince,
  clearRunState,
  lastLogError,
  readJsonFile,
  readRunState,
  tamperRequestFile,
  tamperResponseFile,
  writeRunState,
  type ServiceStatus,
  type TamperRequest,
  type TamperResponse,
} from "./state.js";
import { readyBlock } from "./messages.js";

/** Options of `sandboxUp`. */
export interface UpOptions {
  readonly layout: SandboxLayout;
  /** `default`: the default ports where free; `auto`: free ports only. */
  readonly ports: "default" | "auto";
  readonly env: Readonly<Record<string, string | undefined>>;
  /** How long each service may take to become ready, in ms. */
  readonly readyTimeoutMs: number;
  /** The CLI as the user should type it in hints, e.g. `./bin/attestctl` (plus `--dir` when not the default). */
  readonly cli: { readonly command: string; readonly dirFlag: string };
  readonly out: (text: string) => void;
}

const ORDER: readonly ServiceName[] = ["keybroker", "runtime", "gateway"];

/** Human description of each evidence falsification. */
export function tamperDescription(mode: TamperMode, p: Provisioned): string {
  if (mode === "measurement")
    return `evidence claiming measurement ${p.tamperedMeasurement.slice(0, 16)}… (launch shape ${p.launchShape} booted with kernel command line "${p.tamperedCmdline}")`;
  if (mode === "debug")
    return "evidence whose guest policy allows debugging (POLICY.DEBUG: the host could read guest memory)";
  const low = tcbBelow(p.tcb);
  const which = (["snp", "microcode", "bootloader"] as const).find((k) => low[k] !== p.tcb[k]) ?? "snp";
  return `evidence from a platform whose TCB is below the floor (${which} SVN ${low[which]} < ${p.tcb[which]})`;
}

class Supervisor {
  private step = 0;
  private readonly services = new Map<ServiceName, ServiceProcess>();
  private readonly status: Record<ServiceName, ServiceStatus> = {
    keybroker: "starting",
    runtime: "starting",
    gateway: "starting",
  };
  private phase: "starting" | "ready" | "stopping" = "starting";
  private tamper: TamperMode | undefined;
  private runtimeMayExit = false;
  private wasReady = false;
  private stopping = false;
  private failure: SandboxError | undefined;
  private wake: () => void = () => undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly startedAt = new Date().toISOString();
  private ports!: SandboxPorts;
  private p!: Provisioned;

  constructor(private readonly o: UpOptions) {}

  private say(line: string): void {
    this.o.out(`${line}\n`);
  }

  private stepSay(line: string): void {
    this.say(`[${++this.step}] ${line}`);
  }

  private save(): void {
    const L = this.o.layout;
    const services = Object.fromEntries(
      ORDER.map((n) => [n, { pid: this.services.get(n)?.pid ?? 0, status: this.status[n] }]),
    ) as Record<ServiceName, { pid: number; status: ServiceStatus }>;
    writeRunState(L, {
      version: 1,
      pid: process.pid,
      startedAt: this.startedAt,
      phase: this.phase,
      ports: this.ports,
      gatewayUrl: `https://127.0.0.1:${this.ports.gateway}`,
      measurement: this.p.measurement,
      services,
      ...(this.tamper ? { tamper: this.tamper } : {}),
    });
  }

  private start(name: ServiceName): ServiceProcess {
    const L = this.o.layout;
    const svc = startService(name, L.config[name], L.logs[name], { ...process.env, ...this.o.env });
    this.services.set(name, svc);
    this.status[name] = "starting";
    void svc.exited.then((code) => {
      if (this.services.get(name) !== svc || this.stopping) return;
      if (name === "runtime" && this.runtimeMayExit) return;
      this.status[name] = "exited";
      this.failure ??= new SandboxError(
        "PROCESS_EXITED",
        `${name} exited (${code}): ${lastLogError(svc.logFile) ?? "no error logged"}; see ${svc.logFile}`,
      );
      this.wake();
    });
    return svc;
  }

  /** Waits until `ready` holds; PROCESS_EXITED when the process dies first, READY_TIMEOUT after the timeout. */
  private async waitReady(svc: ServiceProcess, ready: () => Promise<boolean>): Promise<void> {
    const ok = await pollUntil(ready, {
      timeoutMs: this.o.readyTimeoutMs,
      stop: () => svc.hasExited() || this.stopping,
    });
    if (this.stopping) throw new SandboxError("PROCESS_EXITED", "interrupted");
    if (ok) {
      this.status[svc.name] = "ready";
      this.save();
      return;
    }
    if (svc.hasExited())
      throw new SandboxError(
        "PROCESS_EXITED",
        `${svc.name} exited during start-up (${await svc.exited}): ${lastLogError(svc.logFile) ?? "no error logged"}; see ${svc.logFile}`,
      );
    throw new SandboxError(
      "READY_TIMEOUT",
      `${svc.name} was not ready after ${Math.round(this.o.readyTimeoutMs / 1000)} s; see ${svc.logFile} (a slow machine: raise ATTESTCTL_SANDBOX_TIMEOUT, in seconds)`,
    );
  }

  private readonly brokerReady = async () => {
    const r = await sendRequest({
      url: `https://127.0.0.1:${this.ports.kbs}/healthz`,
      ca: readFileSync(this.o.layout.keybroker.ca, "utf8"),
      timeoutMs: 5000,
    });
    return r.status === 200;
  };

  private readonly runtimeReady = async () =>
    (await sendRequest({ url: `http://127.0.0.1:${this.ports.runtimeOps}/v2/health/ready`, timeoutMs: 5000 }))
      .status === 200;

  private readonly gatewayReady = async () =>
    (await sendRequest({ url: `http://127.0.0.1:${this.ports.gatewayOps}/v2/health/ready`, timeoutMs: 5000 }))
      .status === 200;

  private writeConfigs(modulePath: string): void {
    const L = this.o.layout;
    writeFileAtomic(
      L.config.keybroker,
      `${JSON.stringify(keyBrokerConfig(L, this.ports, this.p, modulePath), null, 2)}\n`,
      PUBLIC_FILE_MODE,
    );
    writeFileAtomic(
      L.config.runtime,
      `${JSON.stringify(runtimeConfig(L, this.ports, this.p, this.tamper), null, 2)}\n`,
      PUBLIC_FILE_MODE,
    );
    writeFileAtomic(
      L.config.gateway,
      `${JSON.stringify(gatewayConfig(L, this.ports, this.p), null, 2)}\n`,
      PUBLIC_FILE_MODE,
    );
  }

  /** Starts everything; resolves with the exit code once stopped. */
  async run(): Promise<number> {
    const L = this.o.layout;
    const previous = (() => {
      try {
        return readRunState(L);
      } catch {
        return undefined;
      }
    })();
    if (previous && isAlive(previous.pid) && previous.pid !== process.pid) {
      throw new SandboxError(
        "ALREADY_RUNNING",
        `a sandbox is already running in ${L.root} (pid ${previous.pid}, gateway ${previous.gatewayUrl}): use it, or stop it with \`${this.o.cli.command} sandbox down${this.o.cli.dirFlag}\``,
      );
    }
    if (previous) stopStale(previous, L);
    clearRunState(L);

    const onStop = () => {
      if (this.stopping) {
        for (const s of this.services.values()) signal(s.pid, "SIGKILL");
        return;
      }
      this.stopping = true;
      this.wake();
    };
    const onTamper = () => {
      this.queue = this.queue.then(() => this.handleTamper()).catch(() => undefined);
    };
    const onExit = () => {
      for (const s of this.services.values()) if (!s.hasExited()) signal(s.pid, "SIGTERM");
    };
    process.on("SIGINT", onStop);
    process.on("SIGTERM", onStop);
    process.on("SIGHUP", onStop);
    process.on("SIGUSR2", onTamper);
    process.on("exit", onExit);
    try {
      await this.startAll();
      if (!this.stopping && !this.failure) {
        this.phase = "ready";
        this.wasReady = true;
        this.save();
        this.say(readyBlock(L, this.ports, this.p, this.o.cli, (Date.now() - Date.parse(this.startedAt)) / 1000));
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.stopping || this.failure) resolve();
        });
      }
    } catch (e) {
      this.failure ??=
        e instanceof SandboxError
          ? e
          : new SandboxError("PROVISION_FAILED", `setting up the sandbox: ${(e as Error).message}`, { cause: e });
    } finally {
      await this.stopAll();
      process.off("SIGINT", onStop);
      process.off("SIGTERM", onStop);
      process.off("SIGHUP", onStop);
      process.off("SIGUSR2", onTamper);
      process.off("exit", onExit);
    }
    if (this.failure && !(this.stopping && this.failure.message === "interrupted")) throw this.failure;
    return this.wasReady ? 0 : 130;
  }

  private async startAll(): Promise<void> {
    const L = this.o.layout;
    const modulePath = ensureSoftHsm(this.o.env, (l) => this.say(l));
    const existing = readProvisioned(L);
    this.say(
      existing
        ? `sandbox: reusing ${L.root} (set up ${existing.createdAt}): simulated platform, HSM token and keys, sealed model and signed manifest are kept`
        : `sandbox: first run, setting up ${L.root} (later runs reuse it)`,
    );
    this.stepSay(`SoftHSM2: ${modulePath}`);
    let pending: PendingProvision | undefined;
    if (!existing) pending = await prepareFirstRun(L, (l) => this.stepSay(l));
    this.p = existing ?? (pending as PendingProvision).provisioned;
    const { ports, moved } = await choosePorts(this.o.ports);
    this.ports = ports;
    if (moved.length > 0)
      this.say(
        `    (port${moved.length === 1 ? "" : "s"} ${moved.map((n) => DEFAULT_PORTS[n]).join(", ")} in use: using free ports instead; the URLs below say which)`,
      );
    this.writeConfigs(modulePath);
    this.save();
    if (this.stopping) return;

    const kb = this.start("keybroker");
    await this.waitReady(kb, this.brokerReady);
    this.stepSay(
      `key broker (pid ${kb.pid}): SoftHSM2 token "${SANDBOX_TOKEN_LABEL}" in ${L.keybroker.tokens}${pending ? " initialised, root keys (KEK, token signing, CA, session) generated inside it, non-extractable" : ", root keys loaded"}; KBS https://127.0.0.1:${ports.kbs}, admin https://127.0.0.1:${ports.admin}`,
    );
    if (pending)
      this.p = await importIntoBroker(L, `https://127.0.0.1:${ports.admin}`, pending, (l) => this.stepSay(l));
    if (this.stopping) return;

    const since = new Date().toISOString();
    const rt = this.start("runtime");
    await this.waitReady(rt, this.runtimeReady);
    const attest = auditLinesSince(L, "kbs.attest", since)
      .filter((l) => l.decision === "granted")
      .pop();
    this.stepSay(
      `inference runtime (pid ${rt.pid}): attested with simulated SNP evidence (measurement ${this.p.measurement.slice(0, 16)}…, drift class ${attest?.driftClass ?? "ok"}), received the model key and a TLS certificate from the broker, verified, decrypted and loaded the model; OIP over mTLS on https://127.0.0.1:${ports.runtime}`,
    );
    if (this.stopping) return;

    const gw = this.start("gateway");
    await this.waitReady(gw, this.gatewayReady);
    this.stepSay(
      `gateway (pid ${gw.pid}): https://127.0.0.1:${ports.gateway}, client certificates from the sandbox CA; forwards over mTLS, trusting only the broker CA`,
    );
  }

  private async stopAll(): Promise<void> {
    if (this.services.size === 0) return;
    this.stopping = true;
    this.phase = "stopping";
    try {
      this.save();
    } catch {
      // the state folder may be gone
    }
    for (const name of [...ORDER].reverse()) {
      const svc = this.services.get(name);
      if (!svc) continue;
      await svc.stop();
      this.status[name] = "stopped";
    }
    clearRunState(this.o.layout);
    this.say(`stopped: gateway, runtime, key broker. State kept in ${this.o.layout.root}; \`npm start\` reuses it.`);
  }

  /** Restarts the runtime with the requested evidence and answers through `run/tamper-response.json`. */
  private async handleTamper(): Promise<void> {
    const L = this.o.layout;
    const req = readJsonFile<TamperRequest>(tamperRequestFile(L));
    rmSync(tamperRequestFile(L), { force: true });
    if (!req || this.phase !== "ready" || this.stopping) return;
    const tamper = req.mode === "reset" ? undefined : req.mode;
    this.say(`tamper: restarting the runtime with ${tamper ? tamperDescription(tamper, this.p) : "genuine evidence"}`);
    this.runtimeMayExit = true;
    await this.services.get("runtime")?.stop();
    this.tamper = tamper;
    writeFileAtomic(
      L.config.runtime,
      `${JSON.stringify(runtimeConfig(L, this.ports, this.p, tamper), null, 2)}\n`,
      PUBLIC_FILE_MODE,
    );
    const since = new Date().toISOString();
    const rt = this.start("runtime");
    this.save();
    const ready = await pollUntil(this.runtimeReady, {
      timeoutMs: this.o.readyTimeoutMs,
      stop: () => rt.hasExited() || this.stopping,
    });
    let response: TamperResponse;
    if (ready) {
      this.status.runtime = "ready";
      this.runtimeMayExit = tamper !== undefined;
      response = { id: req.id, mode: req.mode, outcome: "ready", since };
      this.say(
        tamper
          ? "tamper: WARNING: the runtime attested with tampered evidence"
          : "tamper: reset; the runtime attested again and serves",
      );
    } else if (rt.hasExited()) {
      this.status.runtime = "refused";
      const message = lastLogError(rt.logFile);
      response = {
        id: req.id,
        mode: req.mode,
        outcome: "refused",
        since,
        ...(message ? { runtimeMessage: message } : {}),
      };
      const denied = auditLinesSince(L, "kbs.attest", since)
        .filter((l) => l.decision === "denied")
        .pop();
      this.say(`tamper: the runtime got no key and exited: ${message ?? "see the runtime log"}`);
      if (denied) this.say(`tamper: key broker audit: ${JSON.stringify(denied)}`);
    } else {
      response = { id: req.id, mode: req.mode, outcome: "timeout", since };
    }
    this.save();
    writeFileAtomic(tamperResponseFile(L), `${JSON.stringify(response)}\n`, PUBLIC_FILE_MODE);
  }
}

/** Stops services a killed supervisor left behind (only processes started for this sandbox's configs). */
function stopStale(
  previous: { services: Readonly<Record<ServiceName, { pid: number }>> },
  layout: SandboxLayout,
): void {
  for (const name of ORDER) {
    const pid = previous.services[name]?.pid ?? 0;
    if (pid > 0 && isAlive(pid) && commandLineOf(pid).includes(layout.config[name])) signal(pid, "SIGTERM");
  }
}

/**
 * Runs the sandbox in the foreground until Ctrl-C; resolves with the exit code (0 after a clean
 * stop, 130 when start-up was interrupted). Throws SandboxError on failure (services already stopped).
 *
 * @example
 * await sandboxUp({ layout: sandboxLayout(".sandbox"), ports: "default", env: process.env, readyTimeoutMs: 180_000, cli: { command: "./bin/attestctl", dirFlag: "" }, out: (s) => process.stdout.write(s) });
 */
export function sandboxUp(o: UpOptions): Promise<number> {
  return new Supervisor(o).run();
}
