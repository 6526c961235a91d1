/**
 * The configuration files of the three services, built from the sandbox layout, the chosen ports
 * and what the first run provisioned. Pure: returns plain objects; the caller writes them. Every
 * path is absolute, so the files work from any working directory.
 */
import type { SnpProduct } from "../attestation/index.js";
import type { TcbComponents } from "../../measurements/drift/index.js";
import { SENTIMENT_LABELS } from "../simulators/index.js";
import { join } from "node:path";
import { modelFiles, type SandboxLayout } from "./layout.js";

/** Ports on 127.0.0.1, one per listener. */
export interface SandboxPorts {
  /** Gateway, client-facing HTTPS (the URL users call). */
  readonly gateway: number;
  /** Gateway metrics and probes (plain HTTP). */
  readonly gatewayOps: number;
  /** Inference runtime, OIP over mTLS (gateway client certificates only). */
  readonly runtime: number;
  /** Inference runtime metrics and probes (plain HTTP). */
  readonly runtimeOps: number;
  /** Key broker, KBS protocol (HTTPS). */
  readonly kbs: number;
  /** Key broker admin API (mTLS, operator certificate). */
  readonly admin: number;
}

/** Ports the sandbox tries first (each falls back to a free port when taken). */
export const DEFAULT_PORTS: SandboxPorts = {
  gateway: 8080,
  gatewayOps: 9465,
  runtime: 8443,
  runtimeOps: 9464,
  kbs: 8444,
  admin: 8445,
};

/** The served model: the bundled sentiment classifier. */
export const SANDBOX_MODEL = { name: "sentiment", keyId: "default/model/sentiment" } as const;

/** The models of the OpenAI-compatible API: the bundled chat model (a sealed directory) and the encoder (embeddings). */
export const SANDBOX_OPENAI_MODELS = [
  { name: "chat", kind: "decoder", keyId: "default/model/chat" },
  { name: "encoder", kind: "tensor", keyId: "default/model/encoder" },
] as const;

/** One provisioned model of the OpenAI-compatible API. */
export interface ProvisionedModel {
  readonly name: string;
  readonly kind: "decoder" | "tensor";
  readonly keyId: string;
  readonly containerSha256: string;
  readonly modelSha256: string;
}

/** The SoftHSM2 token label of the sandbox's key broker. */
export const SANDBOX_TOKEN_LABEL = "ci-sandbox";

/** What the first run created (`provisioned.json`): public facts only, nothing secret. */
export interface Provisioned {
  readonly version: 1;
  readonly createdAt: string;
  readonly release: string;
  /** The dev stack's launch shape the runtime claims to be. */
  readonly launchShape: string;
  /** Its golden measurement (96 hex). */
  readonly measurement: string;
  /** The measurement of the same launch shape with a tampered kernel command line (`sandbox tamper --measurement`). */
  readonly tamperedMeasurement: string;
  /** The command line that tampered measurement was computed for. */
  readonly tamperedCmdline: string;
  /** Product line of the simulated SNP platform, and the TCB its reports carry (also the broker's floor). */
  readonly product: SnpProduct;
  readonly tcb: TcbComponents;
  readonly model: {
    readonly name: string;
    readonly keyId: string;
    readonly containerSha256: string;
    readonly modelSha256: string;
  };
  /** SHA-256 of the user's client certificate (what the gateway knows the client by). */
  readonly clientCertSha256: string;
  /** The OpenAI API's models; absent in sandboxes created before they existed (remove the folder to get them). */
  readonly openai?: readonly ProvisionedModel[];
}

/**
 * How `sandbox tamper` falsifies the runtime's evidence: the first three change what the guest
 * claims (the broker sees them too); the last three only change its attestation bundle (a key not
 * bound in REPORT_DATA, a validity window that has passed, a chain to another platform's root).
 */
export type TamperMode = "measurement" | "debug" | "tcb" | "unbound-key" | "expired" | "foreign-root";

