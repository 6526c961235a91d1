/**
 * Pure builder of the key broker's pod template: PIN and TLS key mounted as files (never env
 * variables or arguments), config read-only, the broker's state directory (state.json, audit.log,
 * and SoftHSM's token) on a volume (or the StatefulSet's claim), the store's connection string as a
 * file, and the usual hardening. No automounted service-account token: the CA publication mounts its
 * own projected token (`extra`).
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { WORKLOADS } from "../labels.js";
import { hardenedPodTemplate, scratchVolume } from "../pods.js";

/** Paths inside the broker container. */
export const BROKER_PATHS = {
  config: "/etc/confidential-inference",
  pin: "/run/secrets/hsm/pin",
  tls: "/run/secrets/tls",
  state: "/var/lib/key-broker",
  softhsmTokens: "/var/lib/key-broker/tokens",
  store: "/run/secrets/store",
} as const;

/** Inputs of the broker pod template. */
export interface BrokerPodSpec {
  readonly image: pulumi.Input<string>;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly configMapName: pulumi.Input<string>;
  readonly pinSecretName: pulumi.Input<string>;
  readonly tlsSecretName: pulumi.Input<string>;
  /** PersistentVolumeClaim of the state directory; absent: an emptyDir (state and audit log live as long as the pod). */
  readonly stateClaimName?: pulumi.Input<string>;
  /** The state volume comes from the StatefulSet's claim template named `state` (a fleet replica). */
  readonly stateFromClaimTemplate?: boolean;
  /** Secret holding the store's connection string (`connection`), mounted as a file. */
  readonly storeSecretName?: pulumi.Input<string>;
  readonly ports: {
    readonly broker: pulumi.Input<number>;
    readonly admin: pulumi.Input<number>;
    readonly metrics: pulumi.Input<number>;
  };
  /** SHA-256 of the signed golden manifest: a new manifest rolls the pods, which re-keys the broker. */
  readonly manifestDigest: pulumi.Input<string>;
  /** SHA-256 of the listener certificate: a renewed certificate rolls the pods (they read it at start). */
  readonly listenerDigest: pulumi.Input<string>;
  /** Extra volumes and mounts (the CA publication's key and API token). */
  readonly extra?: {
    readonly volumes: k8s.types.input.core.v1.Volume[];
    readonly mounts: k8s.types.input.core.v1.VolumeMount[];
  };
}

/** The key broker's pod template. */
export function brokerPodTemplate(s: BrokerPodSpec): k8s.types.input.core.v1.PodTemplateSpec {
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [
    { name: "config", mountPath: BROKER_PATHS.config, readOnly: true },
    { name: "hsm-pin", mountPath: "/run/secrets/hsm", readOnly: true },
    { name: "tls", mountPath: BROKER_PATHS.tls, readOnly: true },
    { name: "state", mountPath: BROKER_PATHS.state },
    { name: "scratch", mountPath: "/tmp" },
    ...(s.storeSecretName === undefined ? [] : [{ name: "store", mountPath: BROKER_PATHS.store, readOnly: true }]),
    ...(s.extra?.mounts ?? []),
  ];
  // 0440 with the pod's fsGroup: readable by the (non-root) broker, by no other user.
  const volumes: k8s.types.input.core.v1.Volume[] = [
    { name: "config", configMap: { name: s.configMapName } },
    { name: "hsm-pin", secret: { secretName: s.pinSecretName, defaultMode: 0o440 } },
    { name: "tls", secret: { secretName: s.tlsSecretName, defaultMode: 0o440 } },
    ...(s.stateFromClaimTemplate
      ? []
      : [
          s.stateClaimName === undefined
            ? { name: "state", emptyDir: {} }
            : { name: "state", persistentVolumeClaim: { claimName: s.stateClaimName } },
        ]),
    scratchVolume("scratch", "64Mi"),
    ...(s.storeSecretName === undefined
      ? []
      : [{ name: "store", secret: { secretName: s.storeSecretName, defaultMode: 0o440 } }]),
    ...(s.extra?.volumes ?? []),
  ];
  return hardenedPodTemplate({
    workload: WORKLOADS.broker,
    container: "broker",
    image: s.image,
    args: ["--config", `${BROKER_PATHS.config}/broker.json`],
    serviceAccountName: s.serviceAccountName,
    annotations: {
      "confidential-inference/golden-manifest-sha256": s.manifestDigest,
      "confidential-inference/listener-certificate-sha256": s.listenerDigest,
    },
    healthPort: "metrics",
    ports: [
      { name: "kbs", port: s.ports.broker },
      { name: "admin", port: s.ports.admin },
      { name: "metrics", port: s.ports.metrics },
    ],
    resources: { limits: { cpu: "1", memory: "512Mi" }, requests: { cpu: "250m", memory: "256Mi" } },
    mounts,
    volumes,
  });
}
