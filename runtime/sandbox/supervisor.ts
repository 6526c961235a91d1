/**
 * `attestctl sandbox up` (`npm start`): sets the sandbox up on first run, starts the key broker,
 * the inference runtime and the gateway as separate processes on 127.0.0.1, prints how to call
 * it, then supervises: Ctrl-C (SIGINT) or SIGTERM stops the three in order (gateway, runtime,
 * broker); SIGUSR2 makes it act on a `sandbox tamper` request; a service that dies stops the rest.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { IMAGE_SOFTHSM_MODULE, readLayout, unpackImage } from "../../images/index.js";
import {
  DEFAULT_PORTS,
  gatewayConfig,
  keyBrokerConfig,
  runtimeConfig,
  SANDBOX_TOKEN_LABEL,
  tcbBelow,
  type Provisioned,
  type TamperMode,
} from "./configs.js";
import { pollUntil } from "./http.js";
import { PUBLIC_FILE_MODE } from "./layout.js";
import { writeFileAtomic } from "../../core/index.js";
import { choosePorts } from "./ports.js";
import { importIntoBroker, prepareFirstRun, readProvisioned, type PendingProvision } from "./provision.js";
import { ensureSoftHsm } from "./softhsm.js";
import {
  auditLinesSince,
  lastLogError,
  readJsonFile,
  tamperRequestFile,
  tamperResponseFile,
  type TamperRequest,
  type TamperResponse,
} from "./state.js";
import { ServiceSupervisor, type UpOptions } from "./supervision.js";

/** Human description of each evidence falsification. */
export function tamperDescription(mode: TamperMode, p: Provisioned): string {
  if (mode === "measurement")
    return `evidence claiming measurement ${p.tamperedMeasurement.slice(0, 16)}… (launch shape ${p.launchShape} booted with kernel command line "${p.tamperedCmdline}")`;
  if (mode === "debug")
    return "evidence whose guest policy allows debugging (POLICY.DEBUG: the host could read guest memory)";
  if (mode === "unbound-key") return "a bundle whose REPORT_DATA binds another key than the one it publishes";
  if (mode === "expired") return "a bundle whose validity window has passed";
  if (mode === "foreign-root") return "evidence from another simulated platform, whose root the client does not pin";
  const low = tcbBelow(p.tcb);
  const which = (["snp", "microcode", "bootloader"] as const).find((k) => low[k] !== p.tcb[k]) ?? "snp";
  return `evidence from a platform whose TCB is below the floor (${which} SVN ${low[which]} < ${p.tcb[which]})`;
}

/** The sandbox's steps: first-run provisioning, configs, the three services in order, and tamper restarts. */
class Supervisor extends ServiceSupervisor {
  private writeConfigs(modulePath: string): void {
    const L = this.o.layout;
    writeFileAtomic(
      L.config.keybroker,
      `${JSON.stringify(keyBrokerConfig(L, this.ports, this.p, modulePath), null, 2)}\n`,
      PUBLIC_FILE_MODE,
    );
    writeFileAtomic(
      L.config.runtime,
      `${JSON.stringify(runtimeConfig(L, this.ports, this.p, this.tamper, this.tamperScope), null, 2)}\n`,
      PUBLIC_FILE_MODE,
    );
    writeFileAtomic(
      L.config.gateway,
      `${JSON.stringify(gatewayConfig(L, this.ports, this.p), null, 2)}\n`,
      PUBLIC_FILE_MODE,
    );
  }

  protected override async startAll(): Promise<void> {
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
    if (this.o.images !== undefined) this.unpackImages(this.o.images);
    // From images, the broker loads the SoftHSM2 module of its own image (with the image's libcrypto).
    const brokerRoot = this.rootfs.keybroker;
    this.writeConfigs(brokerRoot === undefined ? modulePath : join(brokerRoot, IMAGE_SOFTHSM_MODULE));
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
      `gateway (pid ${gw.pid}): https://127.0.0.1:${ports.gateway}, client certificates from the sandbox CA; relays OHTTP it cannot open (and, dev only, the plaintext API) over mTLS, trusting only the broker CA`,
    );
  }

  /** Unpacks the three services' images of the OCI layout `layout` under `images/` of the sandbox directory. */
  private unpackImages(layout: string): void {
    const started = Date.now();
    const digests = new Map(readLayout(layout).map((i) => [i.name, i.digest]));
    for (const name of ["keybroker", "runtime", "gateway"] as const)
      this.rootfs[name] = unpackImage(layout, name, join(this.o.layout.root, "images", name));
    this.stepSay(
      `images: ${[...digests].map(([n, d]) => `${n} ${d.slice(0, 19)}…`).join(", ")} from the OCI layout ${layout}, unpacked into ${join(this.o.layout.root, "images")} (${((Date.now() - started) / 1000).toFixed(1)} s); each service runs on its image's own loader, C runtime, Node.js and code`,
    );
  }

  /** Restarts the runtime with the requested evidence and answers through `run/tamper-response.json`. */
  protected override async handleTamper(): Promise<void> {
    const L = this.o.layout;
    const req = readJsonFile<TamperRequest>(tamperRequestFile(L));
    rmSync(tamperRequestFile(L), { force: true });
    if (!req || this.phase !== "ready" || this.stopping) return;
    const tamper = req.mode === "reset" ? undefined : req.mode;
    const scope = req.scope ?? "broker";
    this.say(
      `tamper: restarting the runtime with ${
        tamper === undefined
          ? "genuine evidence"
          : scope === "bundle"
            ? `genuine evidence for the key broker, and in its attestation bundle ${tamperDescription(tamper, this.p)} (as if the broker had been bypassed)`
            : tamperDescription(tamper, this.p)
      }`,
    );
    this.runtimeMayExit = true;
    await this.services.get("runtime")?.stop();
    this.tamper = tamper;
    this.tamperScope = scope;
    writeFileAtomic(
      L.config.runtime,
      `${JSON.stringify(runtimeConfig(L, this.ports, this.p, tamper, scope), null, 2)}\n`,
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
        tamper === undefined
          ? "tamper: reset; the runtime attested again and serves"
          : scope === "bundle"
            ? "tamper: the runtime serves, publishing the tampered bundle; clients must refuse it"
            : "tamper: WARNING: the runtime attested with tampered evidence",
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
