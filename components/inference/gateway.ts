/**
 * The gateway half of `InferenceService` (outside the boundary): its account, client-facing TLS, API
 * key records, config, Deployment (rolled when any of them changes), Service, PodDisruptionBudget and
 * the optional LoadBalancer Service or Ingress. The gateway trusts runtimes only through the broker
 * CA: the bundle the broker publishes (verified against the pinned publication key, reloaded without
 * a restart) or a CA certificate given in the stack config.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LABEL, WORKLOADS, workloadLabels } from "../labels.js";
import { leafCert, type LeafCert } from "../tls.js";
import {
  apiKeyRecordsJson,
  gatewayClientsConfig,
  type BrokerCaSourceArgs,
  type GatewayClientArgs,
  type GatewayExposureArgs,
  type GatewayTlsArgs,
} from "./gateway-args.js";
import { CONFIG_DIR, GATEWAY_PATHS, gatewayPodTemplate, rolloutDigest } from "./workloads.js";

/** What the gateway is built from (resolved by `InferenceService`). */
export interface GatewayParts {
  readonly namespace: pulumi.Input<string>;
  readonly image: pulumi.Input<string>;
  readonly replicas: pulumi.Input<number>;
  readonly ports: { readonly gateway: pulumi.Input<number>; readonly metrics: pulumi.Input<number> };
  readonly environment: pulumi.Input<string>;
  readonly model: pulumi.Input<string>;
  readonly runtimeEndpoint: pulumi.Output<string>;
  /** The gateway's client certificate to runtimes (mTLS). */
  readonly upstreamClient: LeafCert;
  readonly clients: readonly GatewayClientArgs[];
  readonly tls?: GatewayTlsArgs;
  readonly clientCaCertificate?: pulumi.Input<string>;
  readonly exposure?: GatewayExposureArgs;
  readonly brokerCa: { readonly published: BrokerCaSourceArgs } | { readonly certificate: pulumi.Input<string> };
  /** Also serve the API in clear (the gateway then sees prompts); dev only. */
  readonly plaintextApi?: pulumi.Input<boolean>;
}

/** What the gateway exposes. */
export interface GatewayOutputs {
  /** The client-facing certificate (public); absent without TLS. */
  readonly certificate: pulumi.Output<string> | undefined;
}

