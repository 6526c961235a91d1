/**
 * `KeyService`: the key broker (relying party) on Kubernetes: Deployment or StatefulSet, Service,
 * PodDisruptionBudget and a ServiceAccount (API access only to publish the CA bundle, with
 * `caPublication`); HSM wiring (PKCS#11 module, token label, key labels, the user PIN as a Kubernetes
 * Secret from a Pulumi secret); the signed golden manifest and verifier policy from
 * `GoldenMeasurements`; and a low-value listener certificate from `@pulumi/tls`. The broker CA, token-signing key and KEK stay in the HSM: nothing here creates them.
 *
 * Two shapes (docs/key-broker.md "Replicas"):
 * - no `store`: one broker pod (`replicas` must be 1, a Deployment with `Recreate` updates) whose state
 *   lives on a PersistentVolumeClaim (the dev shape, and any single-replica deployment);
 * - `store` (PostgreSQL): N replicas as a StatefulSet sharing the database (its connection string a
 *   Kubernetes Secret from a Pulumi secret, mounted as a file) and one network HSM token (`pkcs11`),
 *   each pod keeping only its audit log on its own claim; a PodDisruptionBudget keeps all but one up.
 */
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { attestationPolicyFromVerifierPolicy } from "../../runtime/attestation/index.js";
import {
  checkCount,
  checkDnsLabel,
  checkImageByDigest,
  checkPort,
  known,
  throwIfInvalid,
  type ArgProblem,
} from "../args.js";
import { LABEL, WORKLOADS, workloadLabels } from "../labels.js";
import { leafCert } from "../tls.js";
import { BROKER_PATHS } from "./broker-pod.js";
import { createBrokerWorkload } from "./broker-workload.js";
import {
  CA_PUBLICATION,
  caPublicationVolumes,
  createCaPublication,
  type CaPublicationOutputs,
} from "./ca-publication.js";

/** The HSM the broker uses through PKCS#11. */
export interface HsmWiring {
  /** `softhsm` keeps its token on a volume (one replica); `pkcs11` is an enterprise HSM's module. Plain. */
  readonly kind: "softhsm" | "pkcs11";
  /** Path of the PKCS#11 library inside the broker image. */
  readonly module: pulumi.Input<string>;
  readonly tokenLabel: pulumi.Input<string>;
  /** User PIN; stored only as a Kubernetes Secret (a Pulumi secret here). */
  readonly pin: pulumi.Input<string>;
  /** Labels of the HSM objects (KEK, token-signing key, CA key). */
  readonly keyLabels: {
    readonly kek: pulumi.Input<string>;
    readonly signing: pulumi.Input<string>;
    readonly ca: pulumi.Input<string>;
  };
}

/** What the broker accepts: the signed manifest, the key that signs manifests, the verifier policy. */
export interface AttestationInputs {
  /** The release's golden manifest as a compact JWS (from `GoldenMeasurements.goldenManifest`). */
  readonly goldenManifest: pulumi.Input<string>;
  /** Public key (SPKI PEM) the broker verifies manifests with. */
  readonly manifestPublicKey: pulumi.Input<string>;
  /** The verifier policy (from `GoldenMeasurements.verifierPolicy`). */
  readonly verifierPolicy: pulumi.Input<Record<string, unknown>>;
}

/** The replicated state store of a broker fleet (docs/key-broker.md "Replicas"). */
export interface KeyStoreWiring {
  readonly kind: "postgres";
  /** PostgreSQL connection string (may carry a password): stored only as a Kubernetes Secret. */
  readonly connectionString: pulumi.Input<string>;
  /** Rotation lease in seconds (default 120). */
  readonly rotationLeaseSeconds?: pulumi.Input<number>;
  /** Per-query timeout in ms: a replica that cannot reach the store fails closed after it (default 2000). */
  readonly queryTimeoutMs?: pulumi.Input<number>;
  /** Connections per replica (default 8). */
  readonly poolSize?: pulumi.Input<number>;
}

