/**
 * The configuration files of the three services, built from the sandbox layout, the chosen ports
 * and what the first run provisioned. Pure: returns plain objects; the caller writes them. Every
 * path is absolute, so the files work from any working directory.
 */
import type { SnpProduct } from "../attestation/index.js";
import type { TcbComponents } from "../../measurements/drift/index.js";
import { SENTIMENT_LABELS } from "../simulators/index.js";
import type { SandboxLayout } from "./layout.js";

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
}

/** How `sandbox tamper` falsifies the runtime's evidence. */
export type TamperMode = "measurement" | "debug" | "tcb";

/** Every tamper mode, in help order. */
export const TAMPER_MODES: readonly TamperMode[] = ["measurement", "debug", "tcb"];

/** One TCB below `tcb`: the SNP firmware SVN (else the microcode, else the bootloader) lowered by one. */
export function tcbBelow(tcb: TcbComponents): TcbComponents {
  if (tcb.snp > 0) return { ...tcb, snp: tcb.snp - 1 };
  if (tcb.microcode > 0) return { ...tcb, microcode: tcb.microcode - 1 };
  return { ...tcb, bootloader: Math.max(0, tcb.bootloader - 1) };
}

/** The runtime's `keyBroker.evidence` section: the golden claims, or a tampered variant. */
export function runtimeEvidence(p: Provisioned, layout: SandboxLayout, tamper?: TamperMode): Record<string, unknown> {
  const base = { kind: "simulated-snp", dir: layout.snp, measurement: p.measurement, reportedTcb: p.tcb };
  if (tamper === "measurement") return { ...base, measurement: p.tamperedMeasurement };
  if (tamper === "debug") return { ...base, debug: true };
  if (tamper === "tcb") return { ...base, reportedTcb: tcbBelow(p.tcb) };
  return base;
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

/** `runtime.json`: the sealed model, the gateway CA, and the KBS client with (possibly tampered) simulated evidence. */
export function runtimeConfig(
  layout: SandboxLayout,
  ports: SandboxPorts,
  p: Provisioned,
  tamper?: TamperMode,
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
    ],
    signerPublicKeyFile: layout.models.signerPublicKey,
    gatewayCaFile: layout.pki.gatewayCa,
    keyBroker: {
      url: `https://127.0.0.1:${ports.kbs}`,
      caFile: layout.keybroker.ca,
      evidence: runtimeEvidence(p, layout, tamper),
    },
  };
}

/** `gateway.json`: HTTPS for clients (sandbox CA, client certificates), mTLS upstream trusting only the broker CA. */
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
    routes: { [p.model.name]: [{ url: `https://127.0.0.1:${ports.runtime}` }] },
    clients: [
      { name: "sandbox-user", rateLimit: { perSecond: 100, burst: 200 }, certificateSha256: [p.clientCertSha256] },
    ],
  };
}
