/**
 * The typed schema of the whole stack configuration: one zod schema per top-level config key
 * (`confidential-inference:<key>` in `stacks/Pulumi.<env>.yaml`). Descriptions feed the README's
 * config reference (`npx tsx scripts/config-reference.ts`).
 */
import { z } from "zod";
import { VCPU_TYPES, VMM_TYPES } from "../measurements/snp/index.js";
import { apiServerSchema, gatewaySchema, observabilitySchema } from "./config-gateway.js";
import { hsmSchema, keyBrokerSchema } from "./config-keys.js";
import { absolutePath, address, dnsLabel, hexInteger, imageByDigest, port, sha256Hex } from "./config-primitives.js";

/** SEV-SNP product lines the verifier has pinned AMD roots for. */
export const PRODUCTS = ["Milan", "Genoa", "Turin"] as const;
/** Named vCPU models understood by the launch-digest calculator (QEMU `-cpu` names); defined by `measurements/snp`. */
export { VCPU_TYPES };
/** Trust roots an attestation policy may accept. `simulated` is the sandbox's generated chain. */
export const ROOTS = ["amd-milan", "amd-genoa", "amd-turin", "simulated"] as const;

const PEM_PUBLIC_KEY = /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$/;

const ssh = z.strictObject({
  user: z.string().min(1).default("root").describe("SSH login user (needs root or passwordless sudo)"),
  port: port.default(22).describe("SSH port"),
  hostKey: z
    .string()
    .regex(/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+$/, {
      message: 'must be an OpenSSH public host key ("ssh-ed25519 AAAA...")',
    })
    .optional()
    .describe("pinned host key; absent means trust on first use (forbidden in prod)"),
  privateKeySecret: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]*$/)
    .default("sshPrivateKey")
    .describe("name of the secret config key holding the SSH private key"),
});

const guest = z.strictObject({
  name: dnsLabel.describe("guest name, unique on its host"),
  launchShape: z.string().min(1).describe("name of an entry in `launchShapes`"),
  macAddress: z
    .string()
    .regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, { message: "must be a lower-case MAC address (52:54:00:12:34:56)" })
    .optional()
    .describe("MAC address of the guest's virtio-net interface; absent means QEMU picks one"),
});

const host = z.strictObject({
  name: dnsLabel.describe("host name used for resource names"),
  address: address.describe("IP address or hostname reachable over SSH"),
  product: z.enum(PRODUCTS).describe("EPYC generation: Milan, Genoa or Turin"),
  ssh: ssh.prefault({}).describe("SSH connection"),
  bridge: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, { message: "must be a Linux interface name (at most 15 characters)" })
    .default("br0")
    .describe("Linux bridge the guests' virtio-net interfaces attach to"),
  guests: z.array(guest).default([]).describe("confidential VMs launched on this host"),
});

const hostSetup = z.strictObject({
  packageManager: z
    .enum(["none", "apt", "dnf"])
    .default("none")
    .describe("installs QEMU with this package manager when it is missing; `none` only checks"),
  qemuPackages: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/, { message: "must be a package name" }))
    .min(1)
    .default(["qemu-system-x86"])
    .describe("packages that provide `qemu-system-x86_64` with SEV-SNP support"),
  minQemuVersion: z
    .string()
    .regex(/^[0-9]+\.[0-9]+\.[0-9]+$/, { message: "must be a version like 9.1.0" })
    .default("9.1.0")
    .describe("oldest QEMU accepted (9.1.0 is the first upstream release with `sev-snp-guest`)"),
  stateDir: absolutePath
    .default("/var/lib/confidential-inference")
    .describe("directory on each host for staged artifacts, the VCEK cache and guest state"),
  kdsBaseUrl: z
    .string()
    .regex(/^https:\/\/[^\s'"]+[^/]$/, { message: "must be an https URL without a trailing slash" })
    .default("https://kdsintf.amd.com")
    .describe("AMD Key Distribution Service base URL (or a caching mirror)"),
});

