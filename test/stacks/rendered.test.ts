/**
 * `attestctl render`: every stack renders, the committed renderings under stacks/rendered/ are
 * current (regenerate with `npx tsx scripts/render-stacks.ts`), nothing secret leaks into them,
 * and the CLI's usage and failure paths have exact exit codes.
 */
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderStackFile } from "../../bin/commands/render.js";
import { renderedMarkdown } from "../../stacks/render/markdown.js";
import type { RenderedState } from "../../stacks/render/render.js";
import { parseGatewayConfig } from "../../runtime/gateway/config.js";
import { parseKeyBrokerConfig } from "../../runtime/keybroker/config.js";
import { runCli } from "../helpers/cli.js";

const STACKS = join(__dirname, "../../stacks");
const stacks = readdirSync(STACKS)
  .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
  .map((f) => f.split(".")[1] ?? "")
  .sort();
const rendered = new Map<string, RenderedState>();
const work = mkdtempSync(join(tmpdir(), "ci-render-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  await Promise.all(
    stacks.map(async (s) => rendered.set(s, await renderStackFile(s, join(STACKS, `Pulumi.${s}.yaml`)))),
  );
}, 120_000);

describe("stacks/rendered", () => {
  it("covers every stack", () => {
    expect(stacks).toEqual(["dev", "prod", "staging"]);
    expect(readdirSync(join(STACKS, "rendered")).sort()).toEqual(
      stacks.flatMap((s) => [`${s}.json`, `${s}.md`]).sort(),
    );
  });

  it.each(stacks)("%s is current (npx tsx scripts/render-stacks.ts)", (stack) => {
    const state = rendered.get(stack);
    expect(readFileSync(join(STACKS, "rendered", `${stack}.json`), "utf8")).toBe(`${JSON.stringify(state, null, 2)}\n`);
    expect(readFileSync(join(STACKS, "rendered", `${stack}.md`), "utf8")).toBe(
      renderedMarkdown(state as RenderedState),
    );
  });

  it.each(stacks)("%s masks every secret and leaks no stand-in", (stack) => {
    const text = JSON.stringify(rendered.get(stack));
    expect(text).not.toContain("<secret ");
    expect(text).not.toMatch(/PRIVATE KEY-----/);
    const byName = new Map(rendered.get(stack)?.resources.map((r) => [r.name, r]));
    expect((byName.get("keys-hsm-pin")?.inputs as { stringData: unknown }).stringData).toBe("[secret]");
    for (const r of rendered.get(stack)?.resources ?? [])
      if (r.type.startsWith("command:remote:"))
        expect((r.inputs as { connection: unknown }).connection).toBe("[secret]");
  });

  it("shows what only a deploy can know as [unknown]: the signature, host inventories, TLS keys", () => {
    const prod = rendered.get("prod") as RenderedState;
    expect(prod.outputs["goldenManifest"]).toBe("[unknown]");
    expect(prod.outputs["hostInventory"]).toBe("[unknown]");
    expect(prod.resourceCount).toBe(160); // a StatefulSet of 3 brokers with its store Secret and egress policy, no state claim; the CA publication
    expect(Object.keys(prod.outputs)).toEqual([
      "endpoints",
      "environment",
      "expectedMeasurements",
      "gatewayCertificate",
      "goldenManifest",
      "goldenMeasurements",
      "hostInventory",
      "platformInventory",
      "release",
      "verifierPolicy",
    ]);
  });
});