/** Every tamper mode, in help order. */
export const TAMPER_MODES: readonly TamperMode[] = [
  "measurement",
  "debug",
  "tcb",
  "unbound-key",
  "expired",
  "foreign-root",
];

/** The modes the key broker can see (they change the evidence of the KBS handshake too). */
export const EVIDENCE_TAMPER_MODES: readonly TamperMode[] = ["measurement", "debug", "tcb"];

/**
 * Where tampered evidence is shown: `broker` (the KBS handshake and the bundle: the broker refuses
 * the keys) or `bundle` (the bundle only, as if the broker had been bypassed: the client refuses).
 */
export type TamperScope = "broker" | "bundle";

/** The check of the confidential client that refuses each tampered bundle. */
export const CLIENT_REFUSAL: Readonly<Record<TamperMode, string>> = {
  measurement: "MEASUREMENT_UNKNOWN",
  debug: "DEBUG_POLICY",
  tcb: "TCB_BELOW_FLOOR",
  "unbound-key": "KEY_NOT_BOUND",
  expired: "BUNDLE_EXPIRED",
  "foreign-root": "ROOT_UNTRUSTED",
};

/** Directory of a second simulated platform, with its own root (`tamper --foreign-root`). */
export function foreignSnpDir(layout: SandboxLayout): string {
  return join(layout.root, "snp-foreign");
}

/** One TCB below `tcb`: the SNP firmware SVN (else the microcode, else the bootloader) lowered by one. */
export function tcbBelow(tcb: TcbComponents): TcbComponents {
  if (tcb.snp > 0) return { ...tcb, snp: tcb.snp - 1 };
  if (tcb.microcode > 0) return { ...tcb, microcode: tcb.microcode - 1 };
  return { ...tcb, bootloader: Math.max(0, tcb.bootloader - 1) };
}

/** Simulated evidence options: the golden claims, or a tampered variant. */
export function runtimeEvidence(p: Provisioned, layout: SandboxLayout, tamper?: TamperMode): Record<string, unknown> {
  const base = { kind: "simulated-snp", dir: layout.snp, measurement: p.measurement, reportedTcb: p.tcb };
  if (tamper === "measurement") return { ...base, measurement: p.tamperedMeasurement };
  if (tamper === "debug") return { ...base, debug: true };
  if (tamper === "tcb") return { ...base, reportedTcb: tcbBelow(p.tcb) };
  if (tamper === "foreign-root") return { ...base, dir: foreignSnpDir(layout) };
  return base;
}

/** The runtime's `attestation` section: the signed manifest in every bundle, and the bundle-only tampering. */
export function runtimeAttestation(
  layout: SandboxLayout,
  p: Provisioned,
  tamper?: TamperMode,
  scope: TamperScope = "broker",
): Record<string, unknown> {
  const base = { manifestFile: layout.release.jws, launch: { release: p.release, launchShape: p.launchShape } };
  if (tamper === undefined || scope === "broker") return base;
  if (tamper === "unbound-key") return { ...base, simulate: { unboundKeyConfig: true, expired: false } };
  if (tamper === "expired") return { ...base, simulate: { unboundKeyConfig: false, expired: true } };
  return { ...base, evidence: runtimeEvidence(p, layout, tamper) };
}

/** `keybroker.json`: SoftHSM2 token under the sandbox, simulated SNP root only, the golden TCB as floor. */
export function keyBrokerConfig(
  layout: SandboxLayout,
  ports: SandboxPorts,
  p: Provisioned,
  modulePath: string,
): Record<string, unknown> {
  return {
    stateDir: layout.keybroker.state,
    issuer: `https://127.0.0.1:${ports.kbs}`,
    hsm: {
      modulePath,
      tokenLabel: SANDBOX_TOKEN_LABEL,
      pinFile: layout.keybroker.pin,
      softhsm: { tokenDir: layout.keybroker.tokens },
    },
    listen: { host: "127.0.0.1", port: ports.kbs, adminHost: "127.0.0.1", adminPort: ports.admin },
    tls: { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] },
    admin: { operatorCaFile: layout.pki.operatorCa },
    manifests: { signerPublicKeyFile: layout.release.publicKey },
    policy: {
      resourceRules: [{ resource: "runtime/*/*" }, { resource: "default/model/*", launchShapes: [p.launchShape] }],
    },
    attestation: {
      policy: { allowedRoots: ["simulated"], tcbFloors: { [p.product]: p.tcb } },
      simulatedSnpDir: layout.snp,
      kds: false,
    },
    runtimeCertificate: { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] },
  };
}

