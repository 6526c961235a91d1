/**
 * The key broker's publication of its CA bundle to the gateway (one-pass bootstrap; the broker side
 * is runtime/keybroker/publish/, the gateway side runtime/gateway/broker-ca.ts): a ConfigMap in the
 * gateway's namespace that only the broker's ServiceAccount may write (a Role on that one object,
 * `get` and `patch`), a P-384 publication key the bundle is signed with (its public half pinned in
 * the gateway's config), and the service-account token the broker calls the API with.
 *
 * The publication key is made with `@pulumi/tls`, so it lives (encrypted) in Pulumi state. It guards
 * one thing: which CA the gateway trusts for runtimes. A forged bundle needs both that key and write
 * access to the ConfigMap, which the Role gives the broker only; the CA that signs runtime
 * certificates stays in the HSM either way.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** Names and paths of the publication (stable: the gateway and the docs use them). */
export const CA_PUBLICATION = {
  configMap: "key-broker-ca",
  key: "bundle.jws",
  role: "key-broker-ca-publisher",
  secret: "key-broker-ca-publication",
  keyDir: "/run/secrets/ca-publication",
  tokenDir: "/var/run/secrets/kubernetes.io/serviceaccount",
} as const;

/** Where the broker publishes and what the gateway pins. */
export interface CaPublicationOutputs {
  /** The ConfigMap (in the gateway's namespace) the broker writes. */
  readonly configMapName: pulumi.Output<string>;
  /** Its key holding the bundle. */
  readonly key: string;
  /** The publication public key (PEM): the gateway verifies bundles with it. */
  readonly publisherPublicKey: pulumi.Output<string>;
  /** Secret (broker namespace) holding the publication private key. */
  readonly secretName: pulumi.Output<string>;
}

/** Creates the publication's ConfigMap, Role, RoleBinding, key and its Secret under `parent`. */
export function createCaPublication(
  name: string,
  o: {
    readonly brokerNamespace: pulumi.Input<string>;
    readonly gatewayNamespace: pulumi.Input<string>;
    readonly serviceAccountName: pulumi.Input<string>;
    readonly labels: Record<string, pulumi.Input<string>>;
  },
  parent: pulumi.Resource,
): CaPublicationOutputs {
  const inGateway = (objectName: string) => ({ name: objectName, namespace: o.gatewayNamespace, labels: o.labels });
  const key = new tls.PrivateKey(`${name}-ca-publication-key`, { algorithm: "ECDSA", ecdsaCurve: "P384" }, { parent });
  const secret = new k8s.core.v1.Secret(
    `${name}-ca-publication`,
    {
      metadata: { name: CA_PUBLICATION.secret, namespace: o.brokerNamespace, labels: o.labels },
      type: "Opaque",
      stringData: { "key.pem": pulumi.secret(key.privateKeyPem) },
    },
    { parent },
  );
  // Created empty: the broker owns its data (server-side apply leaves the broker's field alone, and
  // Pulumi ignores it), so a later `pulumi up` never resets the published bundle.
  const configMap = new k8s.core.v1.ConfigMap(
    `${name}-ca-bundle`,
    { metadata: inGateway(CA_PUBLICATION.configMap) },
    { parent, ignoreChanges: ["data"] },
  );
  const role = new k8s.rbac.v1.Role(
    `${name}-ca-publisher`,
    {
      metadata: inGateway(CA_PUBLICATION.role),
      rules: [
        {
          apiGroups: [""],
          resources: ["configmaps"],
          resourceNames: [CA_PUBLICATION.configMap],
          verbs: ["get", "patch"],
        },
      ],
    },
    { parent },
  );
  new k8s.rbac.v1.RoleBinding(
    `${name}-ca-publisher`,
    {
      metadata: inGateway(CA_PUBLICATION.role),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: o.serviceAccountName, namespace: o.brokerNamespace }],
    },
    { parent },
  );
  return {
    configMapName: configMap.metadata.name,
    key: CA_PUBLICATION.key,
    publisherPublicKey: key.publicKeyPem,
    secretName: secret.metadata.name,
  };
}

/** The broker's volumes for the publication: its key, and a short-lived API token with the cluster CA. */
export function caPublicationVolumes(secretName: pulumi.Input<string>): {
  volumes: k8s.types.input.core.v1.Volume[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
} {
  return {
    volumes: [
      { name: "ca-publication", secret: { secretName, defaultMode: 0o440 } },
      {
        // What automountServiceAccountToken would mount, for this container only and with a one-hour
        // token the kubelet rotates (the broker re-reads it on every call).
        name: "kube-api",
        projected: {
          sources: [
            { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
            { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          ],
        },
      },
    ],
    mounts: [
      { name: "ca-publication", mountPath: CA_PUBLICATION.keyDir, readOnly: true },
      { name: "kube-api", mountPath: CA_PUBLICATION.tokenDir, readOnly: true },
    ],
  };
}
