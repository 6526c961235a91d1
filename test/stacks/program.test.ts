/**
 * The whole program (stacks/main.ts) on the prod config under mocks, not in preview: every host
 * command's output comes from the real scripts run against the fixture trees, the release key is a
 * test key pair, so the golden manifest is really signed. Asserts the outputs, that nothing secret
 * is exported, that every Kubernetes object is schema-valid, and the reachability of the zones.
 */
import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowedFlows, formatFlow } from "../../components/network/flows.js";
import { networkModel } from "../../components/network/model.js";
import { verifySignedManifest } from "../../measurements/manifest/verify.js";
import { drain } from "../../stacks/render/render.js";
import { readStackFile } from "../../stacks/stack-file.js";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { parseApiKeysFile, parseGatewayConfig } from "../../runtime/gateway/config.js";
import { parseRuntimeConfig } from "../../runtime/inference/config.js";
import { parseKeyBrokerConfig } from "../../runtime/keybroker/config.js";
import { attestationPolicyFromVerifierPolicy } from "../../runtime/attestation/validate/attestation-policy.js";
import { plainInputs, registrations, setupMocks, tlsComputed, value } from "../helpers/components.js";
import { k8sRegistrations, validateK8s } from "../helpers/k8s-schema.js";

const ROOT = join(__dirname, "../..");
const FIX = join(ROOT, "test/components/host/fixtures");
const NS = "confidential-inference";
const work = mkdtempSync(join(tmpdir(), "ci-program-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pair = generateKeyPairSync("ec", { namedCurve: "P-384" });
const publicKey = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const search = generateApiKey("search");
const analytics = generateApiKey("analytics");
const SECRETS = {
  gatewayApiKeySearch: search.apiKey,
  gatewayApiKeyAnalytics: analytics.apiKey,
  hsmPin: "prod-test-pin-0042",
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nprod-test\n-----END OPENSSH PRIVATE KEY-----\n",
  releaseSigningKey: privateKey,
};

// A file:// KDS holding a VCEK for every fixture chip (Genoa and Turin hosts share the fixtures).
const GENOA_CHIP = Buffer.from(Array.from({ length: 64 }, (_, i) => 100 + i)).toString("hex");
const TURIN_HWID = Buffer.from(Array.from({ length: 8 }, (_, i) => 200 + i)).toString("hex");
const kds = join(work, "kds");
for (const [product, id] of [
  ["Genoa", GENOA_CHIP],
  ["Turin", TURIN_HWID],
] as const) {
  mkdirSync(join(kds, "vcek/v1", product), { recursive: true });
  writeFileSync(
    join(kds, "vcek/v1", product, id),
    readFileSync(join(ROOT, "test/vectors/attestation/snp/certs/vcek-genoa-azure.der")),
  );
  writeFileSync(
    join(kds, "vcek/v1", product, "cert_chain"),
    readFileSync(join(ROOT, "test/vectors/attestation/snp/amd-roots/cert_chain-vcek-genoa.pem")),
  );
}

/** Runs a host command line locally against the fixture of the host's product. */
function runRemote(commandLine: string): string {
  const fixture =
    commandLine.includes("EXPECT_PRODUCT='Turin'") || commandLine.includes("PRODUCT='Turin'") ? "turin" : "genoa";
  const r = spawnSync("sh", ["-c", commandLine.replace(/^sudo -n /, "")], {
    encoding: "utf8",
    env: {
      PATH: `${FIX}/bin:/usr/bin:/bin`,
      PROC_ROOT: join(FIX, fixture, "proc"),
      SYSFS_ROOT: join(FIX, fixture, "sys"),
      SNPHOST_FIXTURE: join(FIX, fixture, "snphost"),
      FAKE_QEMU_VERSION: "9.2.0",
    },
  });
  if (r.status !== 0) throw new Error(`remote command failed: ${r.stderr}`);
  return r.stdout;
}

let program: Record<string, pulumi.Output<unknown>>;

beforeAll(async () => {
  const { raw, secretKeys } = readStackFile(join(ROOT, "stacks/Pulumi.prod.yaml"));
  for (const [key, v] of Object.entries(SECRETS)) raw[`${NS}:${key}`] = v;
  raw[`${NS}:golden`] = JSON.stringify({ ...JSON.parse(raw[`${NS}:golden`] ?? "{}"), publicKey });
  // The Genoa fixture reports snp=23; prod's floor is 25 (a host that is not patched fails the deploy: see inventory.test.ts).
  const attestation = JSON.parse(raw[`${NS}:attestation`] ?? "{}");
  attestation.tcbFloors.Genoa.snp = 23;
  raw[`${NS}:attestation`] = JSON.stringify(attestation);
  raw[`${NS}:hostSetup`] = JSON.stringify({
    ...JSON.parse(raw[`${NS}:hostSetup`] ?? "{}"),
    kdsBaseUrl: "https://kds.invalid",
    stateDir: join(work, "state"),
  });
  await setupMocks(
    (type, name, inputs) => {
      if (type === "command:remote:Command") {
        const create = String(inputs["create"]).replace(
          "KDS_BASE_URL='https://kds.invalid'",
          `KDS_BASE_URL='file://${kds}'`,
        );
        return { stdout: /-(preflight|qemu|vcek)$/.test(name) ? runRemote(create) : "{}" };
      }
      return tlsComputed(type, name, inputs);
    },
    raw,
    [...secretKeys],
    "prod",
  );
  program = (await import("../../stacks/main.js")) as unknown as Record<string, pulumi.Output<unknown>>;
  await value(program["platformInventory"] as pulumi.Output<unknown>);
  await drain(registrations);
});

describe("stacks/main.ts on the prod config", () => {
  it("creates every component: 6 hosts, 12 guests, golden, network, keys, inference", () => {
    const count = (type: string) => registrations.filter((r) => r.type === `${NS}:index:${type}`).length;
    expect([
      count("SevSnpHost"),
      count("ConfidentialVm"),
      count("GoldenMeasurements"),
      count("Segmentation"),
      count("KeyService"),
      count("InferenceService"),
    ]).toEqual([6, 12, 1, 1, 1, 1]);
  });

  it("signs the golden manifest with the release key and exports the verifier policy", async () => {
    const jws = await value(program["goldenManifest"] as pulumi.Output<string>);
    const manifest = await verifySignedManifest(jws, pair.publicKey);
    expect(manifest).toEqual(await value(program["goldenMeasurements"] as pulumi.Output<unknown>));
    const policy = await value(program["verifierPolicy"] as pulumi.Output<Record<string, unknown>>);
    expect(policy["measurements"]).toEqual(
      [...new Set(Object.values(manifest.launchShapes).map((s) => s.measurement))].sort(),
    );
    expect(policy["manifestSigningKey"]).toBe(publicKey);
  });

  it("expects each guest to report its shape's golden measurement", async () => {
    const manifest = await value(
      program["goldenMeasurements"] as pulumi.Output<{ launchShapes: Record<string, { measurement: string }> }>,
    );
    const expected = await value(program["expectedMeasurements"] as pulumi.Output<Record<string, string>>);
    expect(Object.keys(expected)).toHaveLength(12);
    expect(expected["snp-genoa-01-runtime-a"]).toBe(manifest.launchShapes["runtime-prod"]?.measurement);
    expect(expected["snp-turin-06-runtime-b"]).toBe(manifest.launchShapes["runtime-prod-turin"]?.measurement);
  });

  it("exports the host inventory by host and by chip", async () => {
    const byHost = await value(
      program["hostInventory"] as pulumi.Output<Record<string, { product: string; chipId: string }>>,
    );
    expect(Object.keys(byHost)).toEqual([
      "snp-genoa-01",
      "snp-genoa-02",
      "snp-genoa-03",
      "snp-genoa-04",
      "snp-turin-05",
      "snp-turin-06",
    ]);
    expect(byHost["snp-turin-05"]?.product).toBe("Turin");
    const byChip = await value(
      program["platformInventory"] as pulumi.Output<Record<string, { host: string; product: string }>>,
    );
    expect(byChip[GENOA_CHIP]).toMatchObject({
      product: "Genoa",
      reportedTcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
    });
  });

  it("exports no secret and no secret value", async () => {
    const dump: string[] = [];
    for (const [name, out] of Object.entries(program)) {
      if (pulumi.Output.isInstance(out)) expect(await pulumi.isSecret(out), name).toBe(false);
      dump.push(JSON.stringify(pulumi.Output.isInstance(out) ? await value(out) : out));
    }
    const all = dump.join("\n");
    for (const v of Object.values(SECRETS)) expect(all).not.toContain(v.split("\n")[1] ?? v);
    for (const k of [search, analytics]) expect(all).not.toContain(k.apiKey.slice(17));
    expect(all).not.toContain(SECRETS.hsmPin);
  });

  it("writes broker, runtime and gateway configs their own parsers accept", () => {
    const data = (name: string) =>
      (
        plainInputs(
          registrations.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name === name) as never,
        ) as { data: Record<string, string> }
      ).data;
    expect(parseKeyBrokerConfig(JSON.parse(data("keys-config")["broker.json"] ?? "")).manifests.files).toEqual([
      "/etc/confidential-inference/golden-manifest.jws",
    ]);
    expect(
      attestationPolicyFromVerifierPolicy(JSON.parse(data("keys-config")["verifier-policy.json"] ?? "")),
    ).toMatchObject({
      allowedRoots: ["amd-genoa", "amd-turin"],
      minGuestSvn: 1,
    });
    const runtime = parseRuntimeConfig(JSON.parse(data("inference-runtime-config")["runtime.json"] ?? ""));
    expect([runtime.models[0]?.name, runtime.attestation]).toEqual([
      "text-encoder",
      { manifestFile: "/etc/confidential-inference/golden-manifest.jws" },
    ]);
    // The runtime publishes the same signed manifest the broker verifies, in its attestation bundles.
    expect(data("inference-runtime-config")["golden-manifest.jws"]).toBe(data("keys-config")["golden-manifest.jws"]);
    expect(
      Object.keys(parseGatewayConfig(JSON.parse(data("inference-gateway-config")["gateway.json"] ?? "")).routes),
    ).toEqual(["text-encoder"]);
  });

  it("yields, in one pass, a gateway that accepts the configured clients' keys and refuses others", async () => {
    const inputs = (type: string, name: string) =>
      plainInputs(registrations.find((r) => r.type === type && r.name === name) as never);
    const cfg = parseGatewayConfig(
      JSON.parse(inputs("kubernetes:core/v1:ConfigMap", "inference-gateway-config").data["gateway.json"]),
    );
    // One pass: the gateway watches the bundle the broker publishes, verified with the pinned key.
    expect(cfg.upstreamTls.brokerCaBundle?.file).toBe("/etc/confidential-inference/broker-ca/bundle.jws");
    expect(inputs("kubernetes:core/v1:ConfigMap", "keys-ca-bundle").metadata).toMatchObject({
      name: "key-broker-ca",
      namespace: "ci-gateway",
    });
    const records = parseApiKeysFile(
      inputs("kubernetes:core/v1:Secret", "inference-gateway-api-keys").stringData["api-keys.json"],
    );
    const gw = buildGatewayApp({
      clients: cfg.clients,
      apiKeys: [...cfg.apiKeys, ...records],
      routes: cfg.routes,
      runtimes: {
        forward: async () => ({
          status: 200,
          contentType: "application/json",
          retryAfter: undefined,
          headerLength: undefined,
          body: Buffer.from("{}"),
        }),
      },
      logger: pino({ level: "silent" }),
    });
    const ask = async (key: string) =>
      (await gw.inject({ url: "/v2/models/text-encoder", headers: { "x-api-key": key } })).statusCode;
    expect([await ask(search.apiKey), await ask(analytics.apiKey), await ask(generateApiKey("x").apiKey)]).toEqual([
      200, 200, 401,
    ]);
    expect(cfg.clients.map((c) => [c.name, c.models ?? "all"])).toEqual([
      ["search", ["text-encoder"]],
      ["analytics", "all"],
    ]);
  });

  it("renders only schema-valid Kubernetes objects", () => {
    const objects = k8sRegistrations(registrations);
    expect(objects.length).toBeGreaterThan(30);
    for (const r of objects) validateK8s(r);
  });

  it("lets exactly the designed flows through between the deployed workloads", () => {
    const m = networkModel(registrations, "kube-system");
    const flows = allowedFlows(m.policies, m.namespaces, m.endpoints)
      .map(formatFlow)
      .filter((f) => !f.includes("dns/kube-dns") && !f.startsWith("external -> dns"));
    expect(flows).toEqual([
      "confidential/inference-runtime -> keys/key-broker 8444/TCP",
      "external -> gateway/inference-gateway 8080/TCP",
      "gateway/inference-gateway -> confidential/inference-runtime 8443/TCP",
      "observability/* -> confidential/inference-runtime 9464/TCP",
      "observability/* -> gateway/inference-gateway 9464/TCP",
      "observability/* -> keys/key-broker 9464/TCP",
    ]);
  });
});