const artifact = z.strictObject({
  kind: z.enum(["firmware", "kernel", "initrd", "svsm", "model", "tokenizer"]).describe("what the artifact is"),
  sha256: sha256Hex.describe("SHA-256 of the exact bytes (the pin)"),
  size: z.number().int().positive({ message: "must be a positive size in bytes" }).describe("size in bytes"),
  source: z.string().min(1).describe("where the bytes come from (URL, package and version, or build id)"),
  path: z
    .string()
    .min(1)
    .optional()
    .describe("local path (relative to the project) used to hash and measure it at `pulumi up`; required for firmware"),
});

const guestPolicy = z.strictObject({
  debug: z.boolean().default(false).describe("POLICY.DEBUG: allow the host to debug the guest"),
  migrateMa: z.boolean().default(false).describe("POLICY.MIGRATE_MA: allow a migration agent"),
  smt: z.boolean().default(true).describe("POLICY.SMT: allow SMT on the host"),
  singleSocket: z.boolean().default(false).describe("POLICY.SINGLE_SOCKET"),
  abiMajor: z.number().int().min(0).max(255).default(0).describe("minimum firmware ABI major"),
  abiMinor: z.number().int().min(0).max(255).default(0).describe("minimum firmware ABI minor"),
});

const launchShape = z.strictObject({
  name: dnsLabel.describe("launch shape name"),
  firmware: z.string().min(1).describe("artifact name of the OVMF image (kind firmware)"),
  kernel: z
    .string()
    .min(1)
    .optional()
    .describe("artifact name of the kernel (direct boot with kernel-hashes); absent means firmware boot"),
  initrd: z.string().min(1).optional().describe("artifact name of the initrd; needs `kernel`"),
  cmdline: z
    .string()
    .max(4095, { message: "kernel command line longer than 4095 bytes" })
    .optional()
    .describe("kernel command line; needs `kernel`"),
  vcpus: z
    .number()
    .int()
    .min(1, { message: "must be between 1 and 512 vCPUs" })
    .max(512, { message: "must be between 1 and 512 vCPUs" })
    .describe("number of vCPUs at launch"),
  vcpuType: z.enum(VCPU_TYPES).describe("QEMU vCPU model (sets the VMSA CPUID signature)"),
  memoryMiB: z.number().int().min(256, { message: "must be at least 256 MiB" }).describe("guest memory in MiB"),
  guestFeatures: hexInteger(64).default(1n).describe("SEV_FEATURES for the VMSA (default 0x1 = SNPActive)"),
  vmmType: z.enum(VMM_TYPES).default("QEMU").describe("VMM whose launch behaviour is modelled"),
  policy: guestPolicy.prefault({}).describe("guest policy bits given to SNP_LAUNCH_START"),
  hostData: z
    .string()
    .regex(/^[0-9a-f]{64}$/, { message: "must be 64 lower-case hex characters (a HOST_DATA value)" })
    .optional()
    .describe(
      "HOST_DATA every guest of this shape must carry (e.g. a Kata pod's initdata digest); the golden manifest records it and the verifier refuses other values",
    ),
});

const tcb = z.strictObject({
  bootloader: z.number().int().min(0).max(255).describe("minimum BOOT_LOADER SVN"),
  tee: z.number().int().min(0).max(255).describe("minimum TEE SVN"),
  snp: z.number().int().min(0).max(255).describe("minimum SNP firmware SVN"),
  microcode: z.number().int().min(0).max(255).describe("minimum microcode SVN"),
  fmc: z.number().int().min(0).max(255).optional().describe("minimum FMC SVN (Turin only)"),
});