/**
 * `runtime.json`: the sealed model, the gateway CA, the KBS client with simulated evidence and the
 * attestation bundles; `tamper` falsifies the evidence the broker and the bundle show (`broker`
 * scope), or the bundle's only (`bundle` scope).
 */
export function runtimeConfig(
  layout: SandboxLayout,
  ports: SandboxPorts,
  p: Provisioned,
  tamper?: TamperMode,
  scope: TamperScope = "broker",
): Record<string, unknown> {
  return {
    listen: { host: "127.0.0.1", port: ports.runtime },
    ops: { host: "127.0.0.1", port: ports.runtimeOps },
    logLevel: "info",
    models: [
      {
        name: p.model.name,
        container: layout.models.container,
        signature: layout.models.signature,
        tokenizer: layout.models.tokenizer,
        containerSha256: p.model.containerSha256,
        text: {},
        labels: { from: "logits", names: [...SENTIMENT_LABELS] },
      },
      ...(p.openai ?? []).map((m) => {
        const files = modelFiles(layout, m.name);
        const sealed = { name: m.name, container: files.container, signature: files.signature };
        return m.kind === "decoder"
          ? { ...sealed, kind: "decoder", containerSha256: m.containerSha256 }
          : {
              ...sealed,
              tokenizer: layout.models.tokenizer,
              containerSha256: m.containerSha256,
              text: {},
              embeddings: { output: "embedding" },
            };
      }),
    ],
    generation: { maxBatch: 8, maxQueued: 64, prefillChunk: 256 },
    signerPublicKeyFile: layout.models.signerPublicKey,
    gatewayCaFile: layout.pki.gatewayCa,
    keyBroker: {
      url: `https://127.0.0.1:${ports.kbs}`,
      caFile: layout.keybroker.ca,
      evidence: runtimeEvidence(p, layout, scope === "broker" ? tamper : undefined),
    },
    attestation: runtimeAttestation(layout, p, tamper, scope),
  };
}

/**
 * `gateway.json`: HTTPS for clients (sandbox CA, client certificates), mTLS upstream trusting only
 * the broker CA; the OHTTP relay, and the plaintext API too (dev, like `stacks/Pulumi.dev.yaml`).
 */
export function gatewayConfig(layout: SandboxLayout, ports: SandboxPorts, p: Provisioned): Record<string, unknown> {
  return {
    listen: { host: "127.0.0.1", port: ports.gateway },
    ops: { host: "127.0.0.1", port: ports.gatewayOps },
    logLevel: "info",
    tls: {
      certFile: layout.pki.gatewayServer.cert,
      keyFile: layout.pki.gatewayServer.key,
      clientCaFile: layout.pki.sandboxCa,
    },
    upstreamTls: {
      brokerCaFile: layout.keybroker.ca,
      certFile: layout.pki.gatewayUpstream.cert,
      keyFile: layout.pki.gatewayUpstream.key,
    },
    routes: Object.fromEntries(
      [p.model.name, ...(p.openai ?? []).map((m) => m.name)].map((n) => [
        n,
        [{ url: `https://127.0.0.1:${ports.runtime}` }],
      ]),
    ),
    clients: [
      { name: "sandbox-user", rateLimit: { perSecond: 100, burst: 200 }, certificateSha256: [p.clientCertSha256] },
    ],
    plaintextApi: true,
  };
}
