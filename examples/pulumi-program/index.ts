/**
 * A platform team's own Pulumi program built from this package's components, imported by package
 * name through its `exports` map (`npm install confidential-inference`, from a git URL or a packed
 * tarball; see docs/build.md). One SEV-SNP host with one guest, the golden measurements the key
 * broker enforces, network segmentation, the key broker and the inference service.
 *
 * `npm test` type-checks this file against the compiled package (dist/types, dist/lib), so a change
 * to a component's arguments that breaks consumers fails there. To use it, copy this folder, add
 * `confidential-inference` and `@pulumi/pulumi` to its package.json and set `main: index.js` (after
 * `tsc`) or let Pulumi run the TypeScript.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import {
  ConfidentialVm,
  GoldenMeasurements,
  InferenceService,
  KeyService,
  Segmentation,
  SevSnpHost,
  memoizeCalculator,
  RUNTIME_ARGS,
  RUNTIME_MOUNTS,
  runtimeInitData,
  type AttestationSettings,
  type PinnedArtifact,
} from "confidential-inference";
import { encodeGuestPolicy, snpLaunchDigest, type GoldenInputs } from "confidential-inference/measurements/manifest";

const config = new pulumi.Config();
const environment = "prod";
const release = "2026.12.0";

// The guest's firmware, pinned by content; the launch digest hashes its bytes page by page.
const ovmfPath = config.get("ovmfPath") ?? "guest/firmware/OVMF.amdsev.fd";
const ovmfBytes = readFileSync(ovmfPath);
const ovmf: PinnedArtifact = {
  name: "ovmf-amdsev",
  sha256: config.require("ovmfSha256"),
  size: ovmfBytes.length,
  source: "https://artifacts.example.internal/ovmf/2026.08/OVMF.amdsev.fd",
  localPath: ovmfPath,
};
const policy = encodeGuestPolicy({
  debug: false,
  migrateMa: false,
  smt: true,
  singleSocket: false,
  abiMajor: 1,
  abiMinor: 55,
});
const floor = { bootloader: 10, tee: 0, snp: 23, microcode: 84 };
const attestation: AttestationSettings = {
  allowedRoots: ["amd-genoa"],
  allowDebug: false,
  allowMigrationAgent: false,
  requireSmtDisabled: false,
  maxVmpl: 0,
  minGuestSvn: 0,
  collateral: "kds",
  failOpenOnCollateral: false,
};

// One calculator shared by the manifest and every guest: each launch shape is measured once.
const measure = memoizeCalculator(snpLaunchDigest);
const inputs: GoldenInputs = {
  release,
  environment,
  artifacts: { [ovmf.name]: { kind: "firmware", sha256: ovmf.sha256, size: ovmf.size, source: ovmf.source } },
  launchShapes: [{ name: "runtime-4cpu", firmware: ovmf.name, vcpus: 4, vcpuType: "EPYC-Genoa", policy }],
  tcbFloors: { Genoa: floor },
};
const golden = new GoldenMeasurements("golden", {
  release: inputs,
  images: new Map([[ovmf.name, ovmfBytes]]),
  measure,
  releasedAt: "2026-12-01T00:00:00Z",
  signing: { publicKey: config.require("releasePublicKey"), privateKey: config.requireSecret("releaseSigningKey") },
  attestation,
});

const host = new SevSnpHost("snp-genoa-01", {
  ssh: { host: "10.40.1.11", user: "ci-deploy", privateKey: config.requireSecret("sshPrivateKey") },
  product: "Genoa",
  qemu: { packageManager: "none", packages: ["qemu-system-x86"], minVersion: "9.1.0" },
  firmware: [ovmf],
  stateDir: "/var/lib/confidential-inference",
  kdsBaseUrl: "https://kdsintf.amd.com",
  tcbFloor: floor,
  refreshTriggers: [release],
});
const vm = new ConfidentialVm(
  "snp-genoa-01-runtime-a",
  {
    host: host.target,
    shape: {
      name: "runtime-4cpu",
      firmware: ovmf,
      vcpus: 4,
      vcpuType: "EPYC-Genoa",
      memoryMiB: 8192,
      guestFeatures: 1n,
      policy,
    },
    firmwareImage: ovmfBytes,
    measure,
    network: { bridge: "br0" },
  },
  { dependsOn: host.target.ready },
);

const ports = { inference: 8443, broker: 8444, gateway: 8080, metrics: 9464 };
const network = new Segmentation("network", {
  zones: { gateway: "ci-gateway", confidential: "ci-confidential", keys: "ci-keys", observability: "ci-observability" },
  ports,
  environment,
});
const keys = new KeyService("keys", {
  namespace: network.namespaces.keys,
  image: `registry.example.internal/keybroker@sha256:${"1".repeat(64)}`,
  replicas: 1,
  hsm: {
    kind: "pkcs11",
    module: "/opt/hsm/lib/libCryptoki2_64.so",
    tokenLabel: "ci-prod-broker",
    pin: config.requireSecret("hsmPin"),
    keyLabels: { kek: "ci-kek", signing: "ci-token-signing", ca: "ci-runtime-ca" },
  },
  attestation: {
    goldenManifest: golden.goldenManifest,
    manifestPublicKey: config.require("releasePublicKey"),
    verifierPolicy: golden.verifierPolicy.apply((p) => ({ ...p })),
  },
  ports: { broker: ports.broker, admin: 8445, metrics: ports.metrics },
  operatorCaCertificate: config.require("operatorCaCertificate"),
  runtimeDnsNames: ["inference-runtime.ci-confidential.svc.cluster.local"],
  lifetimes: { tokenSeconds: 300, sessionKeySeconds: 900, nonceSeconds: 60, rotationGraceSeconds: 300 },
  environment,
});
const runtimeImage = `registry.example.internal/runtime@sha256:${"2".repeat(64)}`;
/**
 * The confidential pods' Kata initdata: pins the runtime image, command and agent policy. Its
 * `hostData` belongs in the golden manifest's launch shape of the pods' Kata guest (`hostData`),
 * so the key broker releases the model key only to this workload.
 */
