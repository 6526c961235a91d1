/**
 * deploy/: the Grafana dashboard is valid dashboard JSON, the alert rules are a valid Prometheus rule
 * file (every rule named, with a severity and a summary; runbook links reach a heading), and every
 * metric either of them references is exported by a service: the series the gateway, the runtime and
 * the key broker register (their real registries), plus the standard process series.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { BrokerCaWatcher } from "../../runtime/gateway/broker-ca.js";
import { createInferenceMetrics } from "../../runtime/inference/server/metrics.js";
import { BrokerMetrics } from "../../runtime/keybroker/metrics.js";
import { CaPublisher } from "../../runtime/keybroker/publish/ca-publisher.js";
import { CertificateExpiry } from "../../runtime/observability/certificates.js";
import { MetricsRegistry } from "../../runtime/observability/metrics.js";

const ROOT = join(__dirname, "../..");
const dashboard = JSON.parse(readFileSync(join(ROOT, "deploy/grafana/confidential-inference.json"), "utf8")) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Array<{ type: string; title: string; id: number; targets?: Array<{ expr: string; refId: string }> }>;
};
const rules = parse(readFileSync(join(ROOT, "deploy/prometheus/alerts.yaml"), "utf8")) as {
  groups: Array<{ name: string; rules: Array<Record<string, any>> }>;
};

/** Every metric name a service exports, from the services' own registries. */
function exported(): Set<string> {
  const log = pino({ level: "silent" });
  const runtime = new MetricsRegistry({ processMetrics: true });
  createInferenceMetrics(runtime);
  new CertificateExpiry(runtime);
  const gateway = new MetricsRegistry({ processMetrics: true });
  buildGatewayApp({
    clients: [{ name: "c", rateLimit: { perSecond: 1, burst: 1 } }],
    apiKeys: [],
    routes: {},
    runtimes: { forward: () => Promise.reject(new Error("unused")) },
    logger: log,
    registry: gateway,
  });
  const pair = generateKeyPairSync("ec", { namedCurve: "P-384" });
  new BrokerCaWatcher({
    file: "/nonexistent",
    publisherKey: pair.publicKey,
    intervalMs: 1000,
    apply: () => undefined,
    logger: log,
    registry: gateway,
  });
  new CertificateExpiry(gateway);
  const broker = new MetricsRegistry({ processMetrics: true });
  new BrokerMetrics(broker);
  new CertificateExpiry(broker);
  const dir = mkdtempSync(join(tmpdir(), "ci-monitoring-"));
  try {
    writeFileSync(join(dir, "key.pem"), pair.privateKey.export({ type: "pkcs8", format: "pem" }));
    new CaPublisher({
      target: {
        apiServer: "https://127.0.0.1:1",
        namespace: "n",
        name: "m",
        tokenFile: "t",
        caFile: "c",
        timeoutMs: 1,
      },
      key: "bundle.jws",
      signingKeyFile: join(dir, "key.pem"),
      intervalMs: 1000,
      bundle: () => "",
      now: () => new Date(),
      logger: log,
      registry: broker,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return new Set([...runtime.names(), ...gateway.names(), ...broker.names()]);
}

/** Metric names in a PromQL expression (ours and the standard series; `_bucket/_sum/_count` of histograms). */
function referenced(expr: string): string[] {
  return [...expr.matchAll(/\b(?:ci|kbs|process|nodejs)_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

function known(name: string, names: Set<string>): boolean {
  return names.has(name) || names.has(name.replace(/_(bucket|sum|count)$/, ""));
}

/** GitHub's anchors of a Markdown page (as test/docs/links.test.ts computes them). */
function anchors(file: string): Set<string> {
  const md = readFileSync(join(ROOT, file), "utf8").replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
  return new Set(
    [...md.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      (m[1] as string)
        .replace(/`/g, "")
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    ),
  );
}

describe("deploy/grafana/confidential-inference.json", () => {
  it("is a Grafana dashboard: uid, title, schema version, unique panel ids, a query per data panel", () => {
    expect([dashboard.uid, dashboard.title, dashboard.schemaVersion]).toEqual([
      "confidential-inference",
      "confidential-inference",
      39,
    ]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== "row")) {
      expect(["timeseries", "stat"]).toContain(p.type);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.expr.length, p.title).toBeGreaterThan(0);
    }
    expect(dashboard.panels.map((p) => p.title)).toContain("Attestation decisions by drift class");
  });

  it("references only metrics a service exports", () => {
    const names = exported();
    const used = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => referenced(t.expr)));
    expect(used.length).toBeGreaterThan(25);
    expect(used.filter((n) => !known(n, names))).toEqual([]);
  });
});

describe("deploy/prometheus/alerts.yaml", () => {
  const all = rules.groups.flatMap((g) => g.rules);

  it("is a rule file: named groups of alerts with an expression, a severity and a summary", () => {
    expect(rules.groups.map((g) => g.name)).toEqual([
      "confidential-inference.attestation",
      "confidential-inference.key-broker",
      "confidential-inference.certificates",
      "confidential-inference.bootstrap",
      "confidential-inference.serving",
    ]);
    for (const r of all) {
      expect(Object.keys(r).filter((k) => !["alert", "expr", "for", "labels", "annotations"].includes(k))).toEqual([]);
      expect(r["alert"]).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(typeof r["expr"]).toBe("string");
      expect(["info", "warning", "critical"]).toContain(r["labels"]?.severity);
      expect(typeof r["annotations"]?.summary).toBe("string");
      if (r["for"] !== undefined) expect(r["for"]).toMatch(/^\d+[smh]$/);
    }
    expect(new Set(all.map((r) => r["alert"])).size).toBe(all.length);
  });

  it("alerts on denials by drift class, an unavailable HSM and certificate expiry", () => {
    const byName = new Map(all.map((r) => [r["alert"] as string, r["expr"] as string]));
    expect(byName.get("AttestationDeniedPossibleCompromise")).toContain(
      'drift_class=~"unknown-measurement|invalid-evidence"',
    );
    expect(byName.get("KeyBrokerHsmUnavailable")).toBe("ci_keybroker_hsm_available == 0");
    expect(byName.get("CertificateExpiresSoon")).toBe(
      '(ci_tls_certificate_expiry_timestamp_seconds{certificate!="runtime-server"} - time()) < 21 * 86400',
    );
  });

  it("references only metrics a service exports, and runbooks that exist", () => {
    const names = exported();
    expect(all.flatMap((r) => referenced(r["expr"] as string)).filter((n) => !known(n, names))).toEqual([]);
    for (const r of all) {
      const url = r["annotations"]?.runbook_url as string | undefined;
      if (url === undefined) continue;
      const [file, anchor] = url.split("#");
      expect(anchors(file as string), url).toContain(anchor);
    }
  });
});
