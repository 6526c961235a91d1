/**
 * InferenceService's gateway from its clients' point of view: clients with rate limits, model
 * allowlists, API keys (secrets in, SHA-256 records out) and certificate fingerprints; client-facing
 * TLS (self-signed or provided); a LoadBalancer Service or an Ingress; the broker CA bundle the broker
 * publishes. The rendered gateway.json and API keys file go through the gateway's own parser and app
 * (`inject`): the configured keys are accepted, any other is refused.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import type { InferenceServiceArgs } from "../../components/inference/inference-service.js";
import { apiKeyRecord, generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { parseApiKeysFile, parseGatewayConfig } from "../../runtime/gateway/config.js";
import {
  children,
  expectRejectedBeforeChildren,
  fakePem,
  plainInputs,
  reg,
  registrations,
  secretInputs,
  settle,
  setupMocks,
  tlsComputed,
  value,
} from "../helpers/components.js";
import { k8sRegistrations, validateK8s } from "../helpers/k8s-schema.js";

const T = "confidential-inference:index:InferenceService";
const teamA1 = generateApiKey("team-a");
const teamA2 = generateApiKey("team-a");
const teamB = generateApiKey("team-b");
const FINGERPRINT = "f".repeat(64);
const base: InferenceServiceArgs = {
  runtimeNamespace: "ci-confidential",
  gatewayNamespace: "ci-gateway",
  runtimeImage: `registry.example/runtime@sha256:${"a".repeat(64)}`,
  gatewayImage: `registry.example/gateway@sha256:${"a".repeat(64)}`,
  scaling: { min: 2, max: 6 },
  gatewayReplicas: 2,
  resources: { cpu: "4", memory: "8Gi" },
  ports: { inference: 8443, gateway: 8080, metrics: 9464 },
  model: {
    name: "text-encoder",
    artifact: { sha256: "b".repeat(64), size: 100, source: "model-registry://m/1" },
    tokenizer: { sha256: "c".repeat(64), size: 10, source: "model-registry://m/1/tokenizer.json" },
    signerPublicKey: fakePem("PUBLIC KEY", "registry"),
  },
  batching: { maxBatchSize: 8, maxBatchDelayMs: 5, maxQueue: 256, requestTimeoutMs: 10000 },
  keyBroker: {
    url: "https://key-broker.ci-keys.svc.cluster.local:8444",
    listenerCertificate: fakePem("CERTIFICATE", "b"),
  },
  environment: "prod",
};
const clients = [
  {
    name: "team-a",
    perSecond: 1,
    burst: 3,
    models: ["text-encoder"],
    apiKeys: [pulumi.secret(teamA1.apiKey), pulumi.secret(teamA2.apiKey)],
  },
  {
    name: "team-b",
    perSecond: 50,
    burst: 100,
    apiKeys: [pulumi.secret(teamB.apiKey)],
    certificateSha256: [FINGERPRINT],
  },
];

let mod: typeof import("../../components/inference/inference-service.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks
let edge: InstanceType<typeof mod.InferenceService>;

beforeAll(async () => {
  await setupMocks(tlsComputed);
  mod = await import("../../components/inference/inference-service.js");
  edge = new mod.InferenceService("edge", {
    ...base,
    clients,
    clientTls: { kind: "self-signed", dnsNames: ["inference.example.com"], ipAddresses: ["203.0.113.10"] },
    clientCaCertificate: fakePem("CERTIFICATE", "client-ca"),
    exposure: {
      kind: "load-balancer",
      sourceRanges: ["198.51.100.0/24"],
      annotations: { "lb.example/internal": "true" },
    },
    brokerCa: {
      published: {
        configMapName: "key-broker-ca",
        key: "bundle.jws",
        publisherPublicKey: fakePem("PUBLIC KEY", "pub"),
      },
    },
  });
  new mod.InferenceService("web", {
    ...base,
    gatewayNamespace: "ci-web",
    clients: [{ name: "web", perSecond: 10, burst: 20, apiKeys: [pulumi.secret(teamB.apiKey)] }],
    clientTls: { kind: "provided", certificate: fakePem("CERTIFICATE", "team-pki"), privateKey: pulumi.secret("PKEY") },
    exposure: { kind: "ingress", host: "inference.example.com", className: "nginx" },
    brokerCa: { certificate: fakePem("CERTIFICATE", "broker-ca") },
  });
  await settle();
});

const gatewayFiles = (name: string) => ({
  config: plainInputs(reg("kubernetes:core/v1:ConfigMap", `${name}-gateway-config`)).data as Record<string, string>,
  apiKeys: plainInputs(reg("kubernetes:core/v1:Secret", `${name}-gateway-api-keys`)).stringData[
    "api-keys.json"
  ] as string,
});

describe("InferenceService gateway: clients, TLS, exposure", () => {
  it("creates the client-facing TLS, the API keys secret and the load balancer under the component", () => {
    const gw = children(T, "edge").filter((c) => c.includes("gateway"));
    expect(gw).toEqual([
      "kubernetes:apps/v1:Deployment::edge-gateway",
      "kubernetes:core/v1:ConfigMap::edge-gateway-config",
      "kubernetes:core/v1:Secret::edge-gateway-api-keys",
      "kubernetes:core/v1:Secret::edge-gateway-client-tls",
      "kubernetes:core/v1:Secret::edge-gateway-tls",
      "kubernetes:core/v1:Service::edge-gateway",
      "kubernetes:core/v1:Service::edge-gateway-public",
      "kubernetes:core/v1:ServiceAccount::edge-gateway",
      "kubernetes:policy/v1:PodDisruptionBudget::edge-gateway",
      "tls:index/privateKey:PrivateKey::edge-gateway-client-key",
      "tls:index/privateKey:PrivateKey::edge-gateway-tls-key",
      "tls:index/selfSignedCert:SelfSignedCert::edge-gateway-client-cert",
      "tls:index/selfSignedCert:SelfSignedCert::edge-gateway-tls-cert",
    ]);
  });

  it("renders clients, TLS and the published broker CA into a gateway.json the gateway's parser accepts", () => {
    const { config } = gatewayFiles("edge");
    const cfg = JSON.parse(config["gateway.json"] ?? "");
    expect(cfg).toEqual({
      listen: { host: "0.0.0.0", port: 8080 },
      ops: { host: "0.0.0.0", port: 9464 },
      tls: {
        certFile: "/etc/confidential-inference/tls/tls.crt",
        keyFile: "/etc/confidential-inference/tls/tls.key",
        clientCaFile: "/etc/confidential-inference/client-ca.pem",
      },
      upstreamTls: {
        brokerCaBundle: {
          file: "/etc/confidential-inference/broker-ca/bundle.jws",
          publisherPublicKeyFile: "/etc/confidential-inference/broker-ca-publisher.pem",
        },
        certFile: "/etc/confidential-inference/client-tls/tls.crt",
        keyFile: "/etc/confidential-inference/client-tls/tls.key",
      },
      routes: { "text-encoder": [{ url: "https://inference-runtime.ci-confidential.svc.cluster.local:8443" }] },
      clients: [
        { name: "team-a", rateLimit: { perSecond: 1, burst: 3 }, models: ["text-encoder"] },
        { name: "team-b", rateLimit: { perSecond: 50, burst: 100 }, certificateSha256: [FINGERPRINT] },
      ],
      apiKeys: [],
      apiKeysFile: "/etc/confidential-inference/api-keys/api-keys.json",
      plaintextApi: false,
    });
    expect(parseGatewayConfig(cfg).upstreamTls.brokerCaBundle?.refreshSeconds).toBe(10);
    expect(Object.keys(config).sort()).toEqual(["broker-ca-publisher.pem", "client-ca.pem", "gateway.json"]);
  });

  it("stores only SHA-256 records of the API keys, in a Secret; no key reaches any resource", () => {
    const secret = reg("kubernetes:core/v1:Secret", "edge-gateway-api-keys");
    expect(secretInputs(secret)).toEqual(["stringData"]);
    expect(parseApiKeysFile(gatewayFiles("edge").apiKeys)).toEqual([
      apiKeyRecord(teamA1.apiKey, "team-a"),
      apiKeyRecord(teamA2.apiKey, "team-a"),
      apiKeyRecord(teamB.apiKey, "team-b"),
    ]);
    const all = JSON.stringify(registrations.map((r) => plainInputs(r)));
    for (const k of [teamA1, teamA2, teamB]) expect(all).not.toContain(k.apiKey.slice(17));
  });

  it("accepts the configured keys and refuses any other (rendered config through the gateway's own parser and app)", async () => {
    const { config, apiKeys } = gatewayFiles("edge");
    const cfg = parseGatewayConfig(JSON.parse(config["gateway.json"] ?? ""));
    let forwarded = 0;
    const gw = buildGatewayApp({
      clients: cfg.clients,
      apiKeys: [...cfg.apiKeys, ...parseApiKeysFile(apiKeys)],
      routes: cfg.routes,
      runtimes: {
        forward: async () => {
          forwarded++;
          return {
            status: 200,
            contentType: "application/json",
            retryAfter: undefined,
            headerLength: undefined,
            body: Buffer.from("{}"),
          };
        },
      },
      logger: pino({ level: "silent" }),
      now: () => 0,
    });
    const ask = async (key: string) => {
      const r = await gw.inject({ url: "/v2/models/text-encoder", headers: { authorization: `Bearer ${key}` } });
      return [r.statusCode, r.statusCode === 200 ? "OK" : (r.json() as { code: string }).code];
    };
    expect(await ask(teamA1.apiKey)).toEqual([200, "OK"]);
    expect(await ask(teamA2.apiKey)).toEqual([200, "OK"]);
    expect(await ask(teamB.apiKey)).toEqual([200, "OK"]);
    expect(await ask(generateApiKey("team-a").apiKey)).toEqual([401, "UNAUTHENTICATED"]);
    expect(await ask(`${teamA1.apiKey.slice(0, -1)}${teamA1.apiKey.endsWith("A") ? "B" : "A"}`)).toEqual([
      401,
      "UNAUTHENTICATED",
    ]);
    // team-a's rate limit (burst 3): its third request this second is its last.
    expect(await ask(teamA1.apiKey)).toEqual([200, "OK"]);
    expect(await ask(teamA1.apiKey)).toEqual([429, "RATE_LIMITED"]);
    expect(forwarded).toBe(4);
  });

  it("serves TLS with a self-signed leaf for the Service and the configured names, exported for clients to pin", async () => {
    const cert = plainInputs(reg("tls:index/selfSignedCert:SelfSignedCert", "edge-gateway-tls-cert"));
    expect(cert).toMatchObject({
      isCaCertificate: false,
      allowedUses: ["digital_signature", "server_auth"],
      validityPeriodHours: 2160,
      earlyRenewalHours: 720,
      dnsNames: [
        "inference-gateway",
        "inference-gateway.ci-gateway",
        "inference-gateway.ci-gateway.svc",
        "inference-gateway.ci-gateway.svc.cluster.local",
        "inference.example.com",
      ],
      ipAddresses: ["203.0.113.10"],
    });
    expect(await value(edge.gatewayCertificate)).toBe(fakePem("CERTIFICATE", "edge-gateway-tls-cert"));
    const pod = plainInputs(reg("kubernetes:apps/v1:Deployment", "edge-gateway")).spec.template.spec;
    expect(pod.volumes).toContainEqual({
      name: "tls",
      secret: { secretName: "inference-gateway-tls", defaultMode: 0o440 },
    });
    expect(pod.volumes).toContainEqual({ name: "broker-ca", configMap: { name: "key-broker-ca" } });
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: "broker-ca",
      mountPath: "/etc/confidential-inference/broker-ca",
      readOnly: true,
    });
  });

  it("puts a LoadBalancer Service in front when asked (client addresses kept, source ranges applied)", () => {
    const lb = plainInputs(reg("kubernetes:core/v1:Service", "edge-gateway-public"));
    expect(lb.metadata.annotations).toEqual({ "lb.example/internal": "true" });
    expect(lb.spec).toEqual({
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      selector: {
        "app.kubernetes.io/name": "inference-gateway",
        "app.kubernetes.io/part-of": "confidential-inference",
      },
      ports: [{ name: "https", port: 443, targetPort: "http", protocol: "TCP" }],
      loadBalancerSourceRanges: ["198.51.100.0/24"],
    });
  });

  it("or an Ingress with the client-facing certificate, and a provided certificate kept secret", () => {
    const ing = plainInputs(reg("kubernetes:networking.k8s.io/v1:Ingress", "web-gateway"));
    expect(ing.spec).toEqual({
      ingressClassName: "nginx",
      tls: [{ hosts: ["inference.example.com"], secretName: "inference-gateway-tls" }],
      rules: [
        {
          host: "inference.example.com",
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: "inference-gateway", port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    });
    const tls = reg("kubernetes:core/v1:Secret", "web-gateway-tls");
    expect(secretInputs(tls)).toEqual(["stringData"]);
    expect(plainInputs(tls).stringData).toEqual({ "tls.crt": fakePem("CERTIFICATE", "team-pki"), "tls.key": "PKEY" });
    const { config } = gatewayFiles("web");
    expect(JSON.parse(config["gateway.json"] ?? "").upstreamTls.brokerCaFile).toBe(
      "/etc/confidential-inference/runtime-ca.pem",
    );
    expect(config["runtime-ca.pem"]).toBe(fakePem("CERTIFICATE", "broker-ca"));
  });

  it("rolls the gateway when a file it reads at start changes (not for a republished broker CA bundle)", () => {
    const a = plainInputs(reg("kubernetes:apps/v1:Deployment", "edge-gateway")).spec.template.metadata.annotations;
    const b = plainInputs(reg("kubernetes:apps/v1:Deployment", "web-gateway")).spec.template.metadata.annotations;
    expect(a["confidential-inference/config-sha256"]).toMatch(/^[0-9a-f]{64}$/);
    expect(a["confidential-inference/config-sha256"]).not.toBe(b["confidential-inference/config-sha256"]);
  });

  it("renders only schema-valid Kubernetes objects", () => {
    for (const r of k8sRegistrations(registrations)) validateK8s(r);
  });

  it.each([
    [
      "certificate fingerprints without a client CA",
      { clients: [{ name: "x", perSecond: 1, burst: 1, certificateSha256: [FINGERPRINT] }] },
      "clients[0].certificateSha256",
      "client certificates need clientCaCertificate (the gateway requests them only then)",
    ],
    [
      "a malformed API key",
      { clients: [{ name: "x", perSecond: 1, burst: 1, apiKeys: ["sk-123"] }] },
      "clients[0].apiKeys[0]",
      "not an API key (cik_<id>_<secret>)",
    ],
    [
      "a client CA without TLS",
      { clientCaCertificate: fakePem("CERTIFICATE", "ca") },
      "clientCaCertificate",
      "client certificates need clientTls",
    ],
    [
      "two clients of one name",
      {
        clients: [
          { name: "x", perSecond: 1, burst: 1 },
          { name: "x", perSecond: 1, burst: 1 },
        ],
      },
      "clients[1].name",
      "duplicate client x",
    ],
  ])("rejects %s before creating children", async (_n, patch, path, reason) => {
    await expectRejectedBeforeChildren(
      T,
      () => new mod.InferenceService(`bad-${path}`, { ...base, ...patch } as InferenceServiceArgs),
      path,
      reason,
    );
  });
});
