import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { zonePolicies } from "../../components/network/policies.js";
import { noDebugOrMigration, tcbFloorInProd } from "../../guardrails/attestation.js";
import { plaintextApiOnlyInDev } from "../../guardrails/gateway.js";
import { noHsmClassKeysInState } from "../../guardrails/keys.js";
import { brokerUnreachableFromGateway, namespaceDefaultDeny } from "../../guardrails/network.js";
import { POLICIES } from "../../guardrails/policies.js";
import { confidentialRuntimeClass, imagePinnedByDigest } from "../../guardrails/workloads.js";
import type { RenderedState } from "../../stacks/render/render.js";
import { runPolicies, runPolicy, type PolicyInput } from "../helpers/policy-harness.js";

const DIGEST = `@sha256:${"a".repeat(64)}`;
const deployment = (name: string, env: string, pod: Record<string, unknown>): PolicyInput => ({
  type: "kubernetes:apps/v1:Deployment",
  name,
  props: {
    metadata: { name, labels: { "confidential-inference/environment": env } },
    spec: { template: { metadata: { labels: { "app.kubernetes.io/name": name } }, spec: pod } },
  },
});
const verifierConfigMap = (policy: Record<string, unknown>): PolicyInput => ({
  type: "kubernetes:core/v1:ConfigMap",
  name: "keys-config",
  props: { data: { "verifier-policy.json": JSON.stringify(policy) } },
});
const goodPolicy = {
  environment: "prod",
  allowDebug: false,
  allowMigrationAgent: false,
  allowedPolicyBits: "0x30000",
  allowedRoots: ["amd-genoa", "amd-turin"],
  tcbFloors: { Genoa: {}, Turin: {} },
};

describe("image-pinned-by-digest", () => {
  it.each([
    [
      "digests everywhere",
      {
        containers: [{ name: "main", image: `r/x${DIGEST}` }],
        initContainers: [{ name: "init", image: `r/y:1${DIGEST}` }],
      },
      [],
    ],
    [
      "a tag",
      { containers: [{ name: "main", image: "r/x:latest" }] },
      ['container main: image "r/x:latest" is not pinned by digest'],
    ],
    [
      "an init container by tag",
      { containers: [{ name: "main", image: `r/x${DIGEST}` }], initContainers: [{ name: "init", image: "busybox" }] },
      ['container init: image "busybox" is not pinned by digest'],
    ],
  ])("%s", async (_n, pod, messages) => {
    expect((await runPolicy(imagePinnedByDigest, [deployment("app", "prod", pod)])).map((v) => v.message)).toEqual(
      messages,
    );
  });
});

describe("attestation-forbids-debug-and-migration", () => {
  it.each([
    ["a strict policy", goodPolicy, []],
    [
      "debug accepted",
      { ...goodPolicy, allowDebug: true },
      ["the verifier policy accepts debug guests (allowDebug): the host can read their memory"],
    ],
    [
      "a migration agent accepted, with its bit",
      { ...goodPolicy, allowMigrationAgent: true, allowedPolicyBits: "0x70000" },
      [
        "the verifier policy accepts guests with a migration agent (allowMigrationAgent)",
        "the golden manifest allows POLICY.MIGRATE_MA (bit 18) in reports",
      ],
    ],
    [
      "the debug bit allowed in reports",
      { ...goodPolicy, allowedPolicyBits: "0xb0000" },
      ["the golden manifest allows POLICY.DEBUG (bit 19) in reports"],
    ],
  ])("%s", async (_n, policy, messages) => {
    expect((await runPolicy(noDebugOrMigration, [verifierConfigMap(policy)])).map((v) => v.message)).toEqual(messages);
  });

  it("refuses a guest unit launched with the debug bit", async () => {
    const unit = (policy: string): PolicyInput => ({
      type: "command:remote:Command",
      name: "g-unit",
      props: { create: `ExecStart=qemu-system-x86_64 -object sev-snp-guest,id=sev0,policy=${policy},cbitpos=51` },
    });
    expect(await runPolicy(noDebugOrMigration, [unit("0x30000")])).toEqual([]);
    expect((await runPolicy(noDebugOrMigration, [unit("0xb0000")])).map((v) => v.message)).toEqual([
      "a guest is launched with policy 0xb0000: POLICY.DEBUG is set",
    ]);
  });
});

