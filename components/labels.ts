/**
 * Labels every Kubernetes object of the stack carries. NetworkPolicies select workloads by
 * `app.kubernetes.io/name`, namespaces by `kubernetes.io/metadata.name`, and the CrossGuard policy
 * pack reads the zone and environment labels.
 */

/** The four network zones of the design. */
export const ZONES = ["gateway", "confidential", "keys", "observability"] as const;
/** A network zone. */
export type Zone = (typeof ZONES)[number];

/** `app.kubernetes.io/name` of each workload. */
export const WORKLOADS = {
  runtime: "inference-runtime",
  gateway: "inference-gateway",
  broker: "key-broker",
} as const;

/** Label keys used by the components and the policy pack. */
export const LABEL = {
  name: "app.kubernetes.io/name",
  partOf: "app.kubernetes.io/part-of",
  managedBy: "app.kubernetes.io/managed-by",
  zone: "confidential-inference/zone",
  environment: "confidential-inference/environment",
  namespaceName: "kubernetes.io/metadata.name",
} as const;

/** The project name used in `app.kubernetes.io/part-of`. */
export const PART_OF = "confidential-inference";

/** Labels of a workload's pods (and its selector). */
export function workloadLabels(workload: string): Record<string, string> {
  return { [LABEL.name]: workload, [LABEL.partOf]: PART_OF };
}
