import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { KeyServiceArgs } from "../../components/keys/key-service.js";
import { parseKeyBrokerConfig } from "../../runtime/keybroker/config.js";
import { attestationPolicyFromVerifierPolicy } from "../../runtime/attestation/validate/attestation-policy.js";
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
  "must be 1: the broker's key registry, wrapped data keys, manifest states, epochs and KBS sessions live in one pod's state volume, so replicas would diverge";
const JWS = "eyJhbGciOiJFUzM4NCJ9.eyJyZWxlYXNlIjoiMSJ9.c2ln";
const PIN = "4711-test-pin";
const args: KeyServiceArgs = {
  namespace: "ci-keys",
  image: `registry.example/keybroker@sha256:${"d".repeat(64)}`,
  replicas: 1,
  hsm: {
    kind: "pkcs11",
    module: "/opt/hsm/lib/libCryptoki2_64.so",
    tokenLabel: "ci-prod-broker",
    pin: pulumi.secret(PIN),
    keyLabels: { kek: "ci-kek", signing: "ci-token-signing", ca: "ci-broker-ca" },
  },
  attestation: {
    goldenManifest: JWS,
    manifestPublicKey: fakePem("PUBLIC KEY", "release"),
    verifierPolicy: {
      schemaVersion: 1,
      release: "2026.11.0",
      environment: "prod",
      allowedRoots: ["amd-genoa"],
      measurements: ["ab".repeat(48)],
      tcbFloors: { Genoa: { bootloader: 10, tee: 0, snp: 25, microcode: 84 } },
      allowedPolicyBits: "0x30000",
      allowDebug: false,
      allowMigrationAgent: false,
      requireSmtDisabled: false,
      maxVmpl: 0,
      minGuestSvn: 1,
      collateral: "kds",
      failOpenOnCollateral: false,
      manifestSigningKey: "pem",
    },
  },
  ports: { broker: 8444, admin: 8445, metrics: 9464 },
  operatorCaCertificate: fakePem("CERTIFICATE", "operators"),
  runtimeDnsNames: ["inference-runtime.ci-confidential.svc"],
  lifetimes: { tokenSeconds: 180, sessionKeySeconds: 600, nonceSeconds: 60, rotationGraceSeconds: 300 },
  environment: "prod",
};

let mod: typeof import("../../components/keys/key-service.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks
let keys: InstanceType<typeof mod.KeyService>;
let published: InstanceType<typeof mod.KeyService>;

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
  published = new mod.KeyService("pub-keys", {
    ...args,
    namespace: "ci-pub-keys",
    caPublication: { namespace: "ci-gateway" },
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

  it("publishes the CA bundle when asked: one ConfigMap, writable only by the broker (get + patch), a pinned key", async () => {
    expect(children(T, "pub-keys").filter((c) => /ca-(publication|publisher|bundle)/.test(c))).toEqual([
      "kubernetes:core/v1:ConfigMap::pub-keys-ca-bundle",
      "kubernetes:core/v1:Secret::pub-keys-ca-publication",
      "kubernetes:rbac.authorization.k8s.io/v1:Role::pub-keys-ca-publisher",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::pub-keys-ca-publisher",
      "tls:index/privateKey:PrivateKey::pub-keys-ca-publication-key",
    ]);
    const cm = reg("kubernetes:core/v1:ConfigMap", "pub-keys-ca-bundle");
    expect(plainInputs(cm).metadata.name).toBe("key-broker-ca");
    expect(plainInputs(cm).metadata.namespace).toBe("ci-gateway");
    expect(plainInputs(cm).data).toBeUndefined();
    expect(cm.options).toEqual({ ignoreChanges: ["data"] });
    expect(plainInputs(reg("kubernetes:rbac.authorization.k8s.io/v1:Role", "pub-keys-ca-publisher")).rules).toEqual([
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["key-broker-ca"], verbs: ["get", "patch"] },
    ]);
    const binding = plainInputs(reg("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "pub-keys-ca-publisher"));
    expect([binding.metadata.namespace, binding.roleRef, binding.subjects]).toEqual([
      "ci-gateway",
      { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "key-broker-ca-publisher" },
      [{ kind: "ServiceAccount", name: "key-broker", namespace: "ci-pub-keys" }],
    ]);
    expect(secretInputs(reg("kubernetes:core/v1:Secret", "pub-keys-ca-publication"))).toEqual(["stringData"]);
    const broker = parseKeyBrokerConfig(
      JSON.parse(plainInputs(reg("kubernetes:core/v1:ConfigMap", "pub-keys-config")).data["broker.json"]),
    );
    expect(broker.caPublication).toEqual({
      namespace: "ci-gateway",
      configMap: "key-broker-ca",
      key: "bundle.jws",
      signingKeyFile: "/run/secrets/ca-publication/key.pem",
      intervalSeconds: 30,
      tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
      caFile: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
    });
    const pod = plainInputs(reg("kubernetes:apps/v1:Deployment", "pub-keys-broker")).spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.volumes.slice(-2)).toEqual([
      { name: "ca-publication", secret: { secretName: "key-broker-ca-publication", defaultMode: 0o440 } },
      {
        name: "kube-api",
        projected: {
          sources: [
            { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
            { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          ],
        },
      },
    ]);
    expect(await value(published.caPublication?.publisherPublicKey ?? pulumi.output(""))).toBe(
      fakePem("PUBLIC KEY", "pub-keys-ca-publication-key"),
    );
    expect(await value(published.caPublication?.configMapName ?? pulumi.output(""))).toBe("key-broker-ca");
    expect(keys.caPublication).toBeUndefined();
  });

  it("renders only schema-valid Kubernetes objects", () => {
    const objects = k8sRegistrations(registrations);
    expect(objects).toHaveLength(28);
    for (const r of objects) validateK8s(r);
  });

  it.each([
    ["2 replicas", { replicas: 2 }, "replicas", ONE_BROKER],
    ["3 replicas (an enterprise HSM shared by all would not help)", { replicas: 3 }, "replicas", ONE_BROKER],
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
