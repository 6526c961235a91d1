/**
 * Process supervision of the sandbox: the key broker, the inference runtime and the gateway as
 * separate processes on 127.0.0.1, their readiness, the run state file, and the signals: Ctrl-C
 * (SIGINT) or SIGTERM stops the three in order (gateway, runtime, broker); SIGUSR2 queues a
 * `sandbox tamper` request; a service that dies stops the rest. What is started, in which steps,
 * and how tamper restarts the runtime is the subclass's (supervisor.ts).
 */
import { readFileSync } from "node:fs";
import type { Provisioned, SandboxPorts, TamperMode, TamperScope } from "./configs.js";
import { SandboxError } from "./errors.js";
import { pollUntil, sendRequest } from "./http.js";
import type { SandboxLayout } from "./layout.js";
import { commandLineOf, isAlive, signal, startService, type ServiceName, type ServiceProcess } from "./processes.js";
import { clearRunState, lastLogError, readRunState, writeRunState, type ServiceStatus } from "./state.js";
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
  /** An OCI image layout (`attestctl image build --target oci`): run each service from its unpacked image. */
  readonly images?: string;
}

const ORDER: readonly ServiceName[] = ["keybroker", "runtime", "gateway"];

/** Starts, watches and stops the sandbox's services; `startAll` and `handleTamper` are the sandbox's own. */
export abstract class ServiceSupervisor {
  private step = 0;
  protected readonly services = new Map<ServiceName, ServiceProcess>();
  protected readonly status: Record<ServiceName, ServiceStatus> = {
    keybroker: "starting",
    runtime: "starting",
    gateway: "starting",
  };
  protected phase: "starting" | "ready" | "stopping" = "starting";
  protected tamper: TamperMode | undefined;
  protected tamperScope: TamperScope = "broker";
  protected runtimeMayExit = false;
  private wasReady = false;
  protected stopping = false;
  private failure: SandboxError | undefined;
  private wake: () => void = () => undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly startedAt = new Date().toISOString();
  protected ports!: SandboxPorts;
  protected p!: Provisioned;

  constructor(protected readonly o: UpOptions) {}

  protected say(line: string): void {
    this.o.out(`${line}\n`);
  }

  protected stepSay(line: string): void {
    this.say(`[${++this.step}] ${line}`);
  }

  protected save(): void {
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
      ...(this.tamper ? { tamper: this.tamper, tamperScope: this.tamperScope } : {}),
    });
  }

  /** Unpacked image root of each service, when the sandbox runs from OCI images. */
  protected rootfs: Partial<Record<ServiceName, string>> = {};

  protected start(name: ServiceName): ServiceProcess {
    const L = this.o.layout;
    const svc = startService(name, L.config[name], L.logs[name], { ...process.env, ...this.o.env }, this.rootfs[name]);
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
  protected async waitReady(svc: ServiceProcess, ready: () => Promise<boolean>): Promise<void> {
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

  protected readonly brokerReady = async () => {
    const r = await sendRequest({
      url: `https://127.0.0.1:${this.ports.kbs}/healthz`,
      ca: readFileSync(this.o.layout.keybroker.ca, "utf8"),
      timeoutMs: 5000,
    });
    return r.status === 200;
  };

  protected readonly runtimeReady = async () =>
    (await sendRequest({ url: `http://127.0.0.1:${this.ports.runtimeOps}/v2/health/ready`, timeoutMs: 5000 }))
      .status === 200;

  protected readonly gatewayReady = async () =>
    (await sendRequest({ url: `http://127.0.0.1:${this.ports.gatewayOps}/v2/health/ready`, timeoutMs: 5000 }))
      .status === 200;

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

  /** Provisions what is missing and starts the services in order (returns early once stopping). */
  protected abstract startAll(): Promise<void>;

  /** Acts on a `sandbox tamper` request (SIGUSR2). */
  protected abstract handleTamper(): Promise<void>;
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
