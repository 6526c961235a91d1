import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { children, plainInputs, reg, registrations, settle, setupMocks } from "../helpers/components.js";
import { k8sRegistrations, validateK8s } from "../helpers/k8s-schema.js";

const SEG = "confidential-inference:index:Segmentation";
const NS = "kubernetes:core/v1:Namespace";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const zones = {
  gateway: "ci-gateway",
  confidential: "ci-confidential",
  keys: "ci-keys",
  observability: "ci-observability",
};
const ports = { inference: 8443, broker: 8444, gateway: 8080, metrics: 9464 };

type SegmentationModule = typeof import("../../components/network/segmentation.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- the module must load after setMocks
let mod: SegmentationModule;
let seg: InstanceType<typeof mod.Segmentation>;

beforeAll(async () => {
  await setupMocks();
  mod = await import("../../components/network/segmentation.js");
  seg = new mod.Segmentation("net", { zones, ports, environment: "prod" });
  new mod.Segmentation("api", {
    zones: { gateway: "a-gateway", confidential: "a-confidential", keys: "a-keys", observability: "a-observability" },
    ports,
    environment: "prod",
    apiServer: { cidrs: ["10.20.0.10/32", "10.20.0.11/32"], ports: [443, 6443] },
  });
  await settle();
});

describe("Segmentation", () => {
  it("creates one namespace per zone and the zone policies, all parented to the component", () => {
    expect(children(SEG, "net")).toEqual(
      [
        `${NS}::net-gateway`,
        `${NS}::net-confidential`,
        `${NS}::net-keys`,
        `${NS}::net-observability`,
        `${NP}::net-gateway-default-deny`,
        `${NP}::net-gateway-allow-dns`,
        `${NP}::net-confidential-default-deny`,
        `${NP}::net-confidential-allow-dns`,
        `${NP}::net-keys-default-deny`,
        `${NP}::net-keys-allow-dns`,
        `${NP}::net-observability-default-deny`,
        `${NP}::net-observability-allow-dns`,
        `${NP}::net-gateway-allow-clients`,
        `${NP}::net-gateway-allow-runtime-egress`,
        `${NP}::net-confidential-allow-gateway-ingress`,
        `${NP}::net-confidential-allow-broker-egress`,
        `${NP}::net-keys-allow-runtime-ingress`,
        `${NP}::net-gateway-allow-metrics-scrape`,
        `${NP}::net-confidential-allow-metrics-scrape`,
        `${NP}::net-keys-allow-metrics-scrape`,
        `${NP}::net-observability-allow-metrics-egress`,
      ].sort(),
    );
  });

  it("labels namespaces with their zone and Pod Security restricted", () => {
    expect(plainInputs(reg(NS, "net-keys")).metadata).toEqual({
      name: "ci-keys",
      labels: {
        "app.kubernetes.io/part-of": "confidential-inference",
        "confidential-inference/zone": "keys",
        "confidential-inference/environment": "prod",
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      },
    });
  });

  it("denies all ingress and egress by default in every zone", () => {
    for (const zone of Object.keys(zones)) {
      const np = plainInputs(reg(NP, `net-${zone}-default-deny`));
      expect(np.metadata.namespace).toBe(zones[zone as keyof typeof zones]);
      expect(np.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    }
  });

  it("opens gateway -> runtime only on the mTLS port, from gateway pods", () => {
    expect(plainInputs(reg(NP, "net-confidential-allow-gateway-ingress")).spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "inference-runtime" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ci-gateway" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "inference-gateway" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 8443 }],
        },
      ],
    });
  });

  it("opens broker -> API server only when the API server is given (the broker's CA publication)", () => {
    expect(children(SEG, "net")).not.toContain(`${NP}::net-keys-allow-apiserver-egress`);
    expect(plainInputs(reg(NP, "api-keys-allow-apiserver-egress")).spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "key-broker" } },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.20.0.10/32" } }, { ipBlock: { cidr: "10.20.0.11/32" } }],
          ports: [
            { protocol: "TCP", port: 443 },
            { protocol: "TCP", port: 6443 },
          ],
        },
      ],
    });
  });

  it("exposes the namespace names and policy names as outputs", async () => {
    expect(await new Promise((r) => seg.namespaces.keys.apply(r))).toBe("ci-keys");
    const names = await new Promise<string[]>((r) => seg.networkPolicies.apply(r));
    expect(names).toHaveLength(17);
    expect(names[0]).toBe("ci-gateway/default-deny");
  });

  it("renders only schema-valid Kubernetes objects", () => {
    const objects = k8sRegistrations(registrations);
    expect(objects).toHaveLength(43);
    for (const r of objects) validateK8s(r);
  });

  it.each([
    [
      "a shared namespace",
      { zones: { ...zones, keys: "ci-gateway" }, ports, environment: "dev" },
      "zones.keys",
      'namespace "ci-gateway" is already the gateway zone',
    ],
    [
      "a bad port",
      { zones, ports: { ...ports, metrics: 0 }, environment: "dev" },
      "ports.metrics",
      "must be a port number (1-65535)",
    ],
    [
      "a namespace that is not a DNS label",
      { zones: { ...zones, gateway: "CI_Gateway" }, ports, environment: "dev" },
      "zones.gateway",
      '"CI_Gateway" is not a lower-case DNS label',
    ],
    ["an unknown environment", { zones, ports, environment: "qa" }, "environment", "must be dev, staging or prod"],
  ])("rejects %s with InputPropertyError before creating children", async (_n, args, path, reason) => {
    const before = registrations.length;
    let error: unknown;
    try {
      new mod.Segmentation(`bad-${path}`, args as never);
    } catch (e) {
      error = e;
    }
    expect(pulumi.InputPropertyError.isInstance(error)).toBe(true);
    expect((error as pulumi.InputPropertyError).propertyPath).toBe(path);
    expect((error as pulumi.InputPropertyError).reason).toBe(reason);
    await settle();
    expect(registrations.slice(before).map((r) => r.type)).toEqual([SEG]);
  });

  it("reports several invalid arguments at once", () => {
    let error: unknown;
    try {
      new mod.Segmentation("bad-many", {
        zones: { ...zones, keys: "ci-gateway" },
        ports: { ...ports, broker: 70000 },
        environment: "prod",
      });
    } catch (e) {
      error = e;
    }
    expect(pulumi.InputPropertiesError.isInstance(error)).toBe(true);
    expect((error as pulumi.InputPropertiesError).errors).toEqual([
      { propertyPath: "zones.keys", reason: 'namespace "ci-gateway" is already the gateway zone' },
      { propertyPath: "ports.broker", reason: "must be a port number (1-65535)" },
    ]);
  });
});
