/**
 * Wires the components from the typed stack configuration: segmentation, golden measurements,
 * hosts and their guests, the key service and the inference service. `index.ts` reads the config
 * and the firmware images and exports the stack outputs; this module only creates resources.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type AlertRuleGroup,
  Monitoring,
  type PinnedArtifact,
  ConfidentialVm,
  type HostInventory,
  SevSnpHost,
  InferenceService,
  type InferenceServiceArgs,
  KeyService,
  WORKLOADS,
  GoldenMeasurements,
  memoizeCalculator,
  Segmentation,
} from "../components/index.js";
import type { PlatformInventory } from "../measurements/drift/index.js";
import { encodeGuestPolicy, snpLaunchDigest } from "../measurements/manifest/index.js";
import { goldenSourceFromStackConfig } from "./golden-inputs.js";
import { stackInitData } from "./initdata.js";
import type { LaunchShapeConfig, StackConfig } from "./config-schema.js";

/** What the program needs besides the config: secrets (already Pulumi secrets) and image bytes. */
export interface ProgramInputs {
  readonly config: StackConfig;
  readonly secrets: ReadonlyMap<string, pulumi.Output<string>>;
  /** Bytes of every firmware artifact the launch shapes use, by artifact name. */
  readonly images: ReadonlyMap<string, Uint8Array>;
  /** Alert rule groups (deploy/prometheus/alerts.yaml) for the PrometheusRule; read when `observability.prometheusOperator` is on. */
  readonly alertRules?: readonly AlertRuleGroup[];
}

/** The stack's outputs. */
export interface ProgramOutputs {
  readonly goldenMeasurements: GoldenMeasurements["goldenMeasurements"];
  readonly goldenManifest: pulumi.Output<string>;
  readonly verifierPolicy: GoldenMeasurements["verifierPolicy"];
  /** What each host's preflight found, by host name. */
  readonly hostInventory: pulumi.Output<Record<string, HostInventory>>;
  /** The same, keyed by chip id: the inventory the drift classifier reads. */
  readonly platformInventory: pulumi.Output<PlatformInventory>;
  /** Expected MEASUREMENT of each guest, by `<host>-<guest>`. */
  readonly expectedMeasurements: pulumi.Output<Record<string, string>>;
  readonly endpoints: pulumi.Output<{ gateway: string; runtime: string; keyBroker: string }>;
  /** The gateway's client-facing certificate (public; clients pin a self-signed one); absent without TLS. */
  readonly gatewayCertificate: pulumi.Output<string | undefined>;
}

function secret(inputs: ProgramInputs, key: string): pulumi.Output<string> {
  const value = inputs.secrets.get(key);
  if (value === undefined)
    throw new TypeError(`secret ${key} was not loaded (config validation should have required it)`);
  return value;
}

function pinned(config: StackConfig, name: string): PinnedArtifact {
  const a = config.artifacts[name];
  if (a === undefined) throw new TypeError(`unknown artifact ${name} (config validation should have refused it)`);
  return {
    name,
    sha256: a.sha256,
    size: a.size,
    source: a.source,
    ...(a.path === undefined ? {} : { localPath: a.path }),
  };
}

function image(inputs: ProgramInputs, name: string): Uint8Array {
  const bytes = inputs.images.get(name);
  if (bytes === undefined) throw new TypeError(`firmware image ${name} was not read`);
  return bytes;
}

/** The gateway's clients (API keys from their secret config keys), client-facing TLS and exposure. */
function gatewayArgs(
  inputs: ProgramInputs,
): Pick<InferenceServiceArgs, "clients" | "clientTls" | "clientCaCertificate" | "exposure"> {
  const g = inputs.config.gateway;
  const e = g.expose;
  return {
    clients: g.clients.map((c) => ({
      name: c.name,
      perSecond: c.rateLimit.perSecond,
      burst: c.rateLimit.burst,
      ...(c.models === undefined ? {} : { models: c.models }),
      apiKeys: c.apiKeySecrets.map((k) => secret(inputs, k)),
      certificateSha256: c.certificateSha256,
    })),
    ...(g.tls.mode === "self-signed"
      ? { clientTls: { kind: "self-signed" as const, dnsNames: g.tls.dnsNames, ipAddresses: g.tls.ipAddresses } }
      : g.tls.mode === "provided"
        ? {
            clientTls: {
              kind: "provided" as const,
              certificate: g.tls.certificate ?? "",
              privateKey: secret(inputs, g.tls.privateKeySecret),
            },
          }
        : {}),
    ...(g.tls.clientCaCertificate === undefined || g.tls.mode === "none"
      ? {}
      : { clientCaCertificate: g.tls.clientCaCertificate }),
    ...(e.kind === "load-balancer"
      ? {
          exposure: {
            kind: "load-balancer" as const,
            annotations: e.annotations,
            ...(e.loadBalancerSourceRanges === undefined ? {} : { sourceRanges: e.loadBalancerSourceRanges }),
          },
        }
      : e.kind === "ingress"
        ? {
            exposure: {
              kind: "ingress" as const,
              host: e.host ?? "",
              annotations: e.annotations,
              ...(e.ingressClassName === undefined ? {} : { className: e.ingressClassName }),
            },
          }
        : {}),
  };
}

