/**
 * Starts and stops a whole runtime: the operations listener (metrics, probes) first, then the boot sequence
 * (attest -> keys -> verified models), then the OIP server over mTLS with the broker-issued certificate.
 * `stop()` drains: intake stops (503 `SHUTTING_DOWN`), in-flight requests finish, sessions are released.
 */
import type { AddressInfo } from "node:net";
import type { Server as HttpsServer } from "node:https";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { CertificateExpiry, MetricsRegistry, errorFields, buildOpsApp } from "../observability/index.js";
import type { Timers } from "./batching/batcher.js";
import { bootModels, checkServerCredentials, type BootOptions, type ReleasedCredentials } from "./boot.js";
import { CredentialRefresher } from "./credentials.js";
import { InferenceError } from "./errors.js";
import { buildApp } from "./server/app.js";
import { KeyRing, ReplayCache, type KeyRingOptions } from "./confidential/index.js";
import { createInferenceMetrics } from "./server/metrics.js";
import type { GeneratorEntry, ModelEntry } from "./server/routes.js";

/** Where the runtime is in its life. */
export type RuntimePhase = "booting" | "ready" | "failed" | "draining" | "stopped";

/** Options of `startRuntime`. */
export interface RuntimeOptions extends BootOptions {
  readonly logger: Logger;
  /** PEM CA bundle of the gateway: the only client certificates accepted. */
  readonly gatewayCa: string;
  /** OIP listener; port 0 picks a free port. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Operations listener (metrics + probes); port 0 picks a free port. */
  readonly ops: { readonly host: string; readonly port: number };
  readonly bodyLimit?: number;
  readonly server?: { readonly name: string; readonly version: string };
  /** OHTTP keys and attestation bundles (the confidential endpoint); absent: not served. */
  readonly attestation?: Omit<KeyRingOptions, "logger"> & {
    readonly noncesPerMinute: number;
    readonly maxReplayEntries: number;
  };
  /** Certificate renewal: retry delay in ms (default 5000), timers and clock (tests). */
  readonly renewal?: { readonly retryMs?: number; readonly timers?: Timers; readonly now?: () => number };
}

/** A started runtime. */
export interface RunningRuntime {
  phase(): RuntimePhase;
  /** Why boot failed; absent unless `phase()` is `failed`. */
  readonly failure: InferenceError | undefined;
  /** The OIP port (0 until ready). */
  readonly port: number;
  readonly opsPort: number;
  readonly registry: MetricsRegistry;
  /** Installs newly released TLS credentials (certificate rotation) without dropping connections. */
  rotateCredentials(c: ReleasedCredentials): void;
  /** Graceful shutdown: drain in-flight requests, release sessions, close both listeners. */
  stop(): Promise<void>;
}

/**
 * Starts a runtime. Resolves once boot finished (ready or failed); a failed boot leaves the ops listener up
 * (not ready) and `failure` set, and never opens the OIP listener.
 *
 * @example
 * const rt = await startRuntime({ artifacts, keyRelease, signerKey, batching, logger, gatewayCa, listen: { host: "0.0.0.0", port: 8443 }, ops: { host: "0.0.0.0", port: 9464 } });
 * if (rt.phase() !== "ready") process.exit(1);
 */
