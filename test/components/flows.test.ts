import { describe, expect, it } from "vitest";
import { LABEL, WORKLOADS } from "../../components/labels.js";
import {
  allowedFlows,
  formatFlow,
  selectorMatches,
  type Endpoint,
  type NetworkPolicyDoc,
} from "../../components/network/flows.js";
import { networkModel, type RenderedResource } from "../../components/network/model.js";
import { zonePolicies } from "../../components/network/policies.js";

const zones = {
  gateway: "ci-gateway",
  confidential: "ci-confidential",
  keys: "ci-keys",
  observability: "ci-observability",
};
const ports = { inference: 8443, broker: 8444, gateway: 8080, metrics: 9464 };

function deployment(namespace: string, workload: string, containerPorts: number[]): RenderedResource {
  return {
    type: "kubernetes:apps/v1:Deployment",
    name: workload,
    inputs: {
      metadata: { name: workload, namespace },
      spec: {
        template: {
          metadata: { labels: { [LABEL.name]: workload } },
          spec: { containers: [{ name: "main", ports: containerPorts.map((containerPort) => ({ containerPort })) }] },
        },
      },
    },
  };
}

/** The stack's rendered network objects, built from the same pure policy list the component uses. */
function stackResources(policies = zonePolicies(zones, ports, "kube-system")): RenderedResource[] {
  const out: RenderedResource[] = Object.entries(zones).map(([zone, name]) => ({
    type: "kubernetes:core/v1:Namespace",
    name,
    inputs: { metadata: { name, labels: { [LABEL.zone]: zone } } },
  }));
  for (const p of policies) {
    out.push({
      type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      name: `${p.zone}-${p.name}`,
      inputs: { metadata: { name: p.name, namespace: zones[p.zone] }, spec: p.spec },
    });
  }
  out.push(deployment("ci-gateway", WORKLOADS.gateway, [8080, 9464]));
  out.push(deployment("ci-confidential", WORKLOADS.runtime, [8443, 9464]));
  out.push(deployment("ci-keys", WORKLOADS.broker, [8444, 8445, 9464]));
  return out;
}

function matrix(resources: RenderedResource[]): string[] {
  const m = networkModel(resources, "kube-system");
  return allowedFlows(m.policies, m.namespaces, m.endpoints).map(formatFlow);
}

describe("the broker's egress to its replicated store", () => {
  it("opens the keys zone's default-deny egress for exactly the store's address, for the broker pods only", () => {
    const policies = zonePolicies(zones, ports, "kube-system", { store: [{ cidr: "10.40.9.20/32", port: 5432 }] });
    const extra = policies.filter((p) => p.name === "allow-broker-store-egress");
    expect(extra).toEqual([
      {
        zone: "keys",
        name: "allow-broker-store-egress",
        spec: {
          podSelector: { matchLabels: { [LABEL.name]: WORKLOADS.broker } },
          policyTypes: ["Egress"],
          egress: [{ to: [{ ipBlock: { cidr: "10.40.9.20/32" } }], ports: [{ protocol: "TCP", port: 5432 }] }],
        },
      },
    ]);
    // No pod-to-pod flow changes: the address is outside the cluster (not "everywhere").
    expect(matrix(stackResources(policies))).toEqual(matrix(stackResources()));
    expect(zonePolicies(zones, ports, "kube-system").some((p) => p.name === "allow-broker-store-egress")).toBe(false);
  });
});

