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
  /** Named container ports. */
  readonly ports: readonly { readonly name: string; readonly port: pulumi.Input<number> }[];
  /** Name of the port of the plain-HTTP ops listener that serves `/v2/health/live` and `/v2/health/ready`. */
  readonly healthPort: string;
  /** Spread replicas over nodes and zones (best effort: `ScheduleAnyway`, never blocks scheduling). */
  readonly spread?: boolean;
  readonly resources: k8s.types.input.core.v1.ResourceRequirements;
  readonly mounts: k8s.types.input.core.v1.VolumeMount[];
  readonly volumes: k8s.types.input.core.v1.Volume[];
}

/** Paths of the health routes every service's ops listener serves (runtime/observability/ops-app.ts). */
export const HEALTH_PATHS = { live: "/v2/health/live", ready: "/v2/health/ready" } as const;

/**
 * HTTP probes on the ops listener (plain HTTP on its own port: the kubelet has no client certificate
 * for the mTLS listeners). Startup allows 2 minutes to open the ops listener; liveness restarts a hung
 * process; readiness follows the service's own view (attested and loaded, broker CA trusted, HSM usable).
 */
export function httpProbes(
  port: string,
): Pick<k8s.types.input.core.v1.Container, "startupProbe" | "livenessProbe" | "readinessProbe"> {
  return {
    startupProbe: { httpGet: { path: HEALTH_PATHS.live, port }, periodSeconds: 2, failureThreshold: 60 },
    livenessProbe: { httpGet: { path: HEALTH_PATHS.live, port }, periodSeconds: 10, failureThreshold: 6 },
    readinessProbe: { httpGet: { path: HEALTH_PATHS.ready, port }, periodSeconds: 5, failureThreshold: 2 },
  };
}

/** Best-effort spread of a workload's pods over nodes and zones. */
export function topologySpread(workload: string): k8s.types.input.core.v1.TopologySpreadConstraint[] {
  return ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: workloadLabels(workload) },
  }));
}

/**
 * A pod template with the shared hardening: no service-account token, non-root, read-only root
 * fs, no capabilities, HTTP startup/liveness/readiness probes on the ops listener.
 */
export function hardenedPodTemplate(w: WorkloadPod): k8s.types.input.core.v1.PodTemplateSpec {
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
      ...(w.spread ? { topologySpreadConstraints: topologySpread(w.workload) } : {}),
      containers: [
        {
          name: w.container,
          image: w.image,
          args: w.args,
          ports: w.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
          resources: w.resources,
          securityContext: containerSecurityContext(),
          ...httpProbes(w.healthPort),
          volumeMounts: w.mounts,
        },
      ],
      volumes: w.volumes,
    },
  };
}
