/**
 * The broker as a service: builds the verifier from the configuration, starts the broker, and
 * listens on the KBS port (TLS) and the admin port (mTLS with the operator CA). Used by main.ts,
 * by the sandbox (in-process) and by bench/keybroker. Writes the broker CA bundle to
 * `<stateDir>/ca.pem` so clients on the same machine can pin it.
 *
 * @example
 * const svc = await startKeyBrokerService(parseKeyBrokerConfig(json));
 * svc.kbsUrl; // https://127.0.0.1:8444
 * await svc.close();
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { SimulatedSnp } from "../simulators/index.js";
import {
  parseAttestationPolicy,
  ChainCache,
  directoryGetter,
  cachedGetter,
  kdsGetter,
  type CollateralGetter,
  anchorsFor,
  type TrustAnchor,
} from "../attestation/index.js";
import { buildOpsApp, CertificateExpiry, MetricsRegistry } from "../observability/index.js";
import { adminImportManifest } from "./admin-service.js";
import { KeyBroker, type KeyBrokerOptions } from "./broker.js";
import type { KeyBrokerConfig } from "./config.js";
import { KeyBrokerError } from "./errors.js";
import { buildAdminApp } from "./http/admin-app.js";
import { buildKbsApp } from "./http/kbs-app.js";
import { BrokerMetrics, instrumentKbsApp } from "./metrics.js";
import { CaPublisher } from "./publish/ca-publisher.js";
import { snpEvidenceVerifier } from "./release/snp-verifier.js";
import type { EvidenceVerifier } from "./release/verifier-port.js";

/** A running broker with its listeners. */
export interface KeyBrokerService {
  readonly broker: KeyBroker;
  readonly kbsUrl: string;
  readonly adminUrl: string;
  /** PEM bundle of the broker CA (what clients pin). */
  readonly caBundle: string;
  readonly kbs: FastifyInstance;
  readonly admin: FastifyInstance;
  /** The metrics listener (`config.metrics`): `/metrics` and the health routes; absent without it. */
  readonly ops?: FastifyInstance;
  /** `http://host:port` of the metrics listener; absent without it. */
  readonly metricsUrl?: string;
  /** The broker's metrics registry (process series included). */
  readonly registry: MetricsRegistry;
  /** Keeps the published CA bundle current (`config.caPublication`); absent without it. */
  readonly publisher?: CaPublisher;
  close(): Promise<void>;
}

/** Builds the real verifier from `config.attestation` (policy, simulated root only if listed, collateral). */
export async function verifierFromConfig(config: KeyBrokerConfig): Promise<EvidenceVerifier> {
  let policy;
  const field = config.attestation.policyFile ? "attestation.policyFile" : "attestation.policy";
  try {
    const raw = config.attestation.policyFile
      ? (JSON.parse(readFileSync(config.attestation.policyFile, "utf8")) as unknown)
      : config.attestation.policy;
    policy = parseAttestationPolicy(raw);
  } catch (e) {
    throw new KeyBrokerError("CONFIG_INVALID", `${field}: ${(e as Error).message}`, { cause: e });
  }
  let simulated: TrustAnchor[] = [];
  let getter: CollateralGetter | undefined;
  if (policy.allowedRoots.includes("simulated")) {
    if (!config.attestation.simulatedSnpDir)
      throw new KeyBrokerError(
        "CONFIG_INVALID",
        "attestation.simulatedSnpDir: required when attestation.policy.allowedRoots lists simulated",
      );
    const sim = await SimulatedSnp.open({ dir: config.attestation.simulatedSnpDir });
    simulated = [sim.anchor()];
    getter = sim.getter();
  } else if (config.attestation.collateralDir) {
    getter = directoryGetter(config.attestation.collateralDir);
  } else if (config.attestation.kds) {
    getter = cachedGetter(kdsGetter());
  }
  return snpEvidenceVerifier({
    anchors: anchorsFor(policy.allowedRoots, simulated),
    policy,
    cache: new ChainCache(),
    ...(getter ? { getter } : {}),
  });
}

