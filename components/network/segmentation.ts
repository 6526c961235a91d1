/**
 * `Segmentation`: the network zones of the design as Kubernetes namespaces (Pod Security
 * `restricted`), default-deny ingress and egress in each, and exactly the allowed flows of
 * `zonePolicies`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checkDnsLabel, checkPort, known, throwIfInvalid, type ArgProblem } from "../args.js";
import { LABEL, PART_OF, ZONES, type Zone } from "../labels.js";
import { zonePolicies, type ApiServerEndpoints, type ExternalEndpoint, type FlowPorts } from "./policies.js";

/** Arguments of {@link Segmentation}. */
export interface SegmentationArgs {
  /** Kubernetes namespace of each zone; plain strings because they decide which resources exist. Must be distinct. */
  readonly zones: Readonly<Record<Zone, string>>;
  /** Ports the allowed flows open: runtime mTLS, broker KBS, gateway client port, metrics. */
  readonly ports: FlowPorts;
  /** Namespace of the cluster DNS (pods labelled `k8s-app: kube-dns`). Default `kube-system`. */
  readonly clusterDnsNamespace?: pulumi.Input<string>;
  /** Environment class recorded as a label (`confidential-inference/environment`), read by the policy pack. */
  readonly environment: pulumi.Input<string>;
  /** Addresses outside the cluster the key broker must reach (its replicated store): CIDR and TCP port. Plain. */
  readonly brokerEgress?: readonly ExternalEndpoint[];
  /**
   * The Kubernetes API server as NetworkPolicies see it (its endpoint addresses and ports, after the
   * Service's translation): opens broker -> API server, for the broker's CA publication. Absent: closed.
   */
  readonly apiServer?: ApiServerEndpoints;
}

/**
 * Namespaces and NetworkPolicies of the four zones.
 * @example
 * const seg = new Segmentation("net", {
 *   zones: { gateway: "ci-gateway", confidential: "ci-confidential", keys: "ci-keys", observability: "ci-observability" },
 *   ports: { inference: 8443, broker: 8444, gateway: 8080, metrics: 9464 },
 *   environment: "prod",
 * });
 * // seg.namespaces.confidential -> "ci-confidential" (resolves once the namespace exists)
 */
export class Segmentation extends pulumi.ComponentResource {
  /** Namespace name of each zone (depend on these to order workloads after their namespace). */
  readonly namespaces: Readonly<Record<Zone, pulumi.Output<string>>>;
  /** Names of the NetworkPolicies per zone namespace, e.g. `ci-keys/default-deny`. */
  readonly networkPolicies: pulumi.Output<string[]>;

  constructor(name: string, args: SegmentationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("confidential-inference:index:Segmentation", name, {}, opts);
    const problems: ArgProblem[] = [];
    const seen = new Map<string, Zone>();
    for (const zone of ZONES) {
      const ns = args.zones[zone];
      if (ns === undefined) problems.push({ propertyPath: `zones.${zone}`, reason: "required" });
      checkDnsLabel(problems, `zones.${zone}`, ns);
      const other = ns === undefined ? undefined : seen.get(ns);
      if (other !== undefined)
        problems.push({ propertyPath: `zones.${zone}`, reason: `namespace "${ns}" is already the ${other} zone` });
      if (ns !== undefined) seen.set(ns, zone);
    }
    for (const key of ["inference", "broker", "gateway", "metrics"] as const)
      checkPort(problems, `ports.${key}`, args.ports[key]);
    checkDnsLabel(problems, "clusterDnsNamespace", args.clusterDnsNamespace);
    (args.brokerEgress ?? []).forEach((e, i) => {
      if (!/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/.test(e.cidr) || /\/0$/.test(e.cidr))
        problems.push({ propertyPath: `brokerEgress[${i}].cidr`, reason: "must be a CIDR narrower than /0" });
      checkPort(problems, `brokerEgress[${i}].port`, e.port);
    });
    args.apiServer?.cidrs.forEach((c, i) => {
      const v = known(c);
      if (v !== undefined && !/^[0-9a-fA-F.:]+\/[0-9]{1,3}$/.test(v))
        problems.push({ propertyPath: `apiServer.cidrs[${i}]`, reason: "must be a CIDR (10.0.0.1/32)" });
    });
    args.apiServer?.ports.forEach((p, i) => checkPort(problems, `apiServer.ports[${i}]`, p));
    const env = known(args.environment);
    if (env !== undefined && !["dev", "staging", "prod"].includes(env))
      problems.push({ propertyPath: "environment", reason: "must be dev, staging or prod" });
    throwIfInvalid("Segmentation", problems);

    const namespaces = {} as Record<Zone, pulumi.Output<string>>;
    const nsResources = {} as Record<Zone, k8s.core.v1.Namespace>;
    for (const zone of ZONES) {
      const ns = new k8s.core.v1.Namespace(
        `${name}-${zone}`,
        {
          metadata: {
            name: args.zones[zone],
            labels: {
              [LABEL.partOf]: PART_OF,
              [LABEL.zone]: zone,
              [LABEL.environment]: args.environment,
              "pod-security.kubernetes.io/enforce": "restricted",
              "pod-security.kubernetes.io/enforce-version": "latest",
              "pod-security.kubernetes.io/audit": "restricted",
              "pod-security.kubernetes.io/warn": "restricted",
            },
          },
        },
        { parent: this },
      );
      nsResources[zone] = ns;
      namespaces[zone] = ns.metadata.name;
    }
    const names: pulumi.Output<string>[] = [];
    for (const p of zonePolicies(args.zones, args.ports, args.clusterDnsNamespace ?? "kube-system", {
      ...(args.brokerEgress ? { store: args.brokerEgress } : {}),
      ...(args.apiServer ? { apiServer: args.apiServer } : {}),
    })) {
      const policy = new k8s.networking.v1.NetworkPolicy(
        `${name}-${p.zone}-${p.name}`,
        {
          metadata: {
            name: p.name,
            namespace: namespaces[p.zone],
            labels: { [LABEL.partOf]: PART_OF, [LABEL.zone]: p.zone },
          },
          spec: p.spec,
        },
        { parent: this, dependsOn: [nsResources[p.zone]] },
      );
      names.push(pulumi.interpolate`${policy.metadata.namespace}/${policy.metadata.name}`);
    }
    this.namespaces = namespaces;
    this.networkPolicies = pulumi.all(names);
    this.registerOutputs({ namespaces: this.namespaces, networkPolicies: this.networkPolicies });
  }
}