it("prod creates the ServiceMonitor and the PrometheusRule with deploy/'s alert rules (Prometheus Operator on)", () => {
  const prod = rendered.get("prod") as RenderedState;
  const kinds = prod.resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/")).map((r) => r.name);
  expect(kinds.sort()).toEqual(["monitoring-alerts", "monitoring-service-monitor"]);
  expect(rendered.get("staging")?.resources.some((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"))).toBe(
    false,
  );
});

describe.each(["staging", "prod"])("the rendered %s state is a first deploy that serves", (stack) => {
  const state = () => rendered.get(stack) as RenderedState;
  const find = (type: string, name: string) => {
    const r = state().resources.find((x) => x.type === type && x.name === name);
    if (r === undefined) throw new Error(`${stack}: no ${type} ${name}`);
    return r.inputs as any;
  };
  /** A workload by name: a Deployment, or a StatefulSet (the broker fleet of prod). */
  const workload = (name: string) =>
    find(
      stack === "prod" && name === "keys-broker" ? "kubernetes:apps/v1:StatefulSet" : "kubernetes:apps/v1:Deployment",
      name,
    );

  it("has a gateway with configured clients (API keys as hashed records, TLS, exposure)", () => {
    const cfg = parseGatewayConfig(
      JSON.parse(find("kubernetes:core/v1:ConfigMap", "inference-gateway-config").data["gateway.json"]),
    );
    expect(cfg.clients.length).toBeGreaterThanOrEqual(2);
    expect(cfg.apiKeysFile).toBe("/etc/confidential-inference/api-keys/api-keys.json");
    expect(cfg.tls?.certFile).toBe("/etc/confidential-inference/tls/tls.crt");
    expect(find("kubernetes:core/v1:Secret", "inference-gateway-api-keys").type).toBe("Opaque");
    const exposed = state().resources.filter(
      (r) => r.name === "inference-gateway-public" || r.type === "kubernetes:networking.k8s.io/v1:Ingress",
    );
    expect(exposed).toHaveLength(1);
  });

  it("bootstraps the broker CA in one pass: the broker publishes, the gateway watches the pinned bundle", () => {
    const cfg = parseGatewayConfig(
      JSON.parse(find("kubernetes:core/v1:ConfigMap", "inference-gateway-config").data["gateway.json"]),
    );
    expect(cfg.upstreamTls.brokerCaBundle?.file).toBe("/etc/confidential-inference/broker-ca/bundle.jws");
    const broker = parseKeyBrokerConfig(
      JSON.parse(find("kubernetes:core/v1:ConfigMap", "keys-config").data["broker.json"]),
    );
    expect([broker.caPublication?.namespace, broker.caPublication?.configMap]).toEqual(["ci-gateway", "key-broker-ca"]);
    expect(find("kubernetes:rbac.authorization.k8s.io/v1:Role", "keys-ca-publisher").rules).toEqual([
      { apiGroups: [""], resourceNames: ["key-broker-ca"], resources: ["configmaps"], verbs: ["get", "patch"] },
    ]);
    expect(
      find("kubernetes:networking.k8s.io/v1:NetworkPolicy", "network-keys-allow-apiserver-egress").spec.podSelector,
    ).toEqual({
      matchLabels: { "app.kubernetes.io/name": "key-broker" },
    });
  });

  it.each(["keys-broker", "inference-runtime", "inference-gateway"])(
    "%s has HTTP startup, liveness and readiness probes",
    (name) => {
      const [c] = workload(name).spec.template.spec.containers;
      expect([c.startupProbe.httpGet, c.livenessProbe.httpGet, c.readinessProbe.httpGet]).toEqual([
        { path: "/v2/health/live", port: "metrics" },
        { path: "/v2/health/live", port: "metrics" },
        { path: "/v2/health/ready", port: "metrics" },
      ]);
    },
  );

  it.each(["keys-broker", "inference-runtime", "inference-gateway"])("%s has a PodDisruptionBudget", (name) => {
    expect(
      find("kubernetes:policy/v1:PodDisruptionBudget", name).spec.selector.matchLabels["app.kubernetes.io/name"],
    ).toBe(workload(name).spec.selector.matchLabels["app.kubernetes.io/name"]);
  });

  it("backs the broker's metrics port with its metrics listener", () => {
    const broker = parseKeyBrokerConfig(
      JSON.parse(find("kubernetes:core/v1:ConfigMap", "keys-config").data["broker.json"]),
    );
    const svcPort = find("kubernetes:core/v1:Service", "keys-broker").spec.ports.find((p: any) => p.name === "metrics");
    const [c] = workload("keys-broker").spec.template.spec.containers;
    expect(broker.metrics).toEqual({ host: "0.0.0.0", port: svcPort.port });
    expect(c.ports).toContainEqual({ name: "metrics", containerPort: svcPort.port, protocol: "TCP" });
  });
});

describe("attestctl render", () => {
  it("prints JSON by default and Markdown on request", async () => {
    const md = await runCli(["render", "--stack", "dev", "--format", "markdown"]);
    expect(md.code).toBe(0);
    expect(md.stdout).toBe(renderedMarkdown(rendered.get("dev") as RenderedState));
  });

  it.each([
    [["render"], "attestctl render: --stack is required\n"],
    [
      ["render", "--stack", "dev", "--format", "yaml"],
      "attestctl render: --format must be json or markdown, got yaml\n",
    ],
    [["render", "--stak", "dev"], "attestctl render: Unknown option '--stak'"],
  ])("exits 2 on %j", async (argv, first) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(first)).toBe(true);
  });

  it("exits 2 for a stack without a config file", async () => {
    expect(await runCli(["render", "--stack", "qa"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "attestctl render: no stack config stacks/Pulumi.qa.yaml\n",
    });
  });

  it("exits 1 with every config problem when the program refuses the config", async () => {
    const bad = readFileSync(join(STACKS, "Pulumi.staging.yaml"), "utf8")
      .replace("address: 10.20.0.11", "address: 10.20.0.300")
      .replace("release: 2026.11.0-rc.2", "release: bad release");
    writeFileSync(join(work, "Pulumi.bad.yaml"), bad);
    expect(await runCli(["render", "--stack", "bad", "--config", join(work, "Pulumi.bad.yaml")])).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "attestctl render: stack bad: invalid stack configuration (2 problems):\n" +
        "confidential-inference:hosts[0].address: not an IP address or hostname\n" +
        "confidential-inference:release: must be a release id (letters, digits, '.', '_', '-')\n",
    });
  });
});
