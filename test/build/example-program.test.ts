/**
 * Components as a library: examples/pulumi-program imports `confidential-inference` by package name
 * (resolved through package.json `exports` to the compiled dist/lib bundles; `npm test`'s typecheck
 * checks it against dist/types). Run under the SDK's mocks it registers every component with its
 * children, and the guest's expected measurement equals what `attestctl measure snp` prints for
 * the same launch shape.
 */
import { RUNTIME_ARGS, RUNTIME_MOUNTS, runtimeInitData } from "../../components/index.js";
import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RenderedState } from "../../stacks/render/render.js";
import { spawnCli } from "../helpers/cli.js";

const ROOT = join(__dirname, "../..");
const OVMF = "guest/firmware/OVMF.amdsev.fd";
let rendered: { state: RenderedState; loaded: string[] };

beforeAll(() => {
  const release = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const config = {
    "platform-example:ovmfSha256": createHash("sha256")
      .update(readFileSync(join(ROOT, OVMF)))
      .digest("hex"),
    "platform-example:releasePublicKey": release.publicKey.export({ type: "spki", format: "pem" }) as string,
    "platform-example:releaseSigningKey": release.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    "platform-example:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY----- (stand-in)",
    "platform-example:hsmPin": "1234",
    "platform-example:operatorCaCertificate": "-----BEGIN CERTIFICATE----- (stand-in)",
    "platform-example:modelSignerPublicKey": "-----BEGIN PUBLIC KEY----- (stand-in)",
  };
  // A test fixture may use tsx (the example is TypeScript); the package it imports is the compiled one.
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(__dirname, "fixtures/example-child.ts"), JSON.stringify(config)],
    { cwd: ROOT, encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`example program failed: ${r.stderr}`);
  rendered = JSON.parse(r.stdout) as typeof rendered;
}, 180_000);

describe("examples/pulumi-program (confidential-inference as an installed package)", () => {
  it("loads the compiled library bundles through the exports map", () => {
    expect(rendered.loaded.map((p) => p.slice(p.indexOf("/dist/") + 1)).sort()).toEqual([
      "dist/lib/components.js",
      "dist/lib/measurements-manifest.js",
    ]);
  });

  it("registers the six components, each with children under it", () => {
    const components = rendered.state.resources.filter((r) => r.type.startsWith("confidential-inference:index:"));
    expect(components.map((r) => `${r.type}::${r.name}`)).toEqual([
      "confidential-inference:index:ConfidentialVm::snp-genoa-01-runtime-a",
      "confidential-inference:index:GoldenMeasurements::golden",
      "confidential-inference:index:InferenceService::inference",
      "confidential-inference:index:KeyService::keys",
      "confidential-inference:index:Segmentation::network",
      "confidential-inference:index:SevSnpHost::snp-genoa-01",
    ]);
    const parents = new Set(rendered.state.resources.map((r) => r.parent));
    for (const c of components.filter((r) => r.name !== "golden"))
      expect({ component: c.name, hasChildren: parents.has(`${c.type}::${c.name}`) }).toEqual({
        component: c.name,
        hasChildren: true,
      });
    expect(rendered.state.resourceCount).toBe(59);
  });

  it("computes the guest's launch digest exactly as `attestctl measure snp` does", () => {
    const cli = spawnCli([
      "measure",
      "snp",
      "--mode",
      "snp",
      "--vcpus",
      "4",
      "--vcpu-type",
      "EPYC-Genoa",
      "--ovmf",
      OVMF,
    ]);
    expect(cli.code).toBe(0);
    expect(rendered.state.outputs).toEqual({
      expectedMeasurement: cli.stdout.trim(),
      gatewayEndpoint: "inference-gateway.ci-gateway.svc.cluster.local:8080",
      goldenManifest: "[unknown]",
      hostInventory: "[unknown]",
      // the confidential pods' initdata digest, as the stack program computes it for the same image and broker
      podHostData: runtimeInitData({
        image: `registry.example.internal/runtime@sha256:${"2".repeat(64)}`,
        brokerUrl: "https://key-broker.ci-keys.svc.cluster.local:8444",
        args: RUNTIME_ARGS,
        mounts: RUNTIME_MOUNTS,
      }).hostData,
    });
  });
});