/** Arguments of {@link KeyService}. */
export interface KeyServiceArgs {
  /** Namespace of the keys zone. */
  readonly namespace: pulumi.Input<string>;
  /** Broker image, pinned by digest. */
  readonly image: pulumi.Input<string>;
  /** Broker replicas: exactly 1 without `store`; 1 to 16 with it. */
  readonly replicas: pulumi.Input<number>;
  readonly hsm: HsmWiring;
  /** The replicated store; absent: one replica with its state on a volume. */
  readonly store?: KeyStoreWiring;
  readonly attestation: AttestationInputs;
  /** KBS port (runtimes), admin port (operators, mTLS), metrics port. */
  readonly ports: {
    readonly broker: pulumi.Input<number>;
    readonly admin: pulumi.Input<number>;
    readonly metrics: pulumi.Input<number>;
  };
  /** CA certificate(s) of the operators allowed on the admin listener (mTLS). */
  readonly operatorCaCertificate: pulumi.Input<string>;
  /** DNS names the broker puts in the runtime certificates it issues after attestation. */
  readonly runtimeDnsNames: pulumi.Input<pulumi.Input<string>[]>;
  /** Lifetimes in seconds: attestation token, session key / runtime certificate, nonce, rotation grace. */
  readonly lifetimes: {
    readonly tokenSeconds: pulumi.Input<number>;
    readonly sessionKeySeconds: pulumi.Input<number>;
    readonly nonceSeconds: pulumi.Input<number>;
    readonly rotationGraceSeconds: pulumi.Input<number>;
  };
  /** Environment class label. */
  readonly environment: pulumi.Input<string>;
  /**
   * Publish the broker CA bundle (signed) to a ConfigMap in this namespace (the gateway's), so the
   * gateway trusts attested runtimes after one `pulumi up` and follows CA rotations; absent: no
   * publication (the gateway then needs the CA certificate copied from the broker).
   */
  readonly caPublication?: { readonly namespace: pulumi.Input<string> };
}

/** Why the broker runs as one pod without a store. */
const ONE_BROKER =
  "must be 1 without store: the broker's key registry, wrapped data keys, manifest states, epochs and KBS sessions would live in one pod's state volume, so replicas would diverge (set store to share PostgreSQL)";

