/**
 * Pure builders of the inference runtime and gateway pod specs (the component wires them to
 * resources). Kept apart so the security settings are reviewed in one place.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { WORKLOADS } from "../labels.js";
import { hardenedPodTemplate, scratchVolume } from "../pods.js";

type PodTemplate = k8s.types.input.core.v1.PodTemplateSpec;

/** Where each workload finds its configuration inside the container. */
export const CONFIG_DIR = "/etc/confidential-inference";
/** Where the runtime image carries its encrypted models (`<root>/<model>/model.onnx.enc`, `.jws`, `tokenizer.json`). */
export const MODEL_ROOT = "/opt/models";

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
}

/** The runtime's pod template: non-root, read-only root fs, no API token, limits = requests. */
export function runtimePodTemplate(s: RuntimePodSpec): PodTemplate {
  return hardenedPodTemplate({
    workload: WORKLOADS.runtime,
    container: "runtime",
    image: s.image,
    args: ["--config", `${CONFIG_DIR}/runtime.json`],
    serviceAccountName: s.serviceAccountName,
    ...(s.runtimeClassName === undefined ? {} : { runtimeClassName: s.runtimeClassName }),
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
  readonly gatewayPort: pulumi.Input<number>;
  readonly metricsPort: pulumi.Input<number>;
}

/** The gateway's pod template (outside the boundary; same hardening, its client TLS mounted). */
export function gatewayPodTemplate(s: GatewayPodSpec): PodTemplate {
  return hardenedPodTemplate({
    workload: WORKLOADS.gateway,
    container: "gateway",
    image: s.image,
    args: ["--config", `${CONFIG_DIR}/gateway.json`],
    serviceAccountName: s.serviceAccountName,
    ports: [
      { name: "http", port: s.gatewayPort },
      { name: "metrics", port: s.metricsPort },
    ],
    resources: { limits: { cpu: "1", memory: "512Mi" }, requests: { cpu: "250m", memory: "256Mi" } },
    mounts: [
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
      { name: "client-tls", mountPath: `${CONFIG_DIR}/client-tls`, readOnly: true },
      { name: "scratch", mountPath: "/tmp" },
    ],
    volumes: [
      { name: "config", configMap: { name: s.configMapName } },
      { name: "client-tls", secret: { secretName: s.clientTlsSecretName, defaultMode: 0o440 } },
      scratchVolume("scratch", "64Mi"),
    ],
  });
}
