/**
 * Where the sandbox keeps its state (default `<project>/.sandbox/`, git-ignored). Pure: path joins only.
 *
 * ```
 * .sandbox/
 *   provisioned.json   what the first run created (measurements, pins, fingerprints; nothing secret)
 *   snp/               the simulated SEV-SNP platform (ARK/ASK/VCEK chain, chip id)
 *   guest/             guest artifacts measured into the launch digest (dummy kernel and initrd)
 *   models/            the sealed model (container + detached signature), tokenizer, registry public key
 *   release/           release signing key (dev only), golden manifest (JSON) and its signed JWS
 *   pki/               sandbox CA (gateway TLS, client certificates), gateway CA, operator CA and their certificates
 *   keybroker/         PIN file, SoftHSM2 config and token folder, broker state (state.json, audit.log, ca.pem)
 *   config/            keybroker.json, runtime.json, gateway.json (rewritten at every start)
 *   logs/              keybroker.log, runtime.log, gateway.log
 *   run/               state.json of the running sandbox, tamper requests and answers
 * ```
 */
import { join, resolve } from "node:path";

/** Every path of a sandbox directory. */
export interface SandboxLayout {
  readonly root: string;
  readonly provisioned: string;
  readonly snp: string;
  readonly guest: { readonly dir: string; readonly kernel: string; readonly initrd: string };
  readonly models: {
    readonly dir: string;
    readonly container: string;
    readonly signature: string;
    readonly tokenizer: string;
    readonly signerPublicKey: string;
  };
  readonly release: {
    readonly dir: string;
    readonly signingKey: string;
    readonly publicKey: string;
    readonly manifest: string;
    readonly jws: string;
  };
  readonly pki: {
    readonly dir: string;
    readonly sandboxCa: string;
    readonly gatewayCa: string;
    readonly operatorCa: string;
    readonly client: CertFiles;
    readonly gatewayServer: CertFiles;
    readonly gatewayUpstream: CertFiles;
    readonly operator: CertFiles;
  };
  readonly keybroker: {
    readonly dir: string;
    readonly pin: string;
    readonly tokens: string;
    readonly state: string;
    readonly ca: string;
    readonly audit: string;
  };
  readonly config: {
    readonly dir: string;
    readonly keybroker: string;
    readonly runtime: string;
    readonly gateway: string;
  };
  readonly logs: {
    readonly dir: string;
    readonly keybroker: string;
    readonly runtime: string;
    readonly gateway: string;
  };
  readonly run: { readonly dir: string; readonly state: string };
}

/** A certificate and its private key (PEM files). */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** The layout of a sandbox rooted at `root` (resolved to an absolute path). */
export function sandboxLayout(root: string): SandboxLayout {
  const r = resolve(root);
  const p = (...parts: string[]) => join(r, ...parts);
  const pair = (name: string): CertFiles => ({ cert: p("pki", `${name}.pem`), key: p("pki", `${name}.key`) });
  return {
    root: r,
    provisioned: p("provisioned.json"),
    snp: p("snp"),
    guest: { dir: p("guest"), kernel: p("guest", "vmlinuz-dev"), initrd: p("guest", "initrd-dev.img") },
    models: {
      dir: p("models"),
      container: p("models", "sentiment.onnx.enc"),
      signature: p("models", "sentiment.onnx.enc.jws"),
      tokenizer: p("models", "tokenizer.json"),
      signerPublicKey: p("models", "registry.pub.pem"),
    },
    release: {
      dir: p("release"),
      signingKey: p("release", "signing-key.pem"),
      publicKey: p("release", "signing-key.pub.pem"),
      manifest: p("release", "golden.json"),
      jws: p("release", "golden.jws"),
    },
    pki: {
      dir: p("pki"),
      sandboxCa: p("pki", "sandbox-ca.pem"),
      gatewayCa: p("pki", "gateway-ca.pem"),
      operatorCa: p("pki", "operator-ca.pem"),
      client: pair("client"),
      gatewayServer: pair("gateway-server"),
      gatewayUpstream: pair("gateway-upstream"),
      operator: pair("operator"),
    },
    keybroker: {
      dir: p("keybroker"),
      pin: p("keybroker", "pin"),
      tokens: p("keybroker", "tokens"),
      state: p("keybroker", "state"),
      ca: p("keybroker", "state", "ca.pem"),
      audit: p("keybroker", "state", "audit.log"),
    },
    config: {
      dir: p("config"),
      keybroker: p("config", "keybroker.json"),
      runtime: p("config", "runtime.json"),
      gateway: p("config", "gateway.json"),
    },
    logs: {
      dir: p("logs"),
      keybroker: p("logs", "keybroker.log"),
      runtime: p("logs", "runtime.log"),
      gateway: p("logs", "gateway.log"),
    },
    run: { dir: p("run"), state: p("run", "state.json") },
  };
}

/** The project root (the folder holding package.json and stacks/). */
export const PROJECT_ROOT = resolve(__dirname, "..", "..");

/** The default sandbox directory: `<project>/.sandbox`. */
export const DEFAULT_SANDBOX_DIR = join(PROJECT_ROOT, ".sandbox");

/** Mode of the sandbox's non-secret files (certificates, configs, run state); keys and the PIN get 0600. */
export const PUBLIC_FILE_MODE = 0o644;

/** The sealed container and signature of a model of the OpenAI API (`models/<name>.enc`, `.enc.jws`). */
export function modelFiles(layout: SandboxLayout, name: string): { container: string; signature: string } {
  return { container: join(layout.models.dir, `${name}.enc`), signature: join(layout.models.dir, `${name}.enc.jws`) };
}
