/**
 * Guardrails on segmentation: every namespace denies ingress and egress by default; nothing in
 * the gateway zone can reach the key broker (computed with the same allowed-flow matrix as the
 * tests, over all NetworkPolicies of the stack).
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { allowedFlows, formatFlow, K8S_TYPES, networkModel } from "../components/index.js";
import { arr, obj } from "./props.js";

function isDefaultDeny(props: Record<string, unknown>): boolean {
  const spec = obj(props["spec"]);
  const selector = obj(spec["podSelector"]);
  const types = arr(spec["policyTypes"]);
  return (
    Object.keys(obj(selector["matchLabels"])).length === 0 &&
    arr(selector["matchExpressions"]).length === 0 &&
    types.includes("Ingress") &&
    types.includes("Egress") &&
    arr(spec["ingress"]).length === 0 &&
    arr(spec["egress"]).length === 0
  );
}

function nameOf(r: PolicyResource): string | undefined {
  const n = obj(r.props["metadata"])["name"];
  return typeof n === "string" ? n : undefined;
}

/** Every namespace has a default-deny NetworkPolicy for ingress and egress. */
export const namespaceDefaultDeny: StackValidationPolicy = {
  name: "namespace-default-deny",
  description:
    "Every namespace the stack creates has a NetworkPolicy that selects all pods and denies all ingress and egress by default.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const denied = new Set<string>();
    for (const r of args.resources) {
      if (r.type === K8S_TYPES.networkPolicy && isDefaultDeny(r.props)) {
        const ns = obj(r.props["metadata"])["namespace"];
        if (typeof ns === "string") denied.add(ns);
      }
    }
    for (const r of args.resources) {
      const ns = r.type === K8S_TYPES.namespace ? nameOf(r) : undefined;
      if (ns !== undefined && !denied.has(ns))
        reportViolation(`namespace ${ns} has no default-deny NetworkPolicy (ingress and egress)`, r.urn);
    }
  },
};

/** Configuration of {@link brokerUnreachableFromGateway}. */
export interface DnsConfig {
  /** Namespace of the cluster DNS. Default `kube-system`. */
  readonly dnsNamespace?: string;
}

/** No pod of the gateway zone can open a connection to the keys zone. */
export const brokerUnreachableFromGateway: StackValidationPolicy = {
  name: "broker-unreachable-from-gateway",
  description: "The key broker (keys zone) cannot be reached from the gateway zone, which faces clients.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { dnsNamespace: { type: "string" } } },
  validateStack: (args, reportViolation) => {
    const resources = args.resources.map((r) => ({ type: r.type, name: r.name, inputs: r.props }));
    const m = networkModel(resources, args.getConfig<DnsConfig>().dnsNamespace ?? "kube-system");
    for (const f of allowedFlows(m.policies, m.namespaces, m.endpoints)) {
      if (f.from.startsWith("gateway/") && f.to.startsWith("keys/"))
        reportViolation(`the gateway zone can reach the key broker: ${formatFlow(f)}`);
    }
  },
};