/** Starts the broker and both listeners. */
export async function startKeyBrokerService(
  config: KeyBrokerConfig,
  options: Partial<Omit<KeyBrokerOptions, "config">> & { logger?: Logger } = {},
): Promise<KeyBrokerService> {
  const verifier = options.verifier ?? (await verifierFromConfig(config));
  const registry = new MetricsRegistry({ processMetrics: config.metrics !== undefined });
  const metrics = new BrokerMetrics(registry);
  const broker = await KeyBroker.start({
    importManifest: adminImportManifest,
    onAudit: (entry) => metrics.audit(entry),
    onHsmOperation: (seconds, ok) => metrics.hsm(seconds, ok),
    ...options,
    config,
    verifier,
  });
  let ops: FastifyInstance | undefined;
  let publisher: CaPublisher | undefined;
  try {
    const own = broker.listenerTls();
    const files =
      config.tls.certFile && config.tls.keyFile
        ? { cert: readText(config.tls.certFile, "tls.certFile"), key: readText(config.tls.keyFile, "tls.keyFile") }
        : undefined;
    const tls = files ? { ...own, ...files } : own;
    let operatorCa: string;
    try {
      operatorCa = readFileSync(config.admin.operatorCaFile, "utf8");
    } catch (e) {
      throw new KeyBrokerError("CONFIG_INVALID", `admin.operatorCaFile: cannot read ${config.admin.operatorCaFile}`, {
        cause: e,
      });
    }
    const kbs = buildKbsApp(broker, { https: tls });
    instrumentKbsApp(kbs, metrics);
    const admin = buildAdminApp(broker, { https: { ...tls, operatorCa } });
    const expiry = new CertificateExpiry(registry);
    expiry.observe("listener", tls.cert);
    registry.onCollect(async () => {
      metrics.hsmAvailable.set({}, broker.hsm.available ? 1 : 0);
      // With the PostgreSQL store, the fleet's sessions (one shared table); a store away keeps the last value.
      metrics.sessions.set({}, await broker.sessions.count());
    });
    if (config.metrics) {
      // Ready while the HSM is usable: a broker that fails closed takes no new runtimes.
      ops = buildOpsApp({ registry, isReady: () => broker.hsm.available, timeouts: config.timeouts });
      await ops.listen({ host: config.metrics.host, port: config.metrics.port });
    }
    await kbs.listen({ host: config.listen.host, port: config.listen.port });
    await admin.listen({ host: config.listen.adminHost, port: config.listen.adminPort });
    writeFileSync(join(config.stateDir, "ca.pem"), tls.caBundle);
    if (config.caPublication) {
      const p = config.caPublication;
      publisher = new CaPublisher({
        target: {
          apiServer: p.apiServer ?? apiServerFromEnv(options.env ?? process.env),
          namespace: p.namespace,
          name: p.configMap,
          tokenFile: p.tokenFile,
          caFile: p.caFile,
          timeoutMs: 10_000,
        },
        key: p.key,
        signingKeyFile: p.signingKeyFile,
        intervalMs: p.intervalSeconds * 1000,
        bundle: () => broker.caBundle(),
        now: broker.now,
        logger: broker.log,
        registry,
      });
      publisher.start();
    }
    const url = (app: FastifyInstance, host: string, scheme = "https") =>
      `${scheme}://${host.includes(":") ? `[${host}]` : host}:${(app.server.address() as AddressInfo).port}`;
    const kbsUrl = url(kbs, config.listen.host);
    const adminUrl = url(admin, config.listen.adminHost);
    const metricsUrl = ops && config.metrics ? url(ops, config.metrics.host, "http") : undefined;
    broker.log.info({ event: "broker.listen", kbsUrl, adminUrl, metricsUrl }, "key broker listening");
    const opsApp = ops;
    return {
      broker,
      kbsUrl,
      adminUrl,
      caBundle: tls.caBundle,
      kbs,
      admin,
      registry,
      ...(opsApp && metricsUrl ? { ops: opsApp, metricsUrl } : {}),
      ...(publisher ? { publisher } : {}),
      async close() {
        await publisher?.stop();
        await kbs.close();
        await admin.close();
        await opsApp?.close();
        await broker.close();
      },
    };
  } catch (e) {
    await publisher?.stop();
    await ops?.close();
    await broker.close();
    throw e;
  }
}

/** The in-cluster API server URL from the variables the kubelet sets in every pod. */
function apiServerFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  const host = env["KUBERNETES_SERVICE_HOST"];
  if (!host)
    throw new KeyBrokerError(
      "CONFIG_INVALID",
      "caPublication.apiServer: not set and KUBERNETES_SERVICE_HOST is absent (not running in a pod)",
    );
  return `https://${host.includes(":") ? `[${host}]` : host}:${env["KUBERNETES_SERVICE_PORT"] ?? "443"}`;
}

function readText(path: string, field: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new KeyBrokerError("CONFIG_INVALID", `${field}: cannot read ${path}`, { cause: e });
  }
}
