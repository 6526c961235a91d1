/**
 * Pure builders of the inference runtime and gateway pod specs (the component wires them to
 * resources). Kept apart so the security settings are reviewed in one place.
 */
import { createHash } from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { canonicalJson } from "../../core/index.js";
import { WORKLOADS } from "../labels.js";
import { hardenedPodTemplate, scratchVolume } from "../pods.js";
import { KATA_INITDATA_ANNOTATION } from "./initdata.js";

type PodTemplate = k8s.types.input.core.v1.PodTemplateSpec;

/** Where each workload finds its configuration inside the container. */
export const CONFIG_DIR = "/etc/confidential-inference";
/** Where the gateway finds its mounted secrets and the published broker CA bundle. */
export const GATEWAY_PATHS = {
  /** Its client certificate to runtimes (mTLS). */
  upstreamClient: `${CONFIG_DIR}/client-tls`,
  /** Its client-facing certificate. */
  tls: `${CONFIG_DIR}/tls`,
  apiKeys: `${CONFIG_DIR}/api-keys`,
  brokerCa: `${CONFIG_DIR}/broker-ca`,
} as const;
/** Annotation whose change rolls a workload's pods (a digest of the files they read at start). */
export const ROLLOUT_ANNOTATION = "confidential-inference/config-sha256";

/** SHA-256 (hex) of the canonical JSON of the files a workload reads at start (file name to content). */
export function rolloutDigest(files: Readonly<Record<string, string>>): string {
  return createHash("sha256").update(canonicalJson(files)).digest("hex");
}
/** Where the runtime image carries its encrypted models (`<root>/<model>/model.onnx.enc`, `.jws`, `tokenizer.json`). */
export const MODEL_ROOT = "/opt/models";

/** The runtime container's arguments (after the image's entrypoint `node /app/main.js`). */
export const RUNTIME_ARGS: readonly string[] = ["--config", `${CONFIG_DIR}/runtime.json`];
/** The runtime container's own mounts (the config map, scratch space). */
export const RUNTIME_MOUNTS: readonly string[] = [CONFIG_DIR, "/tmp"];

/** Inputs of the runtime pod template. */
export interface RuntimePodSpec {
  readonly image: pulumi.Input<string>;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly configMapName: pulumi.Input<string>;
  readonly runtimeClassName?: pulumi.Input<string>;
  readonly inferencePort: pulumi.Input<number>;
  readonly metricsPort: pulumi.Input<number>;
  readonly cpu: pulumi.Input<string>;
  readonly memory: pulumi.Input<string>;
  /** Digest of the runtime's config files: a change rolls the pods. */
  readonly rolloutDigest: pulumi.Input<string>;
  /** Kata initdata annotation value (`runtimeInitData(...).annotation`), for confidential pods. */
  readonly initData?: pulumi.Input<string>;
}

/** The runtime's pod template: non-root, read-only root fs, no API token, limits = requests. */
export function runtimePodTemplate(s: RuntimePodSpec): PodTemplate {
  return hardenedPodTemplate({
    workload: WORKLOADS.runtime,
    container: "runtime",
    image: s.image,
    args: [...RUNTIME_ARGS],
    serviceAccountName: s.serviceAccountName,
    annotations: {
      [ROLLOUT_ANNOTATION]: s.rolloutDigest,
      ...(s.initData === undefined ? {} : { [KATA_INITDATA_ANNOTATION]: s.initData }),
    },
    ...(s.runtimeClassName === undefined ? {} : { runtimeClassName: s.runtimeClassName }),
    healthPort: "metrics",
    spread: true,
    ports: [
      { name: "mtls", port: s.inferencePort },
      { name: "metrics", port: s.metricsPort },
    ],
    resources: { limits: { cpu: s.cpu, memory: s.memory }, requests: { cpu: s.cpu, memory: s.memory } },
    mounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      { name: "scratch", mountPath: "/tmp" },
    ],
    volumes: [{ name: "config", configMap: { name: s.configMapName } }, scratchVolume("scratch", "256Mi")],
  });
}

/** Inputs of the gateway pod template. */
export interface GatewayPodSpec {
  readonly image: pulumi.Input<string>;
  readonly serviceAccountName: pulumi.Input<string>;
  readonly configMapName: pulumi.Input<string>;
  readonly clientTlsSecretName: pulumi.Input<string>;
  /** Secret with `api-keys.json` (hashed records only). */
  readonly apiKeysSecretName: pulumi.Input<string>;
  /** Secret with the client-facing certificate; absent: plain HTTP (behind a TLS-terminating proxy). */
  readonly tlsSecretName?: pulumi.Input<string>;
  /** ConfigMap the key broker publishes its CA bundle to; absent: a static CA file in the config. */
  readonly brokerCaConfigMapName?: pulumi.Input<string>;
  readonly gatewayPort: pulumi.Input<number>;
  readonly metricsPort: pulumi.Input<number>;
  /** Digest of the files the gateway reads at start: a change rolls the pods. */
  readonly rolloutDigest: pulumi.Input<string>;
}

/** The gateway's pod template (outside the boundary; same hardening, its client TLS mounted). */
export function gatewayPodTemplate(s: GatewayPodSpec): PodTemplate {
  return hardenedPodTemplate({
    workload: WORKLOADS.gateway,
    container: "gateway",
    image: s.image,
    args: ["--config", `${CONFIG_DIR}/gateway.json`],
    serviceAccountName: s.serviceAccountName,
    annotations: { [ROLLOUT_ANNOTATION]: s.rolloutDigest },
    healthPort: "metrics",
    spread: true,
    ports: [
      { name: "http", port: s.gatewayPort },
      { name: "metrics", port: s.metricsPort },
    ],
    resources: { limits: { cpu: "1", memory: "512Mi" }, requests: { cpu: "250m", memory: "256Mi" } },
    mounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      { name: "client-tls", mountPath: GATEWAY_PATHS.upstreamClient, readOnly: true },
      { name: "api-keys", mountPath: GATEWAY_PATHS.apiKeys, readOnly: true },
      ...(s.tlsSecretName === undefined ? [] : [{ name: "tls", mountPath: GATEWAY_PATHS.tls, readOnly: true }]),
      // A directory mount (no subPath): the kubelet replaces the file in place when the broker republishes.
      ...(s.brokerCaConfigMapName === undefined
        ? []
        : [{ name: "broker-ca", mountPath: GATEWAY_PATHS.brokerCa, readOnly: true }]),
      { name: "scratch", mountPath: "/tmp" },
    ],
    volumes: [
      { name: "config", configMap: { name: s.configMapName } },
      { name: "client-tls", secret: { secretName: s.clientTlsSecretName, defaultMode: 0o440 } },
      { name: "api-keys", secret: { secretName: s.apiKeysSecretName, defaultMode: 0o440 } },
      ...(s.tlsSecretName === undefined
        ? []
        : [{ name: "tls", secret: { secretName: s.tlsSecretName, defaultMode: 0o440 } }]),
      ...(s.brokerCaConfigMapName === undefined
        ? []
        : [{ name: "broker-ca", configMap: { name: s.brokerCaConfigMapName } }]),
      scratchVolume("scratch", "64Mi"),
    ],
  });
}