export async function startRuntime(opts: RuntimeOptions): Promise<RunningRuntime> {
  let phase: RuntimePhase = "booting";
  let failure: InferenceError | undefined;
  const registry = new MetricsRegistry({ processMetrics: true });
  const metrics = createInferenceMetrics(registry);
  let models = new Map<string, ModelEntry>();
  let generators = new Map<string, GeneratorEntry>();
  let app: FastifyInstance | undefined;
  let refresher: CredentialRefresher | undefined;
  let ring: KeyRing | undefined;
  const serving = () => phase === "ready" && refresher !== undefined && refresher.valid();
  registry.onCollect(() => {
    metrics.ready.set({}, serving() ? 1 : 0);
    for (const [name, m] of models) metrics.queueDepth.set({ model: name }, m.batcher.queued);
  });
  const expiry = new CertificateExpiry(registry);
  expiry.observe("gateway-client-ca", opts.gatewayCa);
  const ops = buildOpsApp({ registry, isReady: () => serving() });
  await ops.listen(opts.ops);
  const log = opts.logger;
  log.info({ event: "boot", phase }, "runtime booting");

  const install = (c: ReleasedCredentials) => {
    checkServerCredentials(c);
    if (!app) throw new TypeError("rotateCredentials: the runtime is not serving");
    (app.server as unknown as HttpsServer).setSecureContext({
      cert: c.serverCertificate,
      key: c.serverKey,
      ca: opts.gatewayCa,
    });
    expiry.observe("runtime-server", c.serverCertificate);
    log.info({ event: "credentials-rotated" }, "TLS credentials rotated");
  };
  try {
    const booted = await bootModels({ ...opts, onBatch: (model, rows) => metrics.batchRows.observe({ model }, rows) });
    models = booted.models;
    generators = booted.generators;
    const a = opts.attestation;
    if (a !== undefined) ring = await startKeyRing(a, log);
    app = buildApp({
      models,
      generators,
      logger: log,
      metrics,
      bodyLimit: opts.bodyLimit,
      isReady: serving,
      isDraining: () => phase === "draining",
      server: opts.server ?? { name: "confidential-inference", version: "0.1.0" },
      tls: { cert: booted.credentials.serverCertificate, key: booted.credentials.serverKey, clientCa: opts.gatewayCa },
      ...(a !== undefined && ring !== undefined
        ? {
            confidential: {
              ring,
              replay: new ReplayCache(a.maxReplayEntries, a.now),
              noncesPerMinute: a.noncesPerMinute,
              ...(a.now ? { now: a.now } : {}),
            },
          }
        : {}),
    });
    expiry.observe("runtime-server", booted.credentials.serverCertificate);
    app.server.on("tlsClientError", () => metrics.tlsFailures.inc());
    await app.listen(opts.listen);
    refresher = new CredentialRefresher(booted.credentials, {
      keyRelease: opts.keyRelease,
      apply: install,
      logger: log,
      ...opts.renewal,
    });
    refresher.start();
    phase = "ready";
    log.info(
      {
        event: "boot",
        phase,
        models: [
          ...[...models.values()].map((m) => ({ model: m.model.name, sha256: m.model.sha256 })),
          ...[...generators.values()].map((g) => ({ model: g.name, sha256: g.sha256 })),
        ],
      },
      "runtime ready",
    );
  } catch (e) {
    failure = e instanceof InferenceError ? e : new InferenceError("INTERNAL", "boot failed", { cause: e });
    phase = "failed";
    log.error(
      { event: "boot", phase, code: failure.code, err: errorFields(failure.cause ?? failure) },
      `runtime refused to serve: ${failure.message}`,
    );
    if (app) await app.close();
    app = undefined;
    ring?.stop();
  }

  const port = app ? (app.server.address() as AddressInfo).port : 0;
  return {
    phase: () => phase,
    failure,
    port,
    opsPort: (ops.server.address() as AddressInfo).port,
    registry,
    rotateCredentials: install,
    async stop() {
      if (phase === "stopped") return;
      phase = "draining";
      refresher?.stop();
      ring?.stop();
      log.info({ event: "shutdown", phase }, "draining");
      const closing = app?.close();
      await Promise.all([...models.values()].map((m) => m.batcher.drain()));
      await closing;
      await Promise.all([...models.values()].map((m) => m.model.session.release()));
      for (const g of generators.values()) g.engine.close();
      await Promise.all([...generators.values()].map((g) => g.model.release()));
      await ops.close();
      phase = "stopped";
      log.info({ event: "shutdown", phase }, "stopped");
    },
  };
}

/** Makes the first OHTTP key and bundle; a platform that gives no evidence ends the boot. */
async function startKeyRing(a: Omit<KeyRingOptions, "logger">, logger: Logger): Promise<KeyRing> {
  try {
    return await KeyRing.start({ ...a, logger });
  } catch (cause) {
    throw new InferenceError(
      "INTERNAL",
      `creating the OHTTP key and its attestation bundle: ${cause instanceof Error ? cause.message : "failed"}`,
      { cause },
    );
  }
}