const attestation = z.strictObject({
  allowedRoots: z
    .array(z.enum(ROOTS))
    .min(1, { message: "must list at least one root" })
    .describe("trust roots the verifier accepts"),
  tcbFloors: z.partialRecord(z.enum(PRODUCTS), tcb).default({}).describe("minimum reported TCB per product"),
  allowDebug: z.boolean().default(false).describe("accept guests launched with POLICY.DEBUG"),
  allowMigrationAgent: z.boolean().default(false).describe("accept guests with POLICY.MIGRATE_MA"),
  requireSmtDisabled: z.boolean().default(false).describe("reject guests whose policy allows SMT"),
  maxVmpl: z.number().int().min(0).max(3).default(0).describe("highest VMPL a report may come from"),
  minGuestSvn: z.number().int().min(0).default(0).describe("minimum GUEST_SVN"),
  chipAllowlist: z
    .array(z.string().regex(/^[0-9a-f]{128}$/, { message: "must be a 64-byte chip id in lower-case hex" }))
    .optional()
    .describe("accepted CHIP_IDs; absent means any chip with a valid VCEK"),
  collateral: z
    .enum(["kds", "offline"])
    .default("kds")
    .describe("VCEK/chain/CRL source: AMD KDS with a cache, or offline only"),
  failOpenOnCollateral: z.boolean().default(false).describe("accept when collateral is unavailable (never in prod)"),
});

const zone = z.strictObject({
  namespace: dnsLabel.describe("Kubernetes namespace of the zone"),
});

const network = z.strictObject({
  zones: z.strictObject({
    gateway: zone.describe("the gateway zone (outside the boundary)"),
    confidential: zone.describe("the confidential zone (inference runtime)"),
    keys: zone.describe("the key-broker zone"),
    observability: zone.describe("metrics and logs"),
  }),
  ports: z
    .strictObject({
      inference: port.default(8443).describe("runtime mTLS port"),
      broker: port.default(8444).describe("key broker KBS port"),
      brokerAdmin: port.default(8445).describe("key broker admin port (operator mTLS)"),
      gateway: port.default(8080).describe("gateway client port"),
      metrics: port.default(9464).describe("Prometheus metrics port"),
    })
    .prefault({}),
  dnsNamespace: dnsLabel.default("kube-system").describe("namespace of the cluster DNS"),
  apiServer: apiServerSchema
    .optional()
    .describe(
      "the Kubernetes API server, for the key broker's CA publication (its only API access): required unless keyBroker.caCertificate is set",
    ),
});

const inference = z.strictObject({
  runtimeImage: imageByDigest.describe("inference runtime image, pinned by digest"),
  gatewayImage: imageByDigest.describe("gateway image, pinned by digest"),
  replicas: z.number().int().min(1).max(100).default(1).describe("runtime replicas (HPA minimum)"),
  gatewayReplicas: z.number().int().min(1).max(100).default(2).describe("gateway replicas"),
  maxReplicas: z.number().int().min(1).max(1000).default(4).describe("HPA maximum"),
  runtimeClassName: z
    .string()
    .min(1)
    .optional()
    .describe("RuntimeClass for confidential pods (e.g. kata-qemu-snp); absent means plain pods"),
  launchShape: z
    .string()
    .min(1)
    .optional()
    .describe(
      "launch shape of the Kata guest the confidential pods run in (its firmware, kernel, initrd); required with runtimeClassName: its golden entry binds the pods' initdata digest as HOST_DATA",
    ),
  model: z.strictObject({
    name: dnsLabel.describe("model name in the inference API"),
    artifact: z.string().min(1).describe("artifact name of the encrypted model (kind model)"),
    tokenizer: z.string().min(1).describe("artifact name of tokenizer.json (kind tokenizer)"),
    signerPublicKey: z
      .string()
      .regex(PEM_PUBLIC_KEY, { message: "must be a PEM public key (SPKI)" })
      .describe("model registry's signing key (ES384), pinned"),
  }),
  plaintextApi: z
    .boolean()
    .default(false)
    .describe(
      "also serve the inference API in clear through the gateway (plain mTLS: the gateway, outside the boundary, sees prompts and answers); dev only. Clients otherwise use the OHTTP relay (attestctl proxy, the client library)",
    ),
  maxBatchSize: z.number().int().min(1).max(256).default(8).describe("dynamic batching: largest batch"),
  maxBatchDelayMs: z.number().int().min(0).max(1000).default(5).describe("dynamic batching: longest wait in ms"),
  maxQueue: z.number().int().min(1).default(256).describe("queued requests before 503"),
  requestTimeoutMs: z.number().int().min(10).default(10_000).describe("per-request timeout in ms"),
  resources: z
    .strictObject({
      cpu: z
        .string()
        .regex(/^[0-9]+m?$/, { message: 'must be a Kubernetes CPU quantity (e.g. "2" or "500m")' })
        .default("2")
        .describe("CPU limit"),
      memory: z
        .string()
        .regex(/^[0-9]+(Ki|Mi|Gi)$/, { message: 'must be a Kubernetes memory quantity (e.g. "4Gi")' })
        .default("4Gi")
        .describe("memory limit"),
    })
    .prefault({}),
});