describe("allowed-flow matrix of the zone policies", () => {
  it("allows exactly the flows of the design (plus DNS)", () => {
    expect(matrix(stackResources())).toEqual([
      "confidential/* -> dns/kube-dns 53/TCP",
      "confidential/* -> dns/kube-dns 53/UDP",
      "confidential/inference-runtime -> dns/kube-dns 53/TCP",
      "confidential/inference-runtime -> dns/kube-dns 53/UDP",
      "confidential/inference-runtime -> keys/key-broker 8444/TCP",
      "dns/kube-dns -> gateway/inference-gateway 8080/TCP",
      "external -> dns/kube-dns 53/TCP",
      "external -> dns/kube-dns 53/UDP",
      "external -> gateway/inference-gateway 8080/TCP",
      "gateway/* -> dns/kube-dns 53/TCP",
      "gateway/* -> dns/kube-dns 53/UDP",
      "gateway/inference-gateway -> confidential/inference-runtime 8443/TCP",
      "gateway/inference-gateway -> dns/kube-dns 53/TCP",
      "gateway/inference-gateway -> dns/kube-dns 53/UDP",
      "keys/* -> dns/kube-dns 53/TCP",
      "keys/* -> dns/kube-dns 53/UDP",
      "keys/key-broker -> dns/kube-dns 53/TCP",
      "keys/key-broker -> dns/kube-dns 53/UDP",
      "observability/* -> confidential/inference-runtime 9464/TCP",
      "observability/* -> dns/kube-dns 53/TCP",
      "observability/* -> dns/kube-dns 53/UDP",
      "observability/* -> gateway/inference-gateway 9464/TCP",
      "observability/* -> keys/key-broker 9464/TCP",
    ]);
  });

  it("never lets the gateway zone reach the key broker, nor the admin port be reached at all", () => {
    const flows = matrix(stackResources());
    expect(flows.filter((f) => f.startsWith("gateway/") && f.includes("-> keys/"))).toEqual([]);
    expect(flows.filter((f) => f.includes(" 8445/"))).toEqual([]);
  });

  it("shows what removing a zone's egress policies would open", () => {
    const open = zonePolicies(zones, ports, "kube-system").filter(
      (p) => !(p.zone === "keys" && (p.name === "default-deny" || p.name === "allow-dns")),
    );
    expect(matrix(stackResources(open)).filter((f) => f.startsWith("keys/"))).toEqual([
      "keys/* -> dns/kube-dns 53/TCP",
      "keys/* -> dns/kube-dns 53/UDP",
      "keys/* -> gateway/inference-gateway 8080/TCP",
      "keys/key-broker -> dns/kube-dns 53/TCP",
      "keys/key-broker -> dns/kube-dns 53/UDP",
      "keys/key-broker -> gateway/inference-gateway 8080/TCP",
    ]);
  });

  it("shows a broker exposed to the gateway zone when a policy allows it", () => {
    const extra = zonePolicies(zones, ports, "kube-system");
    extra.push({
      zone: "keys",
      name: "oops",
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { [LABEL.namespaceName]: "ci-gateway" } } }] }],
      },
    });
    extra.push({ zone: "gateway", name: "oops", spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{}] } });
    expect(matrix(stackResources(extra)).filter((f) => f.startsWith("gateway/") && f.includes("-> keys/"))).toEqual([
      "gateway/* -> keys/key-broker 8444/TCP",
      "gateway/* -> keys/key-broker 8445/TCP",
      "gateway/* -> keys/key-broker 9464/TCP",
      "gateway/inference-gateway -> keys/key-broker 8444/TCP",
      "gateway/inference-gateway -> keys/key-broker 8445/TCP",
      "gateway/inference-gateway -> keys/key-broker 9464/TCP",
    ]);
  });
});

describe("selectorMatches", () => {
  const labels = { app: "a", tier: "web" };
  it.each([
    [{}, true],
    [{ matchLabels: { app: "a" } }, true],
    [{ matchLabels: { app: "b" } }, false],
    [{ matchExpressions: [{ key: "tier", operator: "In", values: ["web", "db"] }] }, true],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, false],
    [{ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["x"] }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "Exists" }] }, true],
    [{ matchExpressions: [{ key: "zone", operator: "Exists" }] }, false],
    [{ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, true],
    [{ matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] }, false],
  ])("%j -> %s", (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});

describe("allowedFlows edge cases", () => {
  const a: Endpoint = { id: "a", namespace: "n1", labels: { app: "a" }, ports: [{ port: 80, protocol: "TCP" }] };
  const b: Endpoint = {
    id: "b",
    namespace: "n2",
    labels: { app: "b" },
    ports: [
      { port: 8000, protocol: "TCP" },
      { port: 53, protocol: "UDP" },
    ],
  };
  const ext: Endpoint = { id: "ext", labels: {}, ports: [] };
  const ns = [{ name: "n1" }, { name: "n2" }];
  const flows = (p: NetworkPolicyDoc[]) => allowedFlows(p, ns, [a, b, ext]).map(formatFlow);

  it("leaves unselected pods open in both directions", () => {
    expect(flows([])).toEqual([
      "a -> b 53/UDP",
      "a -> b 8000/TCP",
      "b -> a 80/TCP",
      "ext -> a 80/TCP",
      "ext -> b 53/UDP",
      "ext -> b 8000/TCP",
    ]);
  });

  it("defaults policyTypes to Ingress only when there are no egress rules", () => {
    expect(flows([{ namespace: "n2", podSelector: {} }])).toEqual(["b -> a 80/TCP", "ext -> a 80/TCP"]);
  });

  it("matches port ranges and protocols", () => {
    expect(
      flows([
        {
          namespace: "n2",
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [{ ports: [{ port: 7000, endPort: 8000 }] }],
        },
      ]),
    ).toEqual(["a -> b 8000/TCP", "b -> a 80/TCP", "ext -> a 80/TCP", "ext -> b 8000/TCP"]);
  });

  it("lets an ipBlock of 0.0.0.0/0 admit outside clients but not pods", () => {
    expect(
      flows([
        {
          namespace: "n1",
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }],
        },
      ]),
    ).toEqual(["a -> b 53/UDP", "a -> b 8000/TCP", "ext -> a 80/TCP", "ext -> b 53/UDP", "ext -> b 8000/TCP"]);
  });

  it("reads a podSelector without namespaceSelector as the policy's own namespace", () => {
    expect(
      flows([
        {
          namespace: "n2",
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ podSelector: { matchLabels: { app: "a" } } }] }],
        },
      ]),
    ).toEqual(["b -> a 80/TCP", "ext -> a 80/TCP"]);
  });
});
