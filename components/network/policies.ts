/**
 * The NetworkPolicy specs of the four zones, as plain data (pure; `segmentation.ts` turns them into
 * resources). Every zone namespace gets default-deny for ingress and egress plus DNS; the other
 * policies open exactly the flows of the design:
 * clients -> gateway, gateway -> runtime (mTLS port), runtime -> broker (KBS port),
 * observability -> every workload's metrics port, and the broker -> the addresses outside the
 * cluster it must reach (its replicated store; the API server for its CA publication), when given.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { LABEL, WORKLOADS, type Zone } from "../labels.js";

type PolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** The ports the flows open. */
export interface FlowPorts {
  readonly inference: pulumi.Input<number>;
  readonly broker: pulumi.Input<number>;
  readonly gateway: pulumi.Input<number>;
  readonly metrics: pulumi.Input<number>;
}

/** An address outside the cluster a workload must reach: a CIDR and a TCP port. */
export interface ExternalEndpoint {
  readonly cidr: string;
  readonly port: number;
}

/** The API server's endpoints (addresses and ports after the `kubernetes` Service's translation). */
export interface ApiServerEndpoints {
  readonly cidrs: readonly pulumi.Input<string>[];
  readonly ports: readonly pulumi.Input<number>[];
}

/** Where the key broker may connect outside the cluster's pods; each absent: closed. */
export interface BrokerEgress {
  /** The replicated store (PostgreSQL) addresses. */
  readonly store?: readonly ExternalEndpoint[];
  /** The API server (its CA publication). */
  readonly apiServer?: ApiServerEndpoints;
}

/** One NetworkPolicy to create: its zone, Kubernetes name and spec. */
export interface ZonePolicy {
  readonly zone: Zone;
  readonly name: string;
  readonly spec: PolicySpec;
}

function pods(workload: string): { matchLabels: Record<string, string> } {
  return { matchLabels: { [LABEL.name]: workload } };
}

function inNamespace(namespace: pulumi.Input<string>): { matchLabels: Record<string, pulumi.Input<string>> } {
  return { matchLabels: { [LABEL.namespaceName]: namespace } };
}

/**
 * Every NetworkPolicy of the stack, in a stable order.
 * @param namespaces - namespace of each zone.
 * @param dnsNamespace - namespace of the cluster DNS (pods labelled `k8s-app: kube-dns`).
 * @param brokerEgress - addresses outside the cluster's pods the key broker may reach: its store, the API server.
 */
export function zonePolicies(
  namespaces: Readonly<Record<Zone, string>>,
  ports: FlowPorts,
  dnsNamespace: pulumi.Input<string>,
  brokerEgress: BrokerEgress = {},
): ZonePolicy[] {
  const out: ZonePolicy[] = [];
  const zones = Object.keys(namespaces) as Zone[];
  for (const zone of zones) {
    out.push({ zone, name: "default-deny", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } });
    out.push({
      zone,
      name: "allow-dns",
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              { namespaceSelector: inNamespace(dnsNamespace), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    });
  }
  const metricsFrom = [{ namespaceSelector: inNamespace(namespaces.observability) }];
  out.push(
    {
      zone: "gateway",
      name: "allow-clients",
      spec: {
        podSelector: pods(WORKLOADS.gateway),
        policyTypes: ["Ingress"],
        ingress: [{ ports: [{ protocol: "TCP", port: ports.gateway }] }],
      },
    },
    {
      zone: "gateway",
      name: "allow-runtime-egress",
      spec: {
        podSelector: pods(WORKLOADS.gateway),
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ namespaceSelector: inNamespace(namespaces.confidential), podSelector: pods(WORKLOADS.runtime) }],
            ports: [{ protocol: "TCP", port: ports.inference }],
          },
        ],
      },
    },
    {
      zone: "confidential",
      name: "allow-gateway-ingress",
      spec: {
        podSelector: pods(WORKLOADS.runtime),
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: inNamespace(namespaces.gateway), podSelector: pods(WORKLOADS.gateway) }],
            ports: [{ protocol: "TCP", port: ports.inference }],
          },
        ],
      },
    },
    {
      zone: "confidential",
      name: "allow-broker-egress",
      spec: {
        podSelector: pods(WORKLOADS.runtime),
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ namespaceSelector: inNamespace(namespaces.keys), podSelector: pods(WORKLOADS.broker) }],
            ports: [{ protocol: "TCP", port: ports.broker }],
          },
        ],
      },
    },
    {
      zone: "keys",
      name: "allow-runtime-ingress",
      spec: {
        podSelector: pods(WORKLOADS.broker),
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: inNamespace(namespaces.confidential), podSelector: pods(WORKLOADS.runtime) }],
            ports: [{ protocol: "TCP", port: ports.broker }],
          },
        ],
      },
    },
  );
  const apiServer = brokerEgress.apiServer;
  if (apiServer !== undefined)
    out.push({
      zone: "keys",
      name: "allow-apiserver-egress",
      spec: {
        podSelector: pods(WORKLOADS.broker),
        policyTypes: ["Egress"],
        egress: [
          {
            to: apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: apiServer.ports.map((port) => ({ protocol: "TCP", port })),
          },
        ],
      },
    });
  for (const zone of ["gateway", "confidential", "keys"] as const) {
    out.push({
      zone,
      name: "allow-metrics-scrape",
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: metricsFrom, ports: [{ protocol: "TCP", port: ports.metrics }] }],
      },
    });
  }
  const store = brokerEgress.store ?? [];
  if (store.length > 0)
    out.push({
      zone: "keys",
      name: "allow-broker-store-egress",
      spec: {
        podSelector: pods(WORKLOADS.broker),
        policyTypes: ["Egress"],
        egress: store.map((e) => ({
          to: [{ ipBlock: { cidr: e.cidr } }],
          ports: [{ protocol: "TCP", port: e.port }],
        })),
      },
    });
  out.push({
    zone: "observability",
    name: "allow-metrics-egress",
    spec: {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: {
                matchExpressions: [
                  {
                    key: LABEL.namespaceName,
                    operator: "In",
                    values: [namespaces.gateway, namespaces.confidential, namespaces.keys],
                  },
                ],
              },
            },
          ],
          ports: [{ protocol: "TCP", port: ports.metrics }],
        },
      ],
    },
  });
  return out;
}