const golden = z.strictObject({
  releasedAt: z
    .string()
    .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/, {
      message: "must be a UTC timestamp (2026-11-02T00:00:00Z)",
    })
    .describe("release time recorded in the golden manifest (UTC); fixed in config so renders are reproducible"),
  publicKey: z
    .string()
    .regex(PEM_PUBLIC_KEY, { message: "must be a PEM public key (SPKI)" })
    .describe("release signing key (ES384, P-384) the key broker verifies manifests with, pinned"),
  signingKeySecret: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]*$/)
    .default("releaseSigningKey")
    .describe(
      "name of the secret config key holding the matching private key (PKCS#8 PEM); prod should sign in the release HSM instead (README)",
    ),
});

/** Top-level config keys and their schemas. Unknown top-level keys are rejected. */
export const stackConfigShape = {
  environment: z.enum(["dev", "staging", "prod"]).describe("environment class: dev, staging or prod"),
  release: z
    .string()
    .regex(/^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/, { message: "must be a release id (letters, digits, '.', '_', '-')" })
    .describe("release id recorded in the golden manifest"),
  hosts: z.array(host).default([]).describe("bare-metal SEV-SNP hosts"),
  hostSetup: hostSetup.prefault({}).describe("how hosts are prepared (QEMU, state directory, AMD KDS)"),
  artifacts: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/), artifact).describe("pinned artifacts by name"),
  launchShapes: z
    .array(launchShape)
    .min(1, { message: "must define at least one launch shape" })
    .describe("confidential VM launch shapes"),
  attestation: attestation.describe("attestation policy"),
  hsm: hsmSchema.describe("HSM / PKCS#11 settings of the key broker"),
  network: network.describe("network zones and ports"),
  inference: inference.describe("inference runtime and gateway"),
  gateway: gatewaySchema.describe(
    "gateway clients (API keys, certificates, rate limits, models), client-facing TLS, exposure",
  ),
  observability: observabilitySchema.prefault({}).describe("monitoring resources (Prometheus Operator)"),
  keyBroker: keyBrokerSchema.describe("key broker service"),
  golden: golden.describe("golden manifest release metadata and signing"),
  kubernetes: z
    .strictObject({
      context: z.string().min(1).optional().describe("kubeconfig context; absent means the provider default"),
    })
    .prefault({})
    .describe("Kubernetes provider settings"),
} as const;

/** The complete config object schema (before cross-field rules). */
export const stackConfigSchema = z.strictObject(stackConfigShape);

/** The validated stack configuration (secrets are not part of it; see `StackSecrets`). */
export type StackConfig = z.output<typeof stackConfigSchema>;
/** One host of the fleet. */
export type HostConfig = StackConfig["hosts"][number];
/** One launch shape. */
export type LaunchShapeConfig = StackConfig["launchShapes"][number];
/** One pinned artifact. */
export type ArtifactConfig = StackConfig["artifacts"][string];
/** The attestation policy section. */
export type AttestationConfig = StackConfig["attestation"];
/** One confidential VM of a host. */
export type GuestConfig = HostConfig["guests"][number];
/** How hosts are prepared. */
export type HostSetupConfig = StackConfig["hostSetup"];
/** Golden manifest release metadata and signing. */
export type GoldenConfig = StackConfig["golden"];
/** The HSM section. */
export type HsmConfig = StackConfig["hsm"];
/** The network section. */
export type NetworkConfig = StackConfig["network"];
/** The inference section. */
export type InferenceConfig = StackConfig["inference"];
/** The key broker section. */
export type KeyBrokerConfig = StackConfig["keyBroker"];
/** The gateway section. */
export type GatewayConfig = StackConfig["gateway"];
