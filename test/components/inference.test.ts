import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../../core/canonical-json.js";
import type { InferenceServiceArgs } from "../../components/inference/inference-service.js";
import { KATA_INITDATA_ANNOTATION, runtimeInitData } from "../../components/inference/initdata.js";
import { RUNTIME_ARGS, RUNTIME_MOUNTS } from "../../components/inference/workloads.js";
import { parseGatewayConfig } from "../../runtime/gateway/config.js";
import { parseAttestationConfig } from "../../runtime/inference/confidential/config.js";
import { parseRuntimeConfig } from "../../runtime/inference/config.js";
import { keyReleaseOptionsSchema } from "../../runtime/inference/key-release.js";
import {
  children,
  fakePem,
  plainInputs,
  reg,
  registrations,
  secretInputs,
  expectRejectedBeforeChildren,
  settle,
  setupMocks,
  tlsComputed,
  value,
} from "../helpers/components.js";
import { k8sRegistrations, validateK8s } from "../helpers/k8s-schema.js";

const T = "confidential-inference:index:InferenceService";
const INIT_DATA = runtimeInitData({
  image: `registry.example/runtime@sha256:${"a".repeat(64)}`,
  brokerUrl: "https://key-broker.ci-keys.svc.cluster.local:8444",
  args: RUNTIME_ARGS,
  mounts: RUNTIME_MOUNTS,
});
const DIGEST = "a".repeat(64);
const args: InferenceServiceArgs = {
  runtimeNamespace: "ci-confidential",
  gatewayNamespace: "ci-gateway",
  runtimeImage: `registry.example/runtime@sha256:${DIGEST}`,
  gatewayImage: `registry.example/gateway@sha256:${DIGEST}`,
  runtimeClassName: "kata-qemu-snp",
  initData: INIT_DATA,
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
    listenerCertificate: fakePem("CERTIFICATE", "broker"),
  },
  environment: "prod",
};