/** Creates the gateway's resources under `parent`. */
export function createGateway(name: string, g: GatewayParts, parent: pulumi.Resource): GatewayOutputs {
  const opts = { parent };
  const metadata = (objectName: string) => ({
    name: objectName,
    namespace: g.namespace,
    labels: { ...workloadLabels(WORKLOADS.gateway), [LABEL.zone]: "gateway", [LABEL.environment]: g.environment },
  });
  const host = pulumi.interpolate`${WORKLOADS.gateway}.${g.namespace}.svc`;

  const sa = new k8s.core.v1.ServiceAccount(
    `${name}-gateway`,
    { metadata: metadata(WORKLOADS.gateway), automountServiceAccountToken: false },
    opts,
  );
  const clientSecret = new k8s.core.v1.Secret(
    `${name}-gateway-client-tls`,
    {
      metadata: metadata(`${WORKLOADS.gateway}-client-tls`),
      type: "kubernetes.io/tls",
      stringData: { "tls.crt": g.upstreamClient.certPem, "tls.key": g.upstreamClient.keyPem },
    },
    opts,
  );

  let tlsPair: { cert: pulumi.Output<string>; key: pulumi.Output<string> } | undefined;
  if (g.tls?.kind === "self-signed") {
    const own = leafCert(
      `${name}-gateway-tls`,
      {
        commonName: host,
        dnsNames: [
          WORKLOADS.gateway,
          pulumi.interpolate`${WORKLOADS.gateway}.${g.namespace}`,
          host,
          pulumi.interpolate`${host}.cluster.local`,
          ...(g.tls.dnsNames ?? []),
          ...(g.exposure?.kind === "ingress" ? [g.exposure.host] : []),
        ],
        ...(g.tls.ipAddresses && g.tls.ipAddresses.length > 0 ? { ipAddresses: [...g.tls.ipAddresses] } : {}),
        uses: ["digital_signature", "server_auth"],
        validityHours: 24 * 90,
        renewHours: 24 * 30,
      },
      parent,
    );
    tlsPair = { cert: own.certPem, key: own.keyPem };
  } else if (g.tls?.kind === "provided") {
    tlsPair = { cert: pulumi.output(g.tls.certificate), key: pulumi.secret(g.tls.privateKey) };
  }
  const tlsSecret = tlsPair
    ? new k8s.core.v1.Secret(
        `${name}-gateway-tls`,
        {
          metadata: metadata(`${WORKLOADS.gateway}-tls`),
          type: "kubernetes.io/tls",
          stringData: { "tls.crt": tlsPair.cert, "tls.key": tlsPair.key },
        },
        opts,
      )
    : undefined;

  const apiKeys = apiKeyRecordsJson(g.clients);
  const apiKeysSecret = new k8s.core.v1.Secret(
    `${name}-gateway-api-keys`,
    { metadata: metadata(`${WORKLOADS.gateway}-api-keys`), type: "Opaque", stringData: { "api-keys.json": apiKeys } },
    opts,
  );

  // gateway.json follows runtime/gateway/config.ts (gatewayConfigSchema).
  const published = "published" in g.brokerCa ? g.brokerCa.published : undefined;
  const gatewayJson = pulumi.jsonStringify(
    {
      listen: { host: "0.0.0.0", port: g.ports.gateway },
      ops: { host: "0.0.0.0", port: g.ports.metrics },
      ...(tlsPair
        ? {
            tls: {
              certFile: `${GATEWAY_PATHS.tls}/tls.crt`,
              keyFile: `${GATEWAY_PATHS.tls}/tls.key`,
              ...(g.clientCaCertificate === undefined ? {} : { clientCaFile: `${CONFIG_DIR}/client-ca.pem` }),
            },
          }
        : {}),
      upstreamTls: {
        ...(published
          ? {
              brokerCaBundle: {
                file: `${GATEWAY_PATHS.brokerCa}/${published.key}`,
                publisherPublicKeyFile: `${CONFIG_DIR}/broker-ca-publisher.pem`,
              },
            }
          : { brokerCaFile: `${CONFIG_DIR}/runtime-ca.pem` }),
        certFile: `${GATEWAY_PATHS.upstreamClient}/tls.crt`,
        keyFile: `${GATEWAY_PATHS.upstreamClient}/tls.key`,
      },
      routes: pulumi.output(g.model).apply((model) => ({ [model]: [{ url: g.runtimeEndpoint }] })),
      clients: gatewayClientsConfig(g.clients),
      apiKeys: [],
      apiKeysFile: `${GATEWAY_PATHS.apiKeys}/api-keys.json`,
      plaintextApi: g.plaintextApi ?? false,
    },
    undefined,
    2,
  );
  const configData: Record<string, pulumi.Input<string>> = { "gateway.json": gatewayJson };
  if (published) configData["broker-ca-publisher.pem"] = published.publisherPublicKey;
  else configData["runtime-ca.pem"] = (g.brokerCa as { certificate: pulumi.Input<string> }).certificate;
  if (g.clientCaCertificate !== undefined && tlsPair) configData["client-ca.pem"] = g.clientCaCertificate;
  const config = new k8s.core.v1.ConfigMap(
    `${name}-gateway-config`,
    { metadata: metadata(`${WORKLOADS.gateway}-config`), data: configData },
    opts,
  );

  // A new config, key, certificate or API key rolls the gateway (files are read at start); the
  // published broker CA bundle does not: the gateway reloads it by itself.
  const rollout = pulumi.unsecret(
    pulumi
      .all([pulumi.output(configData), g.upstreamClient.certPem, tlsPair?.cert ?? "", apiKeys])
      .apply(([files, upstream, cert, keys]) =>
        rolloutDigest({ ...files, "client-tls/tls.crt": upstream, "tls/tls.crt": cert, "api-keys.json": keys }),
      ),
  );
  new k8s.apps.v1.Deployment(
    `${name}-gateway`,
    {
      metadata: metadata(WORKLOADS.gateway),
      spec: {
        replicas: g.replicas,
        selector: { matchLabels: workloadLabels(WORKLOADS.gateway) },
        template: gatewayPodTemplate({
          image: g.image,
          serviceAccountName: sa.metadata.name,
          configMapName: config.metadata.name,
          clientTlsSecretName: clientSecret.metadata.name,
          apiKeysSecretName: apiKeysSecret.metadata.name,
          ...(tlsSecret ? { tlsSecretName: tlsSecret.metadata.name } : {}),
          ...(published ? { brokerCaConfigMapName: published.configMapName } : {}),
          gatewayPort: g.ports.gateway,
          metricsPort: g.ports.metrics,
          rolloutDigest: rollout,
        }),
      },
    },
    opts,
  );
  new k8s.core.v1.Service(
    `${name}-gateway`,
    {
      metadata: metadata(WORKLOADS.gateway),
      spec: {
        type: "ClusterIP",
        selector: workloadLabels(WORKLOADS.gateway),
        ports: [
          { name: "http", port: g.ports.gateway, targetPort: "http", protocol: "TCP" },
          { name: "metrics", port: g.ports.metrics, targetPort: "metrics", protocol: "TCP" },
        ],
      },
    },
    opts,
  );
  new k8s.policy.v1.PodDisruptionBudget(
    `${name}-gateway`,
    {
      metadata: metadata(WORKLOADS.gateway),
      spec: { maxUnavailable: 1, selector: { matchLabels: workloadLabels(WORKLOADS.gateway) } },
    },
    opts,
  );
  expose(name, g, metadata, tlsSecret, opts);
  return { certificate: tlsPair?.cert };
}

