/**
 * `Monitoring`: the Prometheus Operator resources of the stack, in the observability zone: one
 * ServiceMonitor scraping the `metrics` port of every Service of the stack in the given namespaces
 * (the NetworkPolicies let only the observability namespace in), and one PrometheusRule holding the
 * alert rules (deploy/prometheus/alerts.yaml). Needs the operator's CRDs in the cluster.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checkDnsLabel, throwIfInvalid, type ArgProblem } from "../args.js";
import { LABEL, PART_OF } from "../labels.js";

/** A Prometheus rule group (the rule-file format). */
export interface AlertRuleGroup {
  readonly name: string;
  readonly rules: readonly Record<string, unknown>[];
}

/** Arguments of {@link Monitoring}. */
export interface MonitoringArgs {
  /** Namespace of the observability zone (where Prometheus runs and reads these objects). */
  readonly namespace: pulumi.Input<string>;
  /** Namespaces whose Services are scraped (gateway, confidential, keys). */
  readonly scrapeNamespaces: readonly pulumi.Input<string>[];
  /** Alert rule groups; empty: no PrometheusRule. */
  readonly alertRules: readonly AlertRuleGroup[];
  /** Extra labels for the operator's selectors (e.g. `release: prometheus`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Scrape interval, e.g. `30s`. Default 30s. */
  readonly interval?: string;
}

/**
 * The ServiceMonitor and PrometheusRule of the stack.
 * @example
 * new Monitoring("monitoring", { namespace: "ci-observability", scrapeNamespaces: ["ci-gateway", "ci-confidential", "ci-keys"], alertRules: groups });
 */
export class Monitoring extends pulumi.ComponentResource {
  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("confidential-inference:index:Monitoring", name, {}, opts);
    const problems: ArgProblem[] = [];
    checkDnsLabel(problems, "namespace", args.namespace);
    if (args.interval !== undefined && !/^[1-9][0-9]*[sm]$/.test(args.interval))
      problems.push({ propertyPath: "interval", reason: "must be a duration like 30s or 1m" });
    args.alertRules.forEach((g, i) => {
      if (typeof g.name !== "string" || !Array.isArray(g.rules))
        problems.push({ propertyPath: `alertRules[${i}]`, reason: "must be a rule group { name, rules }" });
    });
    throwIfInvalid("Monitoring", problems);
    const metadata = {
      name: PART_OF,
      namespace: args.namespace,
      labels: { [LABEL.partOf]: PART_OF, [LABEL.zone]: "observability", ...(args.labels ?? {}) },
    };
    new k8s.apiextensions.CustomResource(
      `${name}-service-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata,
        spec: {
          namespaceSelector: { matchNames: args.scrapeNamespaces },
          selector: { matchLabels: { [LABEL.partOf]: PART_OF } },
          endpoints: [{ port: "metrics", path: "/metrics", interval: args.interval ?? "30s", scheme: "http" }],
        },
      },
      { parent: this },
    );
    if (args.alertRules.length > 0)
      new k8s.apiextensions.CustomResource(
        `${name}-alerts`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PrometheusRule",
          metadata,
          spec: { groups: args.alertRules.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ ...r })) })) },
        },
        { parent: this },
      );
    this.registerOutputs({});
  }
}
