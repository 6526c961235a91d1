/**
 * KeyService with the broker CA publication (`caPublication`): the ConfigMap in the gateway's
 * namespace only the broker may write, the publication key, the projected API token; for the
 * single broker (Deployment) and a fleet on the PostgreSQL store (StatefulSet) alike.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseKeyBrokerConfig } from "../../runtime/keybroker/config.js";
import {
  children,
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
import { KEY_SERVICE_ARGS, STORE_URL } from "../helpers/key-service.js";
import { k8sRegistrations, validateK8s } from "../helpers/k8s-schema.js";

const T = "confidential-inference:index:KeyService";
const KUBE_API_VOLUMES = [
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
];

let mod: typeof import("../../components/keys/key-service.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks
let published: InstanceType<typeof mod.KeyService>;

beforeAll(async () => {
  await setupMocks(tlsComputed);
  mod = await import("../../components/keys/key-service.js");
  published = new mod.KeyService("pub-keys", {
    ...KEY_SERVICE_ARGS,
    namespace: "ci-pub-keys",
    caPublication: { namespace: "ci-gateway" },
  });
  new mod.KeyService("pub-fleet", {
    ...KEY_SERVICE_ARGS,
    namespace: "ci-pub-fleet",
    replicas: 3,
    store: { kind: "postgres", connectionString: pulumi.secret(STORE_URL) },
    caPublication: { namespace: "ci-gateway-fleet" },
  });
  await settle();
});

describe("KeyService: CA publication", () => {
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
    expect(pod.volumes.slice(-2)).toEqual(KUBE_API_VOLUMES);
    expect(await value(published.caPublication?.publisherPublicKey ?? pulumi.output(""))).toBe(
      fakePem("PUBLIC KEY", "pub-keys-ca-publication-key"),
    );
    expect(await value(published.caPublication?.configMapName ?? pulumi.output(""))).toBe("key-broker-ca");
  });

  it("publishes from every replica of a fleet: the StatefulSet's pods mount the store, the key and the API token", () => {
    const template = plainInputs(reg("kubernetes:apps/v1:StatefulSet", "pub-fleet-broker")).spec.template;
    expect(template.spec.automountServiceAccountToken).toBe(false);
    expect(template.spec.volumes.slice(-3)).toEqual([
      { name: "store", secret: { secretName: "key-broker-store", defaultMode: 0o440 } },
      ...KUBE_API_VOLUMES,
    ]);
    expect(Object.keys(template.metadata.annotations)).toEqual([
      "confidential-inference/golden-manifest-sha256",
      "confidential-inference/listener-certificate-sha256",
    ]);
    const broker = parseKeyBrokerConfig(
      JSON.parse(plainInputs(reg("kubernetes:core/v1:ConfigMap", "pub-fleet-config")).data["broker.json"]),
    );
    expect([broker.store.kind, broker.caPublication?.namespace, broker.metrics]).toEqual([
      "postgres",
      "ci-gateway-fleet",
      { host: "0.0.0.0", port: 9464 },
    ]);
    expect(children(T, "pub-fleet").filter((c) => /rbac\.authorization/.test(c))).toEqual([
      "kubernetes:rbac.authorization.k8s.io/v1:Role::pub-fleet-ca-publisher",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::pub-fleet-ca-publisher",
    ]);
  });

  it("renders only schema-valid Kubernetes objects", () => {
    const objects = k8sRegistrations(registrations);
    expect(objects).toHaveLength(24);
    for (const r of objects) validateK8s(r);
  });
});