/** The optional LoadBalancer Service or Ingress in front of the gateway. */
function expose(
  name: string,
  g: GatewayParts,
  metadata: (n: string) => {
    name: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, pulumi.Input<string>>;
  },
  tlsSecret: k8s.core.v1.Secret | undefined,
  opts: pulumi.CustomResourceOptions,
): void {
  const e = g.exposure;
  if (e === undefined) return;
  if (e.kind === "load-balancer") {
    new k8s.core.v1.Service(
      `${name}-gateway-public`,
      {
        metadata: {
          ...metadata(`${WORKLOADS.gateway}-public`),
          ...(e.annotations === undefined ? {} : { annotations: { ...e.annotations } }),
        },
        spec: {
          type: "LoadBalancer",
          // Keeps the client address (rate limits and logs see it) and skips a second hop.
          externalTrafficPolicy: "Local",
          selector: workloadLabels(WORKLOADS.gateway),
          ports: [
            { name: tlsSecret ? "https" : "http", port: tlsSecret ? 443 : 80, targetPort: "http", protocol: "TCP" },
          ],
          ...(e.sourceRanges === undefined ? {} : { loadBalancerSourceRanges: [...e.sourceRanges] }),
        },
      },
      opts,
    );
    return;
  }
  new k8s.networking.v1.Ingress(
    `${name}-gateway`,
    {
      metadata: {
        ...metadata(WORKLOADS.gateway),
        ...(e.annotations === undefined ? {} : { annotations: { ...e.annotations } }),
      },
      spec: {
        ...(e.className === undefined ? {} : { ingressClassName: e.className }),
        ...(tlsSecret ? { tls: [{ hosts: [e.host], secretName: tlsSecret.metadata.name }] } : {}),
        rules: [
          {
            host: e.host,
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: WORKLOADS.gateway, port: { name: "http" } } },
                },
              ],
            },
          },
        ],
      },
    },
    opts,
  );
}
