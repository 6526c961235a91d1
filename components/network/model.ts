/**
 * Builds the inputs of `allowedFlows` from rendered Kubernetes objects (`attestctl render` output,
 * mock registrations or CrossGuard resources): namespaces, NetworkPolicies, and one endpoint per
 * Deployment or StatefulSet, plus a label-less "any pod" endpoint per zone, the cluster DNS and the outside world.
 */
import { LABEL } from "../labels.js";
import type { Endpoint, EndpointPort, LabelSelector, NamespaceDoc, NetworkPolicyDoc } from "./flows.js";

/** A rendered resource: its Pulumi type token and inputs. */
export interface RenderedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** Pulumi type tokens of the Kubernetes kinds read here. */
export const K8S_TYPES = {
  namespace: "kubernetes:core/v1:Namespace",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
} as const;

/** The reachability model of a rendered stack. */
export interface NetworkModel {
  readonly namespaces: NamespaceDoc[];
  readonly policies: NetworkPolicyDoc[];
  readonly endpoints: Endpoint[];
  /** Zone of each namespace that carries the `confidential-inference/zone` label. */
  readonly zoneOf: ReadonlyMap<string, string>;
}

/** Id of the endpoint standing for clients outside the cluster. */
export const EXTERNAL = "external";
/** Id of the cluster DNS endpoint. */
export const CLUSTER_DNS = "dns/kube-dns";

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function containerPorts(spec: Record<string, unknown>): EndpointPort[] {
  const out: EndpointPort[] = [];
  const containers = (asRecord(asRecord(spec["template"])["spec"])["containers"] ?? []) as Record<string, unknown>[];
  for (const c of containers) {
    for (const p of (c["ports"] ?? []) as Record<string, unknown>[]) {
      const port = p["containerPort"];
      if (typeof port === "number") out.push({ port, protocol: p["protocol"] === "UDP" ? "UDP" : "TCP" });
    }
  }
  return out;
}

/**
 * Extracts the network model.
 * @param dnsNamespace - namespace of the cluster DNS (pods labelled `k8s-app: kube-dns`).
 */
export function networkModel(resources: readonly RenderedResource[], dnsNamespace: string): NetworkModel {
  const namespaces: NamespaceDoc[] = [];
  const policies: NetworkPolicyDoc[] = [];
  const deployments: { meta: Meta; spec: Record<string, unknown> }[] = [];
  for (const r of resources) {
    const meta = asRecord(r.inputs["metadata"]) as Meta;
    const spec = asRecord(r.inputs["spec"]);
    if (r.type === K8S_TYPES.namespace && meta.name !== undefined)
      namespaces.push({ name: meta.name, labels: meta.labels ?? {} });
    if (r.type === K8S_TYPES.networkPolicy && meta.namespace !== undefined) {
      policies.push({
        namespace: meta.namespace,
        podSelector: (spec["podSelector"] ?? {}) as LabelSelector,
        policyTypes: spec["policyTypes"] as string[] | undefined,
        ingress: spec["ingress"] as NetworkPolicyDoc["ingress"],
        egress: spec["egress"] as NetworkPolicyDoc["egress"],
      });
    }
    if (r.type === K8S_TYPES.deployment || r.type === K8S_TYPES.statefulSet) deployments.push({ meta, spec });
  }
  const zoneOf = new Map<string, string>();
  for (const ns of namespaces) {
    const zone = ns.labels?.[LABEL.zone];
    if (zone !== undefined) zoneOf.set(ns.name, zone);
  }
  const endpoints: Endpoint[] = [{ id: EXTERNAL, labels: {}, ports: [] }];
  endpoints.push({
    id: CLUSTER_DNS,
    namespace: dnsNamespace,
    labels: { "k8s-app": "kube-dns" },
    ports: [
      { port: 53, protocol: "UDP" },
      { port: 53, protocol: "TCP" },
    ],
  });
  for (const [ns, zone] of [...zoneOf].sort((a, b) => a[1].localeCompare(b[1])))
    endpoints.push({ id: `${zone}/*`, namespace: ns, labels: {}, ports: [] });
  for (const d of deployments) {
    const ns = d.meta.namespace ?? "default";
    const labels = (asRecord(asRecord(d.spec["template"])["metadata"])["labels"] ?? {}) as Record<string, string>;
    const workload = labels[LABEL.name] ?? d.meta.name ?? "unnamed";
    endpoints.push({ id: `${zoneOf.get(ns) ?? ns}/${workload}`, namespace: ns, labels, ports: containerPorts(d.spec) });
  }
  return { namespaces, policies, endpoints, zoneOf };
}
