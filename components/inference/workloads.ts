/**
 * Pure builders of the inference runtime and gateway pod specs (the component wires them to
 * resources). Kept apart so the security settings are reviewed in one place.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { WORKLOADS, workloadLabels } from "../labels.js";
import { containerSecurityContext, podSecurityContext, scratchVolume } from "../pods.js";

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
  return {
    metadata: { labels: workloadLabels(WORKLOADS.runtime) },
    spec: {
      serviceAccountName: s.serviceAccountName,
      automountServiceAccountToken: false,
      ...(s.runtimeClassName === undefined ? {} : { runtimeClassName: s.runtimeClassName }),
      securityContext: podSecurityContext(),
      containers: [{
        name: "runtime",
        image: s.image,
        args: ["--config", `${CONFIG_DIR}/runtime.json`],
        ports: [{ name: "mtls", containerPort: s.inferencePort, protocol: "TCP" }, { name: "metrics", containerPort: s.metricsPort, protocol: "TCP" }],
        resources: { limits: { cpu: s.cpu, memory: s.memory }, requests: { cpu: s.cpu, memory: s.memory } },
        securityContext: containerSecurityContext(),
        // The OIP health routes need a client certificate, which the kubelet does not have.
        readinessProbe: { tcpSocket: { port: "mtls" }, periodSeconds: 5 },
        livenessProbe: { tcpSocket: { port: "mtls" }, periodSeconds: 10, failureThreshold: 6 },
        volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }, { name: "scratch", mountPath: "/tmp" }],
      }],
      volumes: [{ name: "config", configMap: { name: s.configMapName } }, scratchVolume("scratch", "256Mi")],
    },
  };
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
  return {
    metadata: { labels: workloadLabels(WORKLOADS.gateway) },
    spec: {
      serviceAccountName: s.serviceAccountName,
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(),
      containers: [{
        name: "gateway",
        image: s.image,
        args: ["--config", `${CONFIG_DIR}/gateway.json`],
        ports: [{ name: "http", containerPort: s.gatewayPort, protocol: "TCP" }, { name: "metrics", containerPort: s.metricsPort, protocol: "TCP" }],
        resources: { limits: { cpu: "1", memory: "512Mi" }, requests: { cpu: "250m", memory: "256Mi" } },
        securityContext: containerSecurityContext(),
        readinessProbe: { tcpSocket: { port: "http" }, periodSeconds: 5 },
        livenessProbe: { tcpSocket: { port: "http" }, periodSeconds: 10, failureThreshold: 6 },
        volumeMounts: [
          { name: "config", mountPath: CONFIG_DIR, readOnly: true },
          { name: "client-tls", mountPath: `${CONFIG_DIR}/client-tls`, readOnly: true },
          { name: "scratch", mountPath: "/tmp" },
        ],
      }],
      volumes: [
        { name: "config", configMap: { name: s.configMapName } },
        { name: "client-tls", secret: { secretName: s.clientTlsSecretName, defaultMode: 0o440 } },
        scratchVolume("scratch", "64Mi"),
      ],
    },
  };
}