function validate(args: KeyServiceArgs): void {
  const problems: ArgProblem[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkImageByDigest(problems, "image", args.image);
  if (args.hsm.kind !== "softhsm" && args.hsm.kind !== "pkcs11")
    problems.push({ propertyPath: "hsm.kind", reason: "must be softhsm or pkcs11" });
  const replicas = known(args.replicas);
  if (args.store === undefined) {
    if (replicas !== undefined && replicas !== 1) problems.push({ propertyPath: "replicas", reason: ONE_BROKER });
  } else {
    if (args.store.kind !== "postgres") problems.push({ propertyPath: "store.kind", reason: "must be postgres" });
    checkCount(problems, "replicas", args.replicas, 1, 16);
    if (replicas !== undefined && replicas > 1 && args.hsm.kind === "softhsm")
      problems.push({
        propertyPath: "hsm.kind",
        reason: "replicas share one HSM token: SoftHSM's token is one pod's files, use a network HSM (pkcs11)",
      });
    if (args.store.rotationLeaseSeconds !== undefined)
      checkCount(problems, "store.rotationLeaseSeconds", args.store.rotationLeaseSeconds, 1, 3600);
    if (args.store.queryTimeoutMs !== undefined)
      checkCount(problems, "store.queryTimeoutMs", args.store.queryTimeoutMs, 100, 60000);
    if (args.store.poolSize !== undefined) checkCount(problems, "store.poolSize", args.store.poolSize, 1, 64);
  }
  const module = known(args.hsm.module);
  if (module !== undefined && !module.startsWith("/"))
    problems.push({ propertyPath: "hsm.module", reason: "must be an absolute path inside the image" });
  const label = known(args.hsm.tokenLabel);
  if (label !== undefined && (label.length === 0 || Buffer.byteLength(label) > 32))
    problems.push({ propertyPath: "hsm.tokenLabel", reason: "must be 1 to 32 bytes" });
  for (const key of ["broker", "admin", "metrics"] as const) checkPort(problems, `ports.${key}`, args.ports[key]);
  for (const key of ["tokenSeconds", "sessionKeySeconds", "nonceSeconds", "rotationGraceSeconds"] as const)
    checkCount(problems, `lifetimes.${key}`, args.lifetimes[key], 0, 86400);
  throwIfInvalid("KeyService", problems);
}

/**
 * The key broker and its HSM wiring.
 * @example
 * const keys = new KeyService("keys", {
 *   namespace: seg.namespaces.keys, image: "registry/keybroker@sha256:...", replicas: 1,
 *   hsm: { kind: "pkcs11", module: "/opt/hsm/lib/libCryptoki2_64.so", tokenLabel: "ci-prod-broker", pin, keyLabels },
 *   attestation: { goldenManifest: golden.goldenManifest, manifestPublicKey, verifierPolicy: golden.verifierPolicy },
 *   ports: { broker: 8444, admin: 8445, metrics: 9464 },
 *   lifetimes: { tokenSeconds: 300, sessionKeySeconds: 900, nonceSeconds: 60, rotationGraceSeconds: 300 },
 *   environment: "prod",
 * });
 * // keys.endpoint -> "https://key-broker.ci-keys.svc.cluster.local:8444"
 */
export class KeyService extends pulumi.ComponentResource {
  /** KBS URL runtimes attest to. */
  readonly endpoint: pulumi.Output<string>;
  /** The listener certificate (public) runtimes pin. */
  readonly listenerCertificate: pulumi.Output<string>;
  /** Where the broker publishes its CA bundle and the key it is signed with; absent without `caPublication`. */
  readonly caPublication: CaPublicationOutputs | undefined;

  constructor(name: string, args: KeyServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("confidential-inference:index:KeyService", name, {}, opts);
    validate(args);
    const parent = { parent: this };
    const ns = args.namespace;
    const labels = { ...workloadLabels(WORKLOADS.broker), [LABEL.zone]: "keys", [LABEL.environment]: args.environment };
    const metadata = (objectName: string) => ({ name: objectName, namespace: ns, labels });
    const host = pulumi.interpolate`${WORKLOADS.broker}.${ns}.svc.cluster.local`;
    this.endpoint = pulumi.interpolate`https://${host}:${args.ports.broker}`;

    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-broker`,
      { metadata: metadata(WORKLOADS.broker), automountServiceAccountToken: false },
      parent,
    );
    const pin = new k8s.core.v1.Secret(
      `${name}-hsm-pin`,
      {
        metadata: metadata(`${WORKLOADS.broker}-hsm-pin`),
        type: "Opaque",
        stringData: pulumi.secret(pulumi.output(args.hsm.pin).apply((p) => ({ pin: p }))),
      },
      parent,
    );

    const listener = leafCert(
      `${name}-listener`,
      {
        commonName: host,
        dnsNames: [
          WORKLOADS.broker,
          pulumi.interpolate`${WORKLOADS.broker}.${ns}`,
          pulumi.interpolate`${WORKLOADS.broker}.${ns}.svc`,
          host,
        ],
        uses: ["digital_signature", "server_auth"],
        validityHours: 24 * 90,
        renewHours: 24 * 30,
      },
      this,
    );
    const tlsSecret = new k8s.core.v1.Secret(
      `${name}-listener-tls`,
      {
        metadata: metadata(`${WORKLOADS.broker}-listener-tls`),
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": listener.certPem, "tls.key": listener.keyPem },
      },
      parent,
    );

    const publication = args.caPublication
      ? createCaPublication(
          name,
          {
            brokerNamespace: ns,
            gatewayNamespace: args.caPublication.namespace,
            serviceAccountName: sa.metadata.name,
            labels,
          },
          this,
        )
      : undefined;

    const softhsm = args.hsm.kind === "softhsm";
    const dnsNames = [
      WORKLOADS.broker,
      pulumi.interpolate`${WORKLOADS.broker}.${ns}`,
      pulumi.interpolate`${WORKLOADS.broker}.${ns}.svc`,
      host,
    ];
    // broker.json follows runtime/keybroker/config.ts (keyBrokerConfigSchema): the listeners use the
    // leaf certificate below, the signed manifest is imported at every start, and the appraisal policy
    // is the verifier policy file (the broker sets its deployment-only keys aside).
    const brokerConfig = {
      stateDir: BROKER_PATHS.state,
      issuer: this.endpoint,
      hsm: {
        modulePath: args.hsm.module,
        tokenLabel: args.hsm.tokenLabel,
        pinFile: BROKER_PATHS.pin,
        keyLabels: args.hsm.keyLabels,
        ...(softhsm ? { softhsm: { tokenDir: BROKER_PATHS.softhsmTokens, initialise: true } } : {}),
      },
      listen: { host: "0.0.0.0", port: args.ports.broker, adminHost: "0.0.0.0", adminPort: args.ports.admin },
      // The metrics listener the Service, the NetworkPolicy and the HTTP probes use (plain HTTP, no data).
      metrics: { host: "0.0.0.0", port: args.ports.metrics },
      tls: {
        dnsNames,
        ipAddresses: [],
        certFile: `${BROKER_PATHS.tls}/tls.crt`,
        keyFile: `${BROKER_PATHS.tls}/tls.key`,
      },
      admin: { operatorCaFile: `${BROKER_PATHS.config}/operator-ca.pem` },
      manifests: {
        signerPublicKeyFile: `${BROKER_PATHS.config}/manifest-public-key.pem`,
        files: [`${BROKER_PATHS.config}/golden-manifest.jws`],
      },
      ttl: {
        nonceSeconds: args.lifetimes.nonceSeconds,
        tokenSeconds: args.lifetimes.tokenSeconds,
        sessionKeySeconds: args.lifetimes.sessionKeySeconds,
        graceSeconds: args.lifetimes.rotationGraceSeconds,
      },
      attestation: pulumi.output(args.attestation.verifierPolicy).apply((p) => {
        attestationPolicyFromVerifierPolicy(p); // refuse at deploy time a policy the broker would refuse at start
        return { policyFile: `${BROKER_PATHS.config}/verifier-policy.json`, kds: p["collateral"] !== "offline" };
      }),
      runtimeCertificate: { dnsNames: args.runtimeDnsNames, ipAddresses: [] },
      ...(args.store
        ? {
            store: {
              kind: "postgres",
              connectionFile: `${BROKER_PATHS.store}/connection`,
              rotationLeaseSeconds: args.store.rotationLeaseSeconds ?? 120,
              queryTimeoutMs: args.store.queryTimeoutMs ?? 2000,
              poolSize: args.store.poolSize ?? 8,
            },
          }
        : {}),
      ...(args.caPublication
        ? {
            caPublication: {
              namespace: args.caPublication.namespace,
              configMap: CA_PUBLICATION.configMap,
              key: CA_PUBLICATION.key,
              signingKeyFile: `${CA_PUBLICATION.keyDir}/key.pem`,
            },
          }
        : {}),
    };
    const storeSecret = args.store
      ? new k8s.core.v1.Secret(
          `${name}-store`,
          {
            metadata: metadata(`${WORKLOADS.broker}-store`),
            type: "Opaque",
            stringData: pulumi.secret(pulumi.output(args.store.connectionString).apply((c) => ({ connection: c }))),
          },
          parent,
        )
      : undefined;
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: metadata(`${WORKLOADS.broker}-config`),
        data: {
          "broker.json": pulumi.jsonStringify(brokerConfig, undefined, 2),
          "golden-manifest.jws": args.attestation.goldenManifest,
          "manifest-public-key.pem": args.attestation.manifestPublicKey,
          "operator-ca.pem": args.operatorCaCertificate,
          "verifier-policy.json": pulumi.jsonStringify(args.attestation.verifierPolicy, undefined, 2),
        },
      },
      parent,
    );

    const manifestDigest = pulumi
      .output(args.attestation.goldenManifest)
      .apply((jws) => createHash("sha256").update(jws).digest("hex"));
    const workload = createBrokerWorkload(
      name,
      {
        replicas: args.replicas,
        pod: {
          image: args.image,
          serviceAccountName: sa.metadata.name,
          configMapName: config.metadata.name,
          pinSecretName: pin.metadata.name,
          tlsSecretName: tlsSecret.metadata.name,
          ports: args.ports,
          manifestDigest,
          listenerDigest: listener.certPem.apply((pem) => createHash("sha256").update(pem).digest("hex")),
          ...(publication ? { extra: caPublicationVolumes(publication.secretName) } : {}),
        },
        ...(storeSecret ? { storeSecretName: storeSecret.metadata.name } : {}),
        metadata,
      },
      this,
    );

    new k8s.core.v1.Service(
      `${name}-broker`,
      {
        metadata: metadata(WORKLOADS.broker),
        spec: {
          type: "ClusterIP",
          selector: workloadLabels(WORKLOADS.broker),
          ports: [
            { name: "kbs", port: args.ports.broker, targetPort: "kbs", protocol: "TCP" },
            { name: "admin", port: args.ports.admin, targetPort: "admin", protocol: "TCP" },
            { name: "metrics", port: args.ports.metrics, targetPort: "metrics", protocol: "TCP" },
          ],
        },
      },
      parent,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-broker`,
      {
        metadata: metadata(WORKLOADS.broker),
        spec: { maxUnavailable: 1, selector: { matchLabels: workloadLabels(WORKLOADS.broker) } },
      },
      { parent: this, dependsOn: [workload] },
    );

    this.listenerCertificate = listener.certPem;
    this.caPublication = publication;
    this.registerOutputs({ endpoint: this.endpoint, listenerCertificate: this.listenerCertificate });
  }
}