describe("inference-in-confidential-runtime-class", () => {
  it.each([
    ["prod with kata-qemu-snp", "prod", { runtimeClassName: "kata-qemu-snp" }, {}, []],
    ["dev without a class", "dev", {}, {}, []],
    [
      "staging without a class",
      "staging",
      {},
      {},
      [
        "inference runtime in staging runs with runtimeClassName null, not one of kata-qemu-snp, kata-clh-snp, kata-snp",
      ],
    ],
    [
      "prod with runc",
      "prod",
      { runtimeClassName: "runc" },
      {},
      ['inference runtime in prod runs with runtimeClassName "runc", not one of kata-qemu-snp, kata-clh-snp, kata-snp'],
    ],
    [
      "prod with a configured class",
      "prod",
      { runtimeClassName: "snp-vm" },
      { confidentialRuntimeClasses: ["snp-vm"] },
      [],
    ],
  ])("%s", async (_n, env, pod, config, messages) => {
    const d = deployment("inference-runtime", env, { ...pod, containers: [] });
    expect(
      (
        await runPolicy(confidentialRuntimeClass, [d, deployment("inference-gateway", env, { containers: [] })], config)
      ).map((v) => v.message),
    ).toEqual(messages);
  });
});

const zones = {
  gateway: "ci-gateway",
  confidential: "ci-confidential",
  keys: "ci-keys",
  observability: "ci-observability",
};
function networkResources(extra: ReturnType<typeof zonePolicies> = [], drop = ""): PolicyInput[] {
  const out: PolicyInput[] = Object.entries(zones).map(([zone, name]) => ({
    type: "kubernetes:core/v1:Namespace",
    name,
    props: { metadata: { name, labels: { "confidential-inference/zone": zone } } },
  }));
  for (const p of [
    ...zonePolicies(zones, { inference: 8443, broker: 8444, gateway: 8080, metrics: 9464 }, "kube-system"),
    ...extra,
  ]) {
    if (`${p.zone}/${p.name}` === drop) continue;
    out.push({
      type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      name: `${p.zone}-${p.name}`,
      props: { metadata: { name: p.name, namespace: zones[p.zone] }, spec: p.spec },
    });
  }
  out.push(
    deployment("key-broker", "prod", { containers: [{ name: "b", image: "x", ports: [{ containerPort: 8444 }] }] }),
  );
  (out.at(-1)?.props["metadata"] as Record<string, unknown>)["namespace"] = "ci-keys";
  out.push(
    deployment("inference-gateway", "prod", {
      containers: [{ name: "g", image: "x", ports: [{ containerPort: 8080 }] }],
    }),
  );
  (out.at(-1)?.props["metadata"] as Record<string, unknown>)["namespace"] = "ci-gateway";
  return out;
}

describe("namespace-default-deny", () => {
  it("passes when every namespace has one and names the namespace that lacks it", async () => {
    expect(await runPolicy(namespaceDefaultDeny, networkResources())).toEqual([]);
    expect(await runPolicy(namespaceDefaultDeny, networkResources([], "observability/default-deny"))).toEqual([
      {
        policy: "namespace-default-deny",
        resource: "ci-observability",
        message: "namespace ci-observability has no default-deny NetworkPolicy (ingress and egress)",
      },
    ]);
  });

  it("does not count a policy that only denies ingress", async () => {
    const ingressOnly = {
      zone: "observability" as const,
      name: "deny-in",
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    };
    expect(
      (await runPolicy(namespaceDefaultDeny, networkResources([ingressOnly], "observability/default-deny"))).map(
        (v) => v.resource,
      ),
    ).toEqual(["ci-observability"]);
  });
});

describe("broker-unreachable-from-gateway", () => {
  it("passes on the zone policies and reports every flow a widening policy opens", async () => {
    expect(await runPolicy(brokerUnreachableFromGateway, networkResources())).toEqual([]);
    const open = [
      {
        zone: "keys" as const,
        name: "from-gateway",
        spec: {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ci-gateway" } } }] },
          ],
        },
      },
      {
        zone: "gateway" as const,
        name: "egress-all",
        spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{}] },
      },
    ];
    expect((await runPolicy(brokerUnreachableFromGateway, networkResources(open))).map((v) => v.message)).toEqual([
      "the gateway zone can reach the key broker: gateway/* -> keys/key-broker 8444/TCP",
      "the gateway zone can reach the key broker: gateway/inference-gateway -> keys/key-broker 8444/TCP",
    ]);
  });
});

describe("no-hsm-class-keys-in-state", () => {
  it.each([
    [
      "a leaf server certificate",
      {
        type: "tls:index/selfSignedCert:SelfSignedCert",
        name: "keys-listener-cert",
        props: { isCaCertificate: false, allowedUses: ["digital_signature", "server_auth"] },
      },
      [],
    ],
    [
      "a CA made with @pulumi/tls",
      {
        type: "tls:index/selfSignedCert:SelfSignedCert",
        name: "broker-ca-cert",
        props: { isCaCertificate: true, allowedUses: ["cert_signing"] },
      },
      [
        "a CA certificate is made with @pulumi/tls: its private key would be in Pulumi state (keep CA keys in the HSM)",
        "a certificate allows cert_signing: its private key would sign certificates from Pulumi state",
      ],
    ],
    [
      "a key named for the broker CA",
      { type: "tls:index/privateKey:PrivateKey", name: "broker-ca-key", props: { algorithm: "ECDSA" } },
      ["private key broker-ca-key is named for an HSM-class role: create it inside the HSM, not in Pulumi state"],
    ],
    [
      "a listener key",
      { type: "tls:index/privateKey:PrivateKey", name: "keys-listener-key", props: { algorithm: "ECDSA" } },
      [],
    ],
  ])("%s", async (_n, resource, messages) => {
    expect((await runPolicy(noHsmClassKeysInState, [resource as PolicyInput])).map((v) => v.message)).toEqual(messages);
  });
});