const initData = runtimeInitData({
  image: runtimeImage,
  brokerUrl: `https://key-broker.ci-keys.svc.cluster.local:${ports.broker}`,
  args: RUNTIME_ARGS,
  mounts: RUNTIME_MOUNTS,
});
const inference = new InferenceService("inference", {
  runtimeNamespace: network.namespaces.confidential,
  gatewayNamespace: network.namespaces.gateway,
  runtimeImage,
  gatewayImage: `registry.example.internal/gateway@sha256:${"3".repeat(64)}`,
  runtimeClassName: "kata-qemu-snp",
  initData,
  scaling: { min: 2, max: 8 },
  gatewayReplicas: 2,
  resources: { cpu: "4", memory: "8Gi" },
  ports: { inference: ports.inference, gateway: ports.gateway, metrics: ports.metrics },
  model: {
    name: "sentiment",
    artifact: {
      sha256: "4".repeat(64),
      size: 13_000_000,
      source: "https://models.example.internal/sentiment.onnx.enc",
    },
    tokenizer: { sha256: "5".repeat(64), size: 700_000, source: "https://models.example.internal/tokenizer.json" },
    signerPublicKey: config.require("modelSignerPublicKey"),
  },
  batching: { maxBatchSize: 16, maxBatchDelayMs: 5, maxQueue: 256, requestTimeoutMs: 10_000 },
  keyBroker: { url: keys.endpoint, listenerCertificate: keys.listenerCertificate },
  environment,
});

/** The launch digest the guest's attestation reports must carry (equals `attestctl measure snp ...`). */
export const expectedMeasurement = vm.expectedMeasurement;
/** The signed golden manifest the key broker enforces. */
export const goldenManifest = golden.goldenManifest;
/** What the host's preflight found. */
export const hostInventory = host.inventory;
/** The HOST_DATA the confidential pods carry (their initdata digest). */
export const podHostData = initData.hostData;
/** Where clients reach the gateway. */
export const gatewayEndpoint = inference.gatewayEndpoint;
