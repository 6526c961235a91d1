/**
 * The allowed-flow matrix of a set of Kubernetes NetworkPolicies, computed the way the API
 * defines them (networking.k8s.io/v1): a pod selected by no policy of a direction is open in that
 * direction; a selected pod accepts only what some rule of a selecting policy allows; a
 * connection needs the source's egress and the destination's ingress to allow it. Pure: it takes
 * the rendered objects, so tests and the policy pack assert reachability instead of YAML shapes.
 */

/** A Kubernetes label selector (`matchLabels` and `matchExpressions`). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }[];
}

/** One peer of a rule (`from` / `to`). */
export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

/** One port of a rule; absent protocol means TCP. Named ports are not used by this stack. */
export interface PolicyPort {
  readonly port?: number | string;
  readonly endPort?: number;
  readonly protocol?: string;
}

/** One ingress or egress rule. */
export interface PolicyRule {
  readonly from?: readonly PolicyPeer[];
  readonly to?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

/** The parts of a NetworkPolicy that decide reachability. */
export interface NetworkPolicyDoc {
  readonly namespace: string;
  readonly podSelector: LabelSelector;
  /** Absent means the API default: Ingress, plus Egress when egress rules exist. */
  readonly policyTypes?: readonly string[];
  readonly ingress?: readonly PolicyRule[];
  readonly egress?: readonly PolicyRule[];
}

/** A namespace and its labels (`kubernetes.io/metadata.name` is added automatically). */
export interface NamespaceDoc {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A port a pod listens on. */
export interface EndpointPort {
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
}

/**
 * A pod (or a class of pods) that may send or receive traffic. `namespace` absent means outside
 * the cluster (clients on the network).
 */
export interface Endpoint {
  /** Stable id used in the matrix, e.g. `confidential/inference-runtime`. */
  readonly id: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Ports it listens on (empty for pure clients). */
  readonly ports: readonly EndpointPort[];
}

/** One allowed connection. */
export interface Flow {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: "TCP" | "UDP";
}

/** True when `labels` satisfy `selector` (an empty selector matches everything). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(value ?? "")) return false;
        break;
      case "NotIn":
        if (has && values.includes(value ?? "")) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function policyTypes(p: NetworkPolicyDoc): readonly string[] {
  if (p.policyTypes !== undefined && p.policyTypes.length > 0) return p.policyTypes;
  return p.egress !== undefined && p.egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

function namespaceLabels(namespaces: ReadonlyMap<string, NamespaceDoc>, name: string): Record<string, string> {
  return { ...(namespaces.get(name)?.labels ?? {}), "kubernetes.io/metadata.name": name };
}

/** Whether `peer`, written in a policy of `policyNamespace`, designates endpoint `e`. */
function peerMatches(
  peer: PolicyPeer,
  policyNamespace: string,
  e: Endpoint,
  namespaces: ReadonlyMap<string, NamespaceDoc>,
): boolean {
  if (peer.ipBlock !== undefined) {
    // Only cluster-external endpoints are modelled as IP traffic; pod IPs are not enumerated.
    return e.namespace === undefined && peer.ipBlock.cidr.endsWith("/0") && (peer.ipBlock.except ?? []).length === 0;
  }
  if (e.namespace === undefined) return false;
  if (peer.namespaceSelector === undefined) {
    return e.namespace === policyNamespace && selectorMatches(peer.podSelector ?? {}, e.labels);
  }
  if (!selectorMatches(peer.namespaceSelector, namespaceLabels(namespaces, e.namespace))) return false;
  return selectorMatches(peer.podSelector ?? {}, e.labels);
}

function portMatches(ports: readonly PolicyPort[] | undefined, port: EndpointPort): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== port.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "string") return false;
    return p.endPort === undefined ? p.port === port.port : port.port >= p.port && port.port <= p.endPort;
  });
}

/** Whether the policies of `self`'s namespace let `self` talk to / hear from `other` on `port`. */
function directionAllows(
  direction: "Ingress" | "Egress",
  self: Endpoint,
  other: Endpoint,
  port: EndpointPort,
  policies: readonly NetworkPolicyDoc[],
  namespaces: ReadonlyMap<string, NamespaceDoc>,
): boolean {
  if (self.namespace === undefined) return true; // outside the cluster: not governed here
  const selecting = policies.filter(
    (p) =>
      p.namespace === self.namespace &&
      policyTypes(p).includes(direction) &&
      selectorMatches(p.podSelector, self.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (direction === "Ingress" ? (p.ingress ?? []) : (p.egress ?? [])).some((rule) => {
      const peers = direction === "Ingress" ? rule.from : rule.to;
      const peerOk =
        peers === undefined ||
        peers.length === 0 ||
        peers.some((peer) => peerMatches(peer, p.namespace, other, namespaces));
      return peerOk && portMatches(rule.ports, port);
    }),
  );
}

/**
 * Every (source, destination, port) connection the policies allow between the given endpoints,
 * sorted by source, destination, port and protocol. An endpoint never appears as its own peer.
 * @example
 * allowedFlows(policies, namespaces, endpoints)
 * // [{ from: "gateway/inference-gateway", to: "confidential/inference-runtime", port: 8443, protocol: "TCP" }, ...]
 */
export function allowedFlows(
  policies: readonly NetworkPolicyDoc[],
  namespaces: readonly NamespaceDoc[],
  endpoints: readonly Endpoint[],
): Flow[] {
  const byName = new Map(namespaces.map((n) => [n.name, n]));
  const flows: Flow[] = [];
  for (const src of endpoints) {
    for (const dst of endpoints) {
      if (src.id === dst.id) continue;
      for (const port of dst.ports) {
        if (
          directionAllows("Egress", src, dst, port, policies, byName) &&
          directionAllows("Ingress", dst, src, port, policies, byName)
        ) {
          flows.push({ from: src.id, to: dst.id, port: port.port, protocol: port.protocol });
        }
      }
    }
  }
  return flows.sort(
    (a, b) =>
      a.from.localeCompare(b.from) ||
      a.to.localeCompare(b.to) ||
      a.port - b.port ||
      a.protocol.localeCompare(b.protocol),
  );
}

/** Formats a flow as `from -> to port/protocol` (for readable test expectations and reports). */
export function formatFlow(f: Flow): string {
  return `${f.from} -> ${f.to} ${f.port}/${f.protocol}`;
}