describe("tcb-floor-required-in-prod", () => {
  it.each([
    ["floors for every product", goodPolicy, []],
    [
      "a missing Turin floor",
      { ...goodPolicy, tcbFloors: { Genoa: {} } },
      ["prod accepts Turin evidence (amd-turin) without a TCB floor for Turin"],
    ],
    [
      "the simulated root",
      { ...goodPolicy, allowedRoots: ["amd-genoa", "simulated"] },
      ["prod trusts the simulated (sandbox) root"],
    ],
    ["staging without floors", { ...goodPolicy, environment: "staging", tcbFloors: {} }, []],
  ])("%s", async (_n, policy, messages) => {
    expect((await runPolicy(tcbFloorInProd, [verifierConfigMap(policy)])).map((v) => v.message)).toEqual(messages);
  });
});

describe("plaintext-api-only-in-dev", () => {
  const gatewayConfigMap = (env: string | undefined, config: Record<string, unknown>): PolicyInput => ({
    type: "kubernetes:core/v1:ConfigMap",
    name: "inference-gateway-config",
    props: {
      metadata: { labels: env === undefined ? {} : { "confidential-inference/environment": env } },
      data: { "gateway.json": JSON.stringify(config) },
    },
  });
  it.each([
    ["prod with the relay only", "prod", { plaintextApi: false }, []],
    ["dev with the plaintext API", "dev", { plaintextApi: true }, []],
    [
      "staging with the plaintext API",
      "staging",
      { plaintextApi: true },
      ["gateway.json sets plaintextApi in staging: the gateway would read prompts and answers (dev only)"],
    ],
    [
      "an unlabelled gateway with the plaintext API",
      undefined,
      { plaintextApi: true },
      [
        "gateway.json sets plaintextApi in an unlabelled environment: the gateway would read prompts and answers (dev only)",
      ],
    ],
  ])("%s", async (_n, env, config, messages) => {
    expect((await runPolicy(plaintextApiOnlyInDev, [gatewayConfigMap(env, config)])).map((v) => v.message)).toEqual(
      messages,
    );
  });
});

describe("the policy pack over every stack's rendered state", () => {
  const load = (stack: string) =>
    JSON.parse(readFileSync(join(__dirname, "../../stacks/rendered", `${stack}.json`), "utf8")) as RenderedState;
  const inputs = (state: RenderedState): PolicyInput[] =>
    state.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs as Record<string, unknown> }));

  it("has the ten guardrails, every one mandatory but the renewal reminder", () => {
    expect(POLICIES.map((p) => p.name)).toEqual([
      "image-pinned-by-digest",
      "attestation-forbids-debug-and-migration",
      "inference-in-confidential-runtime-class",
      "confidential-pod-binds-host-data",
      "namespace-default-deny",
      "broker-unreachable-from-gateway",
      "no-hsm-class-keys-in-state",
      "tcb-floor-required-in-prod",
      "plaintext-api-only-in-dev",
      "tls-certificate-renewal-due",
    ]);
    expect(POLICIES.filter((p) => p.enforcementLevel !== "mandatory").map((p) => [p.name, p.enforcementLevel])).toEqual(
      [["tls-certificate-renewal-due", "advisory"]],
    );
  });

  it.each(["dev", "staging", "prod"])("%s passes every guardrail", async (stack) => {
    expect(await runPolicies(POLICIES, inputs(load(stack)))).toEqual([]);
  });

  it("stops prod when its runtime loses the confidential RuntimeClass", async () => {
    const resources = inputs(load("prod")).map((r) => {
      if (r.name !== "inference-runtime" || r.type !== "kubernetes:apps/v1:Deployment") return r;
      const copy = JSON.parse(JSON.stringify(r)) as PolicyInput;
      delete ((copy.props["spec"] as any).template.spec as Record<string, unknown>)["runtimeClassName"];
      return copy;
    });
    expect(await runPolicies(POLICIES, resources)).toEqual([
      {
        policy: "inference-in-confidential-runtime-class",
        resource: "inference-runtime",
        message:
          "inference runtime in prod runs with runtimeClassName null, not one of kata-qemu-snp, kata-clh-snp, kata-snp",
      },
    ]);
  });
});
