/**
 * A runtime (real boot, mTLS, optionally its confidential endpoint with simulated SNP evidence) behind a gateway
 * (plain HTTP for clients, API keys, the mTLS runtime client and the OHTTP relay), on loopback: the setup the
 * gateway's end-to-end tests share.
 */
import type { AddressInfo } from "node:net";
import type { KeyObject } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { ClientTrust } from "../../runtime/client/index.js";
import type { ApiKeyRecord } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp, type GatewayClient } from "../../runtime/gateway/app.js";
import { streamingRuntimeClient } from "../../runtime/gateway/relay-client.js";
import { RuntimeClient } from "../../runtime/gateway/upstream.js";
import type { ModelArtifacts } from "../../runtime/inference/boot.js";
import { startRuntime, type RunningRuntime } from "../../runtime/inference/runtime.js";
import { simulatedProvider } from "../../runtime/simulators/index.js";
import { releaseKeyPair, signedDevManifest, trustFor } from "./confidential.js";
import { A02_MEASUREMENT } from "./golden.js";
import { captureLogger, TEST_BATCHING } from "./inference.js";
import { createTestPki, fakeKeyRelease } from "./runtime.js";
import { sharedSimulatedSnp } from "./simulated-snp.js";

/** A running stack. */
export interface GatewayStack {
  readonly rt: RunningRuntime;
  readonly gw: FastifyInstance;
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly url: string;
  /** The client trust for the runtime's bundles (when `confidential`). */
  readonly trust: ClientTrust | undefined;
  close(): Promise<void>;
}

/** Starts a runtime serving `artifacts` and a gateway routing `models` to it. */
export async function startGatewayStack(o: {
  readonly artifacts: ModelArtifacts[];
  readonly keys: ReadonlyMap<string, Uint8Array>;
  readonly signerKey: KeyObject;
  readonly models: readonly string[];
  readonly clients: readonly GatewayClient[];
  readonly apiKeys: readonly ApiKeyRecord[];
  readonly plaintextApi: boolean;
  readonly confidential?: boolean;
  readonly runtimeLogger?: Logger;
  readonly gatewayLogger?: Logger;
}): Promise<GatewayStack> {
  const pki = createTestPki();
  let trust: ClientTrust | undefined;
  let attestation;
  if (o.confidential) {
    const sim = await sharedSimulatedSnp("Genoa");
    const release = releaseKeyPair();
    trust = trustFor(sim, release.publicKey);
    attestation = {
      evidence: simulatedProvider(sim, { measurement: A02_MEASUREMENT }),
      lifetimeMs: 3_600_000,
      manifest: await signedDevManifest(release.privateKey),
      noncesPerMinute: 60,
      maxReplayEntries: 10_000,
    };
  }
  const rt = await startRuntime({
    artifacts: o.artifacts,
    keyRelease: fakeKeyRelease(pki, new Map(o.keys)),
    signerKey: o.signerKey,
    batching: TEST_BATCHING,
    ort: { intraOpThreads: 1 },
    logger: o.runtimeLogger ?? captureLogger("inference").logger,
    gatewayCa: pki.gateway.cert,
    listen: { host: "127.0.0.1", port: 0 },
    ops: { host: "127.0.0.1", port: 0 },
    ...(attestation ? { attestation } : {}),
  });
  const tls = { brokerCa: pki.broker.cert, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key };
  const runtimes = new RuntimeClient(tls, { timeoutMs: 10_000 });
  const relay = streamingRuntimeClient(tls, { timeoutMs: 10_000 });
  const upstream = [{ url: `https://localhost:${rt.port}` }];
  const gw = buildGatewayApp({
    clients: [...o.clients],
    apiKeys: [...o.apiKeys],
    routes: Object.fromEntries(o.models.map((m) => [m, upstream])),
    runtimes,
    relay,
    plaintextApi: o.plaintextApi,
    logger: o.gatewayLogger ?? captureLogger("gateway").logger,
    bodyLimit: 64 * 1024,
  });
  await gw.listen({ host: "127.0.0.1", port: 0 });
  return {
    rt,
    gw,
    url: `http://127.0.0.1:${(gw.server.address() as AddressInfo).port}`,
    trust,
    async close() {
      await gw.close();
      runtimes.close();
      relay.close();
      await rt.stop();
    },
  };
}
