/**
 * Hardened pod and container settings shared by every workload: Pod Security `restricted`
 * (non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp) plus a
 * read-only root filesystem and no service-account token unless a workload needs the API.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { workloadLabels } from "./labels.js";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/** UID/GID the images run as (never 0). */
export const RUN_AS = 10001;

/** The pod-level security context of every workload. */
export function podSecurityContext(): PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS,
    runAsGroup: RUN_AS,
    fsGroup: RUN_AS,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** The container-level security context of every container. */
export function containerSecurityContext(): SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
  };
}

/** A memory-backed scratch volume (inside a confidential VM, memory is encrypted; host disks are not). */
export function scratchVolume(name: string, sizeLimit: string): k8s.types.input.core.v1.Volume {
  return { name, emptyDir: { medium: "Memory", sizeLimit } };
}

/** What differs between the workloads' pods; everything else is the shared hardening. */
export interface WorkloadPod {
  /** `app.kubernetes.io/name` of the pods (and the container name's source). */
  readonly workload: string;
  readonly container: string;
  readonly image: pulumi.Input<string>;
  readonly args: pulumi.Input<string>[];
  readonly serviceAccountName: pulumi.Input<string>;
  readonly runtimeClassName?: pulumi.Input<string>;
  readonly annotations?: Record<string, pulumi.Input<string>>;
  /** Named container ports; the first one is probed over TCP. */
  readonly ports: readonly { readonly name: string; readonly port: pulumi.Input<number> }[];
  readonly resources: k8s.types.input.core.v1.ResourceRequirements;
  readonly mounts: k8s.types.input.core.v1.VolumeMount[];
  readonly volumes: k8s.types.input.core.v1.Volume[];
}

/**
 * A pod template with the shared hardening: no service-account token, non-root, read-only root
 * fs, no capabilities, TCP probes on the first port (the mTLS health routes need a client
 * certificate the kubelet does not have).
 */
export function hardenedPodTemplate(w: WorkloadPod): k8s.types.input.core.v1.PodTemplateSpec {
  const probePort = w.ports[0]?.name ?? "";
  return {
    metadata: {
      labels: workloadLabels(w.workload),
      ...(w.annotations === undefined ? {} : { annotations: w.annotations }),
    },
    spec: {
      serviceAccountName: w.serviceAccountName,
      automountServiceAccountToken: false,
      ...(w.runtimeClassName === undefined ? {} : { runtimeClassName: w.runtimeClassName }),
      securityContext: podSecurityContext(),
      containers: [
        {
          name: w.container,
          image: w.image,
          args: w.args,
          ports: w.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
          resources: w.resources,
          securityContext: containerSecurityContext(),
          readinessProbe: { tcpSocket: { port: probePort }, periodSeconds: 5 },
          livenessProbe: { tcpSocket: { port: probePort }, periodSeconds: 10, failureThreshold: 6 },
          volumeMounts: w.mounts,
        },
      ],
      volumes: w.volumes,
    },
  };
}
