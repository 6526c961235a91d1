/** Monitoring: a ServiceMonitor for every metrics port of the stack's namespaces and a PrometheusRule with deploy/'s alert rules. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { AlertRuleGroup } from "../../components/monitoring/monitoring.js";
import { children, expectRejectedBeforeChildren, plainInputs, reg, settle, setupMocks } from "../helpers/components.js";

const T = "confidential-inference:index:Monitoring";
const groups = (
  parse(readFileSync(join(__dirname, "../../deploy/prometheus/alerts.yaml"), "utf8")) as { groups: AlertRuleGroup[] }
).groups;
let mod: typeof import("../../components/monitoring/monitoring.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks

beforeAll(async () => {
  await setupMocks();
  mod = await import("../../components/monitoring/monitoring.js");
  new mod.Monitoring("monitoring", {
    namespace: "ci-observability",
    scrapeNamespaces: ["ci-gateway", "ci-confidential", "ci-keys"],
    alertRules: groups,
    labels: { release: "prometheus" },
  });
  await settle();
});

describe("Monitoring", () => {
  it("creates a ServiceMonitor and a PrometheusRule under the component", () => {
    expect(children(T, "monitoring")).toEqual([
      "kubernetes:monitoring.coreos.com/v1:PrometheusRule::monitoring-alerts",
      "kubernetes:monitoring.coreos.com/v1:ServiceMonitor::monitoring-service-monitor",
    ]);
  });

  it("scrapes the metrics port of every Service of the stack in the three namespaces", () => {
    const sm = plainInputs(reg("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "monitoring-service-monitor"));
    expect(sm).toEqual({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: {
        name: "confidential-inference",
        namespace: "ci-observability",
        labels: {
          "app.kubernetes.io/part-of": "confidential-inference",
          "confidential-inference/zone": "observability",
          release: "prometheus",
        },
      },
      spec: {
        namespaceSelector: { matchNames: ["ci-gateway", "ci-confidential", "ci-keys"] },
        selector: { matchLabels: { "app.kubernetes.io/part-of": "confidential-inference" } },
        endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scheme: "http" }],
      },
    });
  });

  it("carries the alert rules of deploy/prometheus/alerts.yaml", () => {
    const rule = plainInputs(reg("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "monitoring-alerts"));
    expect(rule.spec.groups).toEqual(groups);
    expect(rule.metadata.labels.release).toBe("prometheus");
  });

  it("rejects a bad scrape interval before creating children", async () => {
    await expectRejectedBeforeChildren(
      T,
      () =>
        new mod.Monitoring("bad", {
          namespace: "ci-observability",
          scrapeNamespaces: [],
          alertRules: [],
          interval: "often",
        }),
      "interval",
      "must be a duration like 30s or 1m",
    );
  });
});