/** Lowest SNP firmware API version (`major.minor`) the shapes' policies require; undefined for 0.0. */
function minFirmware(shapes: readonly LaunchShapeConfig[]): string | undefined {
  let best: [number, number] = [0, 0];
  for (const s of shapes) {
    const v: [number, number] = [s.policy.abiMajor, s.policy.abiMinor];
    if (v[0] > best[0] || (v[0] === best[0] && v[1] > best[1])) best = v;
  }
  return best[0] === 0 && best[1] === 0 ? undefined : `${best[0]}.${best[1]}`;
}

/**
 * Creates every resource of the stack.
 * @example const outputs = deployStack({ config, secrets, images }); export const verifierPolicy = outputs.verifierPolicy;
 */
export function deployStack(inputs: ProgramInputs): ProgramOutputs {
  const { config } = inputs;
  const measure = memoizeCalculator(snpLaunchDigest);
  const shapes = new Map(config.launchShapes.map((s) => [s.name, s]));
  const k8sOpts: pulumi.ComponentResourceOptions =
    config.kubernetes.context === undefined
      ? {}
      : { providers: [new k8s.Provider("kubernetes", { context: config.kubernetes.context })] };
  const ports = config.network.ports;

  const golden = new GoldenMeasurements("golden", {
    release: goldenSourceFromStackConfig(config).inputs,
    images: inputs.images,
    measure,
    releasedAt: config.golden.releasedAt,
    signing: { publicKey: config.golden.publicKey, privateKey: secret(inputs, config.golden.signingKeySecret) },
    attestation: config.attestation,
  });

  const inventories: Record<string, pulumi.Output<HostInventory>> = {};
  const measurements: Record<string, pulumi.Output<string>> = {};
  for (const h of config.hosts) {
    const hostShapes = h.guests
      .map((g) => shapes.get(g.launchShape))
      .filter((s): s is LaunchShapeConfig => s !== undefined);
    const firmware = [...new Set(hostShapes.map((s) => s.firmware))].sort().map((name) => pinned(config, name));
    const min = minFirmware(hostShapes);
    const floor = config.attestation.tcbFloors[h.product];
    const host = new SevSnpHost(h.name, {
      ssh: {
        host: h.address,
        port: h.ssh.port,
        user: h.ssh.user,
        privateKey: secret(inputs, h.ssh.privateKeySecret),
        ...(h.ssh.hostKey === undefined ? {} : { hostKey: h.ssh.hostKey }),
      },
      product: h.product,
      qemu: {
        packageManager: config.hostSetup.packageManager,
        packages: config.hostSetup.qemuPackages,
        minVersion: config.hostSetup.minQemuVersion,
      },
      firmware,
      stateDir: config.hostSetup.stateDir,
      kdsBaseUrl: config.hostSetup.kdsBaseUrl,
      ...(min === undefined ? {} : { minFirmware: min }),
      ...(floor === undefined ? {} : { tcbFloor: floor }),
      ...(config.attestation.chipAllowlist === undefined ? {} : { chipAllowlist: config.attestation.chipAllowlist }),
      refreshTriggers: [config.release],
    });
    inventories[h.name] = host.inventory;
    for (const g of h.guests) {
      const s = shapes.get(g.launchShape);
      if (s === undefined) continue;
      const vm = new ConfidentialVm(
        `${h.name}-${g.name}`,
        {
          host: host.target,
          shape: {
            name: s.name,
            firmware: pinned(config, s.firmware),
            ...(s.kernel === undefined ? {} : { kernel: pinned(config, s.kernel) }),
            ...(s.initrd === undefined ? {} : { initrd: pinned(config, s.initrd) }),
            ...(s.cmdline === undefined ? {} : { cmdline: s.cmdline }),
            vcpus: s.vcpus,
            vcpuType: s.vcpuType,
            memoryMiB: s.memoryMiB,
            guestFeatures: s.guestFeatures,
            policy: encodeGuestPolicy(s.policy),
          },
          firmwareImage: image(inputs, s.firmware),
          measure,
          network: { bridge: h.bridge, ...(g.macAddress === undefined ? {} : { macAddress: g.macAddress }) },
        },
        { dependsOn: host.target.ready },
      );
      measurements[`${h.name}-${g.name}`] = vm.expectedMeasurement;
    }
  }

  const zones = config.network.zones;
  const network = new Segmentation(
    "network",
    {
      zones: {
        gateway: zones.gateway.namespace,
        confidential: zones.confidential.namespace,
        keys: zones.keys.namespace,
        observability: zones.observability.namespace,
      },
      ports: { inference: ports.inference, broker: ports.broker, gateway: ports.gateway, metrics: ports.metrics },
      clusterDnsNamespace: config.network.dnsNamespace,
      environment: config.environment,
      ...(config.keyBroker.store ? { brokerEgress: config.keyBroker.store.egress } : {}),
      // The broker's only API access: publishing its CA bundle to the gateway (not with a static CA).
      ...(config.network.apiServer === undefined || config.keyBroker.caCertificate !== undefined
        ? {}
        : { apiServer: config.network.apiServer }),
    },
    k8sOpts,
  );

  const kb = config.keyBroker;
  const keys = new KeyService(
    "keys",
    {
      namespace: network.namespaces.keys,
      image: kb.image,
      replicas: kb.replicas,
      ...(kb.store
        ? {
            store: {
              kind: kb.store.kind,
              connectionString: secret(inputs, kb.store.connectionSecret),
              rotationLeaseSeconds: kb.store.rotationLeaseSeconds,
              queryTimeoutMs: kb.store.queryTimeoutMs,
              poolSize: kb.store.poolSize,
            },
          }
        : {}),
      hsm: {
        kind: config.hsm.kind,
        module: config.hsm.module,
        tokenLabel: config.hsm.tokenLabel,
        pin: secret(inputs, config.hsm.pinSecret),
        keyLabels: config.hsm.keyLabels,
      },
      attestation: {
        goldenManifest: golden.goldenManifest,
        manifestPublicKey: config.golden.publicKey,
        verifierPolicy: golden.verifierPolicy.apply((p) => ({ ...p })),
      },
      ports: { broker: ports.broker, admin: ports.brokerAdmin, metrics: ports.metrics },
      operatorCaCertificate: kb.operatorCaCertificate,
      runtimeDnsNames: [
        pulumi.interpolate`${WORKLOADS.runtime}.${network.namespaces.confidential}.svc`,
        pulumi.interpolate`${WORKLOADS.runtime}.${network.namespaces.confidential}.svc.cluster.local`,
      ],
      lifetimes: {
        tokenSeconds: kb.tokenTtlSeconds,
        sessionKeySeconds: kb.sessionKeyTtlSeconds,
        nonceSeconds: kb.nonceTtlSeconds,
        rotationGraceSeconds: kb.rotationGraceSeconds,
      },
      environment: config.environment,
      ...(kb.caCertificate === undefined ? { caPublication: { namespace: network.namespaces.gateway } } : {}),
    },
    k8sOpts,
  );

  const inf = config.inference;
  const initData = stackInitData(config);
  const file = (name: string) => ({
    sha256: pinned(config, name).sha256,
    size: pinned(config, name).size,
    source: pinned(config, name).source,
  });
  const inference = new InferenceService(
    "inference",
    {
      runtimeNamespace: network.namespaces.confidential,
      gatewayNamespace: network.namespaces.gateway,
      runtimeImage: inf.runtimeImage,
      gatewayImage: inf.gatewayImage,
      ...(inf.runtimeClassName === undefined ? {} : { runtimeClassName: inf.runtimeClassName }),
      ...(initData === undefined ? {} : { initData }),
      scaling: { min: inf.replicas, max: inf.maxReplicas },
      gatewayReplicas: inf.gatewayReplicas,
      resources: inf.resources,
      ports: { inference: ports.inference, gateway: ports.gateway, metrics: ports.metrics },
      model: {
        name: inf.model.name,
        artifact: file(inf.model.artifact),
        tokenizer: file(inf.model.tokenizer),
        signerPublicKey: inf.model.signerPublicKey,
      },
      batching: {
        maxBatchSize: inf.maxBatchSize,
        maxBatchDelayMs: inf.maxBatchDelayMs,
        maxQueue: inf.maxQueue,
        requestTimeoutMs: inf.requestTimeoutMs,
      },
      // Runtimes pin the broker's listener certificate (the KBS listener serves it).
      keyBroker: { url: keys.endpoint, listenerCertificate: keys.listenerCertificate },
      brokerCa: keys.caPublication ? { published: keys.caPublication } : { certificate: kb.caCertificate ?? "" },
      ...gatewayArgs(inputs),
      plaintextApi: inf.plaintextApi,
      goldenManifest: golden.goldenManifest,
      environment: config.environment,
    },
    k8sOpts,
  );

  if (config.observability.prometheusOperator)
    new Monitoring(
      "monitoring",
      {
        namespace: network.namespaces.observability,
        scrapeNamespaces: [network.namespaces.gateway, network.namespaces.confidential, network.namespaces.keys],
        alertRules: inputs.alertRules ?? [],
        labels: config.observability.labels,
      },
      k8sOpts,
    );

  const hostInventory = pulumi.all(inventories);
  return {
    goldenMeasurements: golden.goldenMeasurements,
    goldenManifest: golden.goldenManifest,
    verifierPolicy: golden.verifierPolicy,
    hostInventory,
    platformInventory: hostInventory.apply((byHost) =>
      Object.fromEntries(
        Object.entries(byHost).map(([host, inv]) => [
          inv.chipId,
          { product: inv.product, reportedTcb: inv.reportedTcb, host },
        ]),
      ),
    ),
    expectedMeasurements: pulumi.all(measurements),
    endpoints: pulumi
      .all([inference.gatewayEndpoint, inference.runtimeEndpoint, keys.endpoint])
      .apply(([gateway, runtime, keyBroker]) => ({ gateway, runtime, keyBroker })),
    gatewayCertificate: inference.gatewayCertificate,
  };
}
