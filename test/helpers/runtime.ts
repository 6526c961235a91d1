/**
 * Test fixtures for the whole runtime: sealed bundled models, a fake key broker (the `KeyRelease` seam) that
 * releases keys and a broker-issued certificate, and an HTTPS JSON client for loopback mTLS.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { request as httpsRequest, type Agent } from "node:https";
import { createServer } from "node:net";
import type { TLSSocket } from "node:tls";
import type { KeyRelease, ModelArtifacts, ReleasedCredentials } from "../../runtime/inference/boot.js";
import { sealAndSignModel, sealAndSignModelDirectory } from "../../runtime/inference/model/seal.js";
import { BUNDLED_CONFIGS, bundled, bundledTokenizerJson } from "./inference.js";
import { createTestCa, type CertKey, type TestCa } from "./pki.js";

/** The PKI of a deployment: broker CA (runtime certs), gateway CA (gateway client certs) and a rogue CA. */
export interface TestPki {
  readonly broker: TestCa;
  readonly gateway: TestCa;
  readonly rogue: TestCa;
  readonly runtimeCert: CertKey;
  readonly gatewayClient: CertKey;
}

/** Creates the test PKI (openssl, in memory). */
export function createTestPki(): TestPki {
  const broker = createTestCa("test broker CA");
  const gateway = createTestCa("test gateway CA");
  const rogue = createTestCa("rogue CA");
  return { broker, gateway, rogue, runtimeCert: broker.issue("runtime"), gatewayClient: gateway.issue("gateway") };
}

/** Sealed bundled models with their keys and the registry key pair. */
export interface SealedBundle {
  readonly artifacts: ModelArtifacts[];
  readonly keys: Map<string, Uint8Array>;
  readonly signerKey: KeyObject;
  readonly signerPrivateKey: KeyObject;
}

/** Seals the named bundled models with fresh data keys and a fresh registry key. */
export async function sealBundled(names: Array<"sentiment" | "encoder">): Promise<SealedBundle> {
  const registry = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const keys = new Map<string, Uint8Array>();
  const artifacts: ModelArtifacts[] = [];
  for (const name of names) {
    const keyId = `default/model/${name}`;
    const dataKey = randomBytes(32);
    keys.set(keyId, dataKey);
    const sealed = await sealAndSignModel({
      plaintext: bundled(`${name}.onnx`).bytes,
      modelName: name,
      keyId,
      dataKey,
      signerKey: registry.privateKey,
    });
    artifacts.push({
      config: BUNDLED_CONFIGS[name],
      container: sealed.container,
      signature: sealed.signature,
      tokenizerJson: bundledTokenizerJson(),
      containerSha256: sealed.containerSha256,
    });
  }
  return { artifacts, keys, signerKey: registry.publicKey, signerPrivateKey: registry.privateKey };
}

/** A fake broker: releases `keys` and the runtime certificate, optionally after `gate` resolves. */
export function fakeKeyRelease(
  pki: TestPki,
  keys: Map<string, Uint8Array>,
  opts: { gate?: Promise<void>; refuse?: boolean; cert?: CertKey } = {},
): KeyRelease & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async release({ keyIds }): Promise<ReleasedCredentials> {
      calls.push([...keyIds]);
      await opts.gate;
      if (opts.refuse) throw new Error("attestation rejected: unknown-measurement");
      const cert = opts.cert ?? pki.runtimeCert;
      return {
        modelKeys: new Map(keyIds.filter((k) => keys.has(k)).map((k) => [k, keys.get(k)!])),
        serverCertificate: cert.cert,
        serverKey: cert.key,
        brokerCa: pki.broker.cert,
      };
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Result of `httpsJson`. */
export interface HttpsResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: any;
  /** Serial number of the server certificate seen on this connection. */
  readonly serverSerial: string;
}

/** Sends one HTTPS request with client TLS options; resolves with the parsed JSON reply or rejects with the TLS error. */
export function httpsJson(opts: {
  port: number;
  path: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  ca: string;
  cert?: string;
  key?: string;
  agent?: Agent;
  maxVersion?: "TLSv1.2" | "TLSv1.3";
}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const payload =
      opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: opts.port,
        path: opts.path,
        method: opts.method ?? (payload ? "POST" : "GET"),
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        servername: "localhost",
        agent: opts.agent ?? false,
        ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
        headers: {
          ...(payload
            ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) }
            : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const serverSerial = (res.socket as TLSSocket).getPeerCertificate().serialNumber ?? "";
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? JSON.parse(text) : undefined,
            serverSerial,
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The bundled chat model sealed as a model directory (kind `decoder`) with a fresh data key. */
export async function sealChatModel(
  signerPrivateKey: KeyObject,
  files: ReadonlyMap<string, Uint8Array>,
): Promise<{ artifact: ModelArtifacts; keyId: string; dataKey: Uint8Array }> {
  const keyId = "default/model/chat";
  const dataKey = randomBytes(32);
  const sealed = await sealAndSignModelDirectory({
    files,
    modelName: "chat",
    keyId,
    dataKey,
    signerKey: signerPrivateKey,
  });
  return {
    artifact: {
      config: { name: "chat" },
      kind: "decoder",
      container: sealed.container,
      signature: sealed.signature,
      containerSha256: sealed.containerSha256,
    },
    keyId,
    dataKey,
  };
}
