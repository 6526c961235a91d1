/**
 * Hardened pod and container settings shared by every workload: Pod Security `restricted`
 * (non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp) plus a
 * read-only root filesystem and no service-account token unless a workload needs the API.
 */
import type * as k8s from "@pulumi/kubernetes";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/** UID/GID the images run as (never 0). */
export const RUN_AS = 10001;

/** The pod-level security context of every workload. */
export function podSecurityContext(): PodSecurityContext {
  return { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, fsGroup: RUN_AS, seccompProfile: { type: "RuntimeDefault" } };
}

/** The container-level security context of every container. */
export function containerSecurityContext(): SecurityContext {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };
}

/** A memory-backed scratch volume (inside a confidential VM, memory is encrypted; host disks are not). */
export function scratchVolume(name: string, sizeLimit: string): k8s.types.input.core.v1.Volume {
  return { name, emptyDir: { medium: "Memory", sizeLimit } };
}
