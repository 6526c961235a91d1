import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { KeyServiceArgs } from "../../components/keys/key-service.js";
import { parseKeyBrokerConfig } from "../../runtime/keybroker/config.js";
import { attestationPolicyFromVerifierPolicy } from "../../runtime/attestation/validate/attestation-policy.js";
import { JWS, KEY_SERVICE_ARGS, PIN, STORE_URL } from "../helpers/key-service.js";
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

const T = "confidential-inference:index:KeyService";
const ONE_BROKER =
  "must be 1 without store: the broker's key registry, wrapped data keys, manifest states, epochs and KBS sessions would live in one pod's state volume, so replicas would diverge (set store to share PostgreSQL)";
const args = KEY_SERVICE_ARGS;

let mod: typeof import("../../components/keys/key-service.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks
let keys: InstanceType<typeof mod.KeyService>;

beforeAll(async () => {
  await setupMocks(tlsComputed);
  mod = await import("../../components/keys/key-service.js");
  keys = new mod.KeyService("keys", args);
  new mod.KeyService("dev-keys", {
    ...args,
    namespace: "ci-dev-keys",
    replicas: 1,
    hsm: { ...args.hsm, kind: "softhsm", module: "/usr/lib/softhsm/libsofthsm2.so", tokenLabel: "ci-dev" },
  });
  new mod.KeyService("fleet-keys", {
    ...args,
    namespace: "ci-fleet-keys",
    replicas: 3,
    store: { kind: "postgres", connectionString: pulumi.secret(STORE_URL), rotationLeaseSeconds: 90 },
  });
  await settle();
});

describe("KeyService", () => {
  it("creates the broker, its service, PDB, account, PIN secret, config and listener TLS under the component", () => {
    expect(children(T, "keys")).toEqual([
      "kubernetes:apps/v1:Deployment::keys-broker",
      "kubernetes:core/v1:ConfigMap::keys-config",
      "kubernetes:core/v1:PersistentVolumeClaim::keys-state",
      "kubernetes:core/v1:Secret::keys-hsm-pin",
      "kubernetes:core/v1:Secret::keys-listener-tls",
      "kubernetes:core/v1:Service::keys-broker",
      "kubernetes:core/v1:ServiceAccount::keys-broker",
      "kubernetes:policy/v1:PodDisruptionBudget::keys-broker",
      "tls:index/privateKey:PrivateKey::keys-listener-key",
      "tls:index/selfSignedCert:SelfSignedCert::keys-listener-cert",
    ]);
  });

  it("grants the broker no Kubernetes API access at all without the CA publication", () => {
    expect(keys.caPublication).toBeUndefined();
    expect(children(T, "keys").filter((c) => /rbac\.authorization/.test(c))).toEqual([]);
    expect(plainInputs(reg("kubernetes:core/v1:ServiceAccount", "keys-broker")).automountServiceAccountToken).toBe(
      false,
    );
    expect(
      plainInputs(reg("kubernetes:apps/v1:Deployment", "keys-broker")).spec.template.spec.automountServiceAccountToken,
    ).toBe(false);
  });

  it("stores the HSM PIN only in a Kubernetes Secret, as a Pulumi secret, mounted as a file", () => {
    const secret = reg("kubernetes:core/v1:Secret", "keys-hsm-pin");
    expect(secretInputs(secret)).toEqual(["stringData"]);
    expect(plainInputs(secret).stringData).toEqual({ pin: PIN });
    for (const r of registrations.filter((x) => !x.name.endsWith("-hsm-pin")))
      expect(JSON.stringify(plainInputs(r))).not.toContain(PIN);
    const pod = plainInputs(reg("kubernetes:apps/v1:Deployment", "keys-broker")).spec.template.spec;
    expect(pod.volumes[1]).toEqual({
      name: "hsm-pin",
      secret: { secretName: "key-broker-hsm-pin", defaultMode: 0o440 },
    });
    expect(pod.containers[0].env).toBeUndefined();
  });

  it("writes a broker.json the key broker's own config parser accepts: PKCS#11 wiring, listeners, TTLs, appraisal policy", () => {
    const data = plainInputs(reg("kubernetes:core/v1:ConfigMap", "keys-config")).data;
    expect(Object.keys(data).sort()).toEqual([
      "broker.json",
      "golden-manifest.jws",
      "manifest-public-key.pem",
      "operator-ca.pem",
      "verifier-policy.json",
    ]);
    const broker = JSON.parse(data["broker.json"]);
    expect(broker).toEqual({
      stateDir: "/var/lib/key-broker",
      issuer: "https://key-broker.ci-keys.svc.cluster.local:8444",
      hsm: {
        modulePath: "/opt/hsm/lib/libCryptoki2_64.so",
        tokenLabel: "ci-prod-broker",
        pinFile: "/run/secrets/hsm/pin",
        keyLabels: { kek: "ci-kek", signing: "ci-token-signing", ca: "ci-broker-ca" },
      },
      listen: { host: "0.0.0.0", port: 8444, adminHost: "0.0.0.0", adminPort: 8445 },
      metrics: { host: "0.0.0.0", port: 9464 },
      tls: {
        dnsNames: [
          "key-broker",
          "key-broker.ci-keys",
          "key-broker.ci-keys.svc",
          "key-broker.ci-keys.svc.cluster.local",
        ],
        ipAddresses: [],
        certFile: "/run/secrets/tls/tls.crt",
        keyFile: "/run/secrets/tls/tls.key",
      },
      admin: { operatorCaFile: "/etc/confidential-inference/operator-ca.pem" },
      manifests: {
        signerPublicKeyFile: "/etc/confidential-inference/manifest-public-key.pem",
        files: ["/etc/confidential-inference/golden-manifest.jws"],
      },
      ttl: { nonceSeconds: 60, tokenSeconds: 180, sessionKeySeconds: 600, graceSeconds: 300 },
      attestation: { policyFile: "/etc/confidential-inference/verifier-policy.json", kds: true },
      runtimeCertificate: { dnsNames: ["inference-runtime.ci-confidential.svc"], ipAddresses: [] },
    });
    expect(parseKeyBrokerConfig(broker).hsm.pinFile).toBe("/run/secrets/hsm/pin");
    expect(
      parseKeyBrokerConfig(
        JSON.parse(plainInputs(reg("kubernetes:core/v1:ConfigMap", "dev-keys-config")).data["broker.json"]),
      ).hsm.softhsm,
    ).toEqual({ tokenDir: "/var/lib/key-broker/tokens", initialise: true });
    expect(data["golden-manifest.jws"]).toBe(JWS);
    expect(JSON.parse(data["verifier-policy.json"])).toEqual(args.attestation.verifierPolicy);
    expect(attestationPolicyFromVerifierPolicy(JSON.parse(data["verifier-policy.json"])).measurements).toEqual([
      "ab".repeat(48),
    ]);
  });

  it("backs the metrics port its Service and container advertise with the broker's metrics listener", () => {
    const broker = parseKeyBrokerConfig(
      JSON.parse(plainInputs(reg("kubernetes:core/v1:ConfigMap", "keys-config")).data["broker.json"]),
    );
    const service = plainInputs(reg("kubernetes:core/v1:Service", "keys-broker")).spec.ports;
    const container = plainInputs(reg("kubernetes:apps/v1:Deployment", "keys-broker")).spec.template.spec.containers[0];
    expect(broker.metrics).toEqual({ host: "0.0.0.0", port: 9464 });
    expect(service).toContainEqual({ name: "metrics", port: 9464, targetPort: "metrics", protocol: "TCP" });
    expect(container.ports).toContainEqual({ name: "metrics", containerPort: 9464, protocol: "TCP" });
  });

  it("rolls the broker when the manifest changes, one pod at a time (Recreate), evictable by a node drain", () => {
    const d = plainInputs(reg("kubernetes:apps/v1:Deployment", "keys-broker"));
    expect(d.spec.template.metadata.annotations).toEqual({
      "confidential-inference/golden-manifest-sha256": createHash("sha256").update(JWS).digest("hex"),
      // A renewed listener certificate rolls the broker too: it reads the certificate at start.
      "confidential-inference/listener-certificate-sha256": createHash("sha256")
        .update(fakePem("CERTIFICATE", "keys-listener-cert"))
        .digest("hex"),
    });
    const c = d.spec.template.spec.containers[0];
    expect([c.startupProbe, c.livenessProbe, c.readinessProbe]).toEqual([
      { httpGet: { path: "/v2/health/live", port: "metrics" }, periodSeconds: 2, failureThreshold: 60 },
      { httpGet: { path: "/v2/health/live", port: "metrics" }, periodSeconds: 10, failureThreshold: 6 },
      { httpGet: { path: "/v2/health/ready", port: "metrics" }, periodSeconds: 5, failureThreshold: 2 },
    ]);
    expect(d.spec.strategy).toEqual({ type: "Recreate" });
    expect(d.spec.replicas).toBe(1);
    expect(plainInputs(reg("kubernetes:policy/v1:PodDisruptionBudget", "keys-broker")).spec).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: { "app.kubernetes.io/name": "key-broker", "app.kubernetes.io/part-of": "confidential-inference" },
      },
    });
  });

  it.each([
    ["keys", "an enterprise HSM"],
    ["dev-keys", "SoftHSM (whose token is there too)"],
  ])("keeps the broker state of %s (%s) on a claim that outlives the pod, with one pod at a time", (name) => {
    expect(children(T, name)).toContain(`kubernetes:core/v1:PersistentVolumeClaim::${name}-state`);
    expect(plainInputs(reg("kubernetes:core/v1:PersistentVolumeClaim", `${name}-state`)).spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
    });
    const d = plainInputs(reg("kubernetes:apps/v1:Deployment", `${name}-broker`));
    expect(d.spec.strategy).toEqual({ type: "Recreate" });
    const c = d.spec.template.spec.containers[0];
    expect(c.args).toEqual(["--config", "/etc/confidential-inference/broker.json"]);
    expect(c.volumeMounts).toContainEqual({ name: "state", mountPath: "/var/lib/key-broker" });
    expect(d.spec.template.spec.volumes).toContainEqual({
      name: "state",
      persistentVolumeClaim: { claimName: "key-broker-state" },
    });
  });

  it("deploys a fleet as a StatefulSet of 3 on the shared store: connection string only in a Secret, audit log per pod", () => {
    expect(children(T, "fleet-keys")).toEqual([
      "kubernetes:apps/v1:StatefulSet::fleet-keys-broker",
      "kubernetes:core/v1:ConfigMap::fleet-keys-config",
      "kubernetes:core/v1:Secret::fleet-keys-hsm-pin",
      "kubernetes:core/v1:Secret::fleet-keys-listener-tls",
      "kubernetes:core/v1:Secret::fleet-keys-store",
      "kubernetes:core/v1:Service::fleet-keys-broker",
      "kubernetes:core/v1:ServiceAccount::fleet-keys-broker",
      "kubernetes:policy/v1:PodDisruptionBudget::fleet-keys-broker",
      "tls:index/privateKey:PrivateKey::fleet-keys-listener-key",
      "tls:index/selfSignedCert:SelfSignedCert::fleet-keys-listener-cert",
    ]);
    const store = reg("kubernetes:core/v1:Secret", "fleet-keys-store");
    expect(secretInputs(store)).toEqual(["stringData"]);
    expect(plainInputs(store).stringData).toEqual({ connection: STORE_URL });
    for (const r of registrations.filter((x) => !x.name.endsWith("-store")))
      expect(JSON.stringify(plainInputs(r))).not.toContain("s3cret-pw");
    const ss = plainInputs(reg("kubernetes:apps/v1:StatefulSet", "fleet-keys-broker"));
    expect(ss.spec).toMatchObject({
      replicas: 3,
      serviceName: "key-broker",
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "RollingUpdate" },
      volumeClaimTemplates: [
        {
          metadata: { name: "state" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      ],
    });
    const pod = ss.spec.template.spec;
    expect(pod.volumes.map((v: { name: string }) => v.name)).toEqual(["config", "hsm-pin", "tls", "scratch", "store"]);
    expect(pod.volumes.at(-1)).toEqual({
      name: "store",
      secret: { secretName: "key-broker-store", defaultMode: 0o440 },
    });
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: "store",
      mountPath: "/run/secrets/store",
      readOnly: true,
    });
    const broker = JSON.parse(
      plainInputs(reg("kubernetes:core/v1:ConfigMap", "fleet-keys-config")).data["broker.json"],
    );
    expect(broker.store).toEqual({
      kind: "postgres",
      connectionFile: "/run/secrets/store/connection",
      rotationLeaseSeconds: 90,
      queryTimeoutMs: 2000,
      poolSize: 8,
    });
    expect(parseKeyBrokerConfig(broker).store).toEqual(broker.store);
    expect(plainInputs(reg("kubernetes:policy/v1:PodDisruptionBudget", "fleet-keys-broker")).spec.maxUnavailable).toBe(
      1,
    );
  });

  it("makes only a leaf listener certificate (its key in state, the CA key stays in the HSM)", async () => {
    const cert = plainInputs(reg("tls:index/selfSignedCert:SelfSignedCert", "keys-listener-cert"));
    expect(cert).toMatchObject({
      isCaCertificate: false,
      allowedUses: ["digital_signature", "server_auth"],
      validityPeriodHours: 2160,
      earlyRenewalHours: 720,
    });
    expect(cert.dnsNames).toEqual([
      "key-broker",
      "key-broker.ci-keys",
      "key-broker.ci-keys.svc",
      "key-broker.ci-keys.svc.cluster.local",
    ]);
    expect(
      registrations.filter(
        (r) => r.type.startsWith("tls:") && JSON.stringify(r.inputs).includes('isCaCertificate":true'),
      ),
    ).toEqual([]);
    expect(secretInputs(reg("kubernetes:core/v1:Secret", "keys-listener-tls"))).toEqual(["stringData"]);
    expect(await value(keys.listenerCertificate)).toBe(fakePem("CERTIFICATE", "keys-listener-cert"));
    expect(await value(keys.endpoint)).toBe("https://key-broker.ci-keys.svc.cluster.local:8444");
  });

  it("renders only schema-valid Kubernetes objects", () => {
    const objects = k8sRegistrations(registrations);
    expect(objects).toHaveLength(24);
    for (const r of objects) validateK8s(r);
  });

  it.each([
    ["2 replicas", { replicas: 2 }, "replicas", ONE_BROKER],
    [
      "3 replicas without a store (an enterprise HSM shared by all would not help)",
      { replicas: 3 },
      "replicas",
      ONE_BROKER,
    ],
    [
      "3 replicas on SoftHSM (its token is one pod's files)",
      {
        replicas: 3,
        hsm: { ...args.hsm, kind: "softhsm" as const },
        store: { kind: "postgres" as const, connectionString: "postgresql://x" },
      },
      "hsm.kind",
      "replicas share one HSM token: SoftHSM's token is one pod's files, use a network HSM (pkcs11)",
    ],
    [
      "17 replicas",
      { replicas: 17, store: { kind: "postgres" as const, connectionString: "postgresql://x" } },
      "replicas",
      "must be an integer between 1 and 16",
    ],
    [
      "a relative module path",
      { hsm: { ...args.hsm, module: "libsofthsm2.so" } },
      "hsm.module",
      "must be an absolute path inside the image",
    ],
    [
      "an image by tag",
      { image: "registry.example/keybroker:1.0" },
      "image",
      "image must be pinned by digest (name@sha256:<64 hex>)",
    ],
    [
      "a token label over 32 bytes",
      { hsm: { ...args.hsm, tokenLabel: "x".repeat(33) } },
      "hsm.tokenLabel",
      "must be 1 to 32 bytes",
    ],
  ])("rejects %s before creating children", async (_n, patch, path, reason) => {
    await expectRejectedBeforeChildren(
      T,
      () => new mod.KeyService(`bad-${path}`, { ...args, ...patch } as KeyServiceArgs),
      path,
      reason,
    );
  });
});