let mod: typeof import("../../components/inference/inference-service.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks
let svc: InstanceType<typeof mod.InferenceService>;

beforeAll(async () => {
  await setupMocks(tlsComputed);
  mod = await import("../../components/inference/inference-service.js");
  svc = new mod.InferenceService("inference", args);
  await settle();
});

describe("InferenceService", () => {
  it("creates the runtime, gateway, their services, config, client TLS, PDBs and the HPA under the component", () => {
    expect(children(T, "inference")).toEqual([
      "kubernetes:apps/v1:Deployment::inference-gateway",
      "kubernetes:apps/v1:Deployment::inference-runtime",
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler::inference-runtime",
      "kubernetes:core/v1:ConfigMap::inference-gateway-config",
      "kubernetes:core/v1:ConfigMap::inference-runtime-config",
      "kubernetes:core/v1:Secret::inference-gateway-api-keys",
      "kubernetes:core/v1:Secret::inference-gateway-client-tls",
      "kubernetes:core/v1:Service::inference-gateway",
      "kubernetes:core/v1:Service::inference-runtime",
      "kubernetes:core/v1:ServiceAccount::inference-gateway",
      "kubernetes:core/v1:ServiceAccount::inference-runtime",
      "kubernetes:policy/v1:PodDisruptionBudget::inference-gateway",
      "kubernetes:policy/v1:PodDisruptionBudget::inference-runtime",
      "tls:index/privateKey:PrivateKey::inference-gateway-client-key",
      "tls:index/selfSignedCert:SelfSignedCert::inference-gateway-client-cert",
    ]);
  });

  it("runs the runtime by digest, in the confidential RuntimeClass, non-root, read-only, tokenless, with limits", () => {
    const d = plainInputs(reg("kubernetes:apps/v1:Deployment", "inference-runtime"));
    expect(d.metadata).toEqual({
      name: "inference-runtime",
      namespace: "ci-confidential",
      labels: {
        "app.kubernetes.io/name": "inference-runtime",
        "app.kubernetes.io/part-of": "confidential-inference",
        "confidential-inference/zone": "confidential",
        "confidential-inference/environment": "prod",
      },
    });
    const pod = d.spec.template.spec;
    expect(pod.runtimeClassName).toBe("kata-qemu-snp");
    // Kata hands the initdata to the guest; its digest is the HOST_DATA the golden manifest binds
    expect(d.spec.template.metadata.annotations[KATA_INITDATA_ANNOTATION]).toBe(INIT_DATA.annotation);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe("inference-runtime");
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const [c] = pod.containers;
    expect(c.image).toBe(`registry.example/runtime@sha256:${DIGEST}`);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.resources).toEqual({ limits: { cpu: "4", memory: "8Gi" }, requests: { cpu: "4", memory: "8Gi" } });
    expect(c.ports).toEqual([
      { name: "mtls", containerPort: 8443, protocol: "TCP" },
      { name: "metrics", containerPort: 9464, protocol: "TCP" },
    ]);
    expect(pod.volumes).toEqual([
      { name: "config", configMap: { name: "inference-runtime-config" } },
      { name: "scratch", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
    ]);
    expect([c.startupProbe, c.livenessProbe, c.readinessProbe]).toEqual([
      { httpGet: { path: "/v2/health/live", port: "metrics" }, periodSeconds: 2, failureThreshold: 60 },
      { httpGet: { path: "/v2/health/live", port: "metrics" }, periodSeconds: 10, failureThreshold: 6 },
      { httpGet: { path: "/v2/health/ready", port: "metrics" }, periodSeconds: 5, failureThreshold: 2 },
    ]);
    expect(pod.topologySpreadConstraints).toEqual(
      ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: {
          matchLabels: {
            "app.kubernetes.io/name": "inference-runtime",
            "app.kubernetes.io/part-of": "confidential-inference",
          },
        },
      })),
    );
    const data = plainInputs(reg("kubernetes:core/v1:ConfigMap", "inference-runtime-config")).data;
    expect(d.spec.template.metadata.annotations).toEqual({
      "confidential-inference/config-sha256": createHash("sha256").update(canonicalJson(data)).digest("hex"),
      [KATA_INITDATA_ANNOTATION]: INIT_DATA.annotation,
    });
    expect(d.spec.replicas).toBe(2);
    expect(reg("kubernetes:apps/v1:Deployment", "inference-runtime").options).toEqual({
      ignoreChanges: ["spec.replicas"],
    }); // the HPA owns it
  });

  it("puts the gateway outside the boundary with its client certificate", () => {
    const d = plainInputs(reg("kubernetes:apps/v1:Deployment", "inference-gateway"));
    expect(d.metadata.namespace).toBe("ci-gateway");
    expect(d.spec.template.spec.runtimeClassName).toBeUndefined();
    expect(d.spec.template.spec.volumes[1]).toEqual({
      name: "client-tls",
      secret: { secretName: "inference-gateway-client-tls", defaultMode: 0o440 },
    });
    const data = plainInputs(reg("kubernetes:core/v1:ConfigMap", "inference-gateway-config")).data;
    const cfg = JSON.parse(data["gateway.json"]);
    expect(cfg).toEqual({
      listen: { host: "0.0.0.0", port: 8080 },
      ops: { host: "0.0.0.0", port: 9464 },
      upstreamTls: {
        brokerCaFile: "/etc/confidential-inference/runtime-ca.pem",
        certFile: "/etc/confidential-inference/client-tls/tls.crt",
        keyFile: "/etc/confidential-inference/client-tls/tls.key",
      },
      routes: { "text-encoder": [{ url: "https://inference-runtime.ci-confidential.svc.cluster.local:8443" }] },
      clients: [{ name: "default", rateLimit: { perSecond: 50, burst: 100 } }],
      apiKeys: [],
      apiKeysFile: "/etc/confidential-inference/api-keys/api-keys.json",
      // Only the OHTTP relay unless the stack allows the plaintext API (dev).
      plaintextApi: false,
    });
    expect(parseGatewayConfig(cfg).routes["text-encoder"]).toHaveLength(1);
    // No broker CA given: the gateway trusts no runtime at all (fail closed).
    expect(data["runtime-ca.pem"]).toBe("");
    expect(plainInputs(reg("kubernetes:core/v1:Secret", "inference-gateway-api-keys")).stringData).toEqual({
      "api-keys.json": "[]",
    });
  });

  it("makes a leaf client certificate, never a CA, and keeps its key secret", () => {
    const cert = plainInputs(reg("tls:index/selfSignedCert:SelfSignedCert", "inference-gateway-client-cert"));
    expect(cert.isCaCertificate).toBe(false);
    expect(cert.allowedUses).toEqual(["digital_signature", "client_auth"]);
    expect(plainInputs(reg("tls:index/privateKey:PrivateKey", "inference-gateway-client-key"))).toEqual({
      algorithm: "ECDSA",
      ecdsaCurve: "P384",
    });
    const secret = reg("kubernetes:core/v1:Secret", "inference-gateway-client-tls");
    expect(secretInputs(secret)).toEqual(["stringData"]);
    expect(plainInputs(secret).stringData).toEqual({
      "tls.crt": fakePem("CERTIFICATE", "inference-gateway-client-cert"),
      "tls.key": fakePem("PRIVATE KEY", "inference-gateway-client-key"),
    });
  });

  it("configures the runtime with the pinned model, the broker and the gateway's certificate", () => {
    const data = plainInputs(reg("kubernetes:core/v1:ConfigMap", "inference-runtime-config")).data;
    expect(Object.keys(data).sort()).toEqual([
      "gateway-client-ca.pem",
      "key-broker-ca.pem",
      "model-signer.pem",
      "runtime.json",
    ]);
    const cfg = JSON.parse(data["runtime.json"]);
    expect(cfg).toEqual({
      listen: { host: "0.0.0.0", port: 8443 },
      ops: { host: "0.0.0.0", port: 9464 },
      models: [
        {
          name: "text-encoder",
          container: "/opt/models/text-encoder/model.onnx.enc",
          signature: "/opt/models/text-encoder/model.onnx.enc.jws",
          tokenizer: "/opt/models/text-encoder/tokenizer.json",
          containerSha256: "b".repeat(64),
        },
      ],
      signerPublicKeyFile: "/etc/confidential-inference/model-signer.pem",
      gatewayCaFile: "/etc/confidential-inference/gateway-client-ca.pem",
      batching: { maxBatchSize: 8, maxBatchDelayMs: 5, maxQueue: 256, requestTimeoutMs: 10000 },
      keyBroker: {
        url: "https://key-broker.ci-keys.svc.cluster.local:8444",
        caFile: "/etc/confidential-inference/key-broker-ca.pem",
        evidence: { kind: "configfs-tsm" },
      },
      // OHTTP bundles bound to the same evidence (no golden manifest given to this component).
      attestation: {},
    });
    expect(parseRuntimeConfig(cfg).models[0]?.containerSha256).toBe("b".repeat(64));
    expect(parseAttestationConfig(cfg.attestation, cfg.keyBroker.evidence)?.evidence).toEqual({ kind: "configfs-tsm" });
    expect(keyReleaseOptionsSchema.parse(cfg.keyBroker).evidence).toEqual({ kind: "configfs-tsm" });
    expect(data["gateway-client-ca.pem"]).toBe(fakePem("CERTIFICATE", "inference-gateway-client-cert"));
    expect(data["key-broker-ca.pem"]).toBe(fakePem("CERTIFICATE", "broker"));
    expect(data["model-signer.pem"]).toBe(fakePem("PUBLIC KEY", "registry"));
    expect(secretInputs(reg("kubernetes:core/v1:ConfigMap", "inference-runtime-config"))).toEqual([]);
  });

  it("scales the runtime between min and max on CPU", () => {
    expect(plainInputs(reg("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "inference-runtime")).spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "inference-runtime" },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
      ],
    });
  });

  it("exposes endpoints and the client certificate", async () => {
    expect(await value(svc.runtimeEndpoint)).toBe("https://inference-runtime.ci-confidential.svc.cluster.local:8443");
    expect(await value(svc.gatewayEndpoint)).toBe("inference-gateway.ci-gateway.svc.cluster.local:8080");
    expect(await value(svc.gatewayClientCertificate)).toBe(fakePem("CERTIFICATE", "inference-gateway-client-cert"));
  });

  it("keeps one runtime and one gateway at most out at a time in a node drain", () => {
    for (const w of ["runtime", "gateway"])
      expect(plainInputs(reg("kubernetes:policy/v1:PodDisruptionBudget", `inference-${w}`)).spec).toEqual({
        maxUnavailable: 1,
        selector: {
          matchLabels: {
            "app.kubernetes.io/name": `inference-${w}`,
            "app.kubernetes.io/part-of": "confidential-inference",
          },
        },
      });
  });

  it("renders only schema-valid Kubernetes objects", () => {
    const objects = k8sRegistrations(registrations);
    expect(objects).toHaveLength(13);
    for (const r of objects) validateK8s(r);
  });

  it.each([
    [
      "an image by tag",
      { runtimeImage: "registry.example/runtime:latest" },
      "runtimeImage",
      "image must be pinned by digest (name@sha256:<64 hex>)",
    ],
    ["max below min", { scaling: { min: 4, max: 2 } }, "scaling.max", "must be at least scaling.min"],
    [
      "a bad memory quantity",
      { resources: { cpu: "2", memory: "8GB" } },
      "resources.memory",
      'must be a memory quantity ("4Gi")',
    ],
    [
      "an unpinned model",
      { model: { ...args.model, artifact: { ...args.model.artifact, sha256: "abc" } } },
      "model.artifact.sha256",
      "must be a lower-case hex SHA-256",
    ],
  ])("rejects %s before creating children", async (_n, patch, path, reason) => {
    await expectRejectedBeforeChildren(
      T,
      () => new mod.InferenceService(`bad-${path}`, { ...args, ...patch } as InferenceServiceArgs),
      path,
      reason,
    );
  });
});
