/**
 * The boot sequence against the real key broker (runtime/keybroker, SoftHSM2) with byte-exact simulated SNP
 * evidence: a runtime whose measurement is in the active golden manifest obtains its model key and a
 * broker-issued certificate, loads the model and serves through the gateway; a runtime with another measurement
 * gets nothing, never opens its port, and the gateway cannot reach it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { RuntimeClient } from "../../runtime/gateway/upstream.js";
import { startRuntime, type RunningRuntime } from "../../runtime/inference/runtime.js";
import { kbsKeyRelease } from "../../runtime/inference/main.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import {
  adminRequest,
  brokerFixture,
  goldenManifest,
  listen,
  measurementOf,
  signedManifest,
  simulatedVerifier,
  startBroker,
} from "../helpers/keybroker.js";
import { createTestPki, sealBundled, type SealedBundle, type TestPki } from "../helpers/runtime.js";
import { sharedSimulatedSnp, SIMULATED_SNP_ROOT } from "../helpers/simulated-snp.js";

const GOOD = measurementOf("inference-runtime-good");
const TAMPERED = measurementOf("inference-runtime-tampered");
let pki: TestPki;
let sealed: SealedBundle;
let broker: Awaited<ReturnType<typeof startBroker>>;
let urls: Awaited<ReturnType<typeof listen>>;
let caFile: string;
const runtimes: RunningRuntime[] = [];

beforeAll(async () => {
  const sim = await sharedSimulatedSnp("Genoa");
  const f = brokerFixture({
    attestation: { policy: { allowedRoots: ["simulated"] }, simulatedSnpDir: join(SIMULATED_SNP_ROOT, "genoa") },
  });
  broker = await startBroker(f, simulatedVerifier(sim));
  urls = await listen(broker, f);
  caFile = join(f.dir, "broker-ca.pem");
  writeFileSync(caFile, urls.ca);
  pki = createTestPki();
  sealed = await sealBundled(["sentiment"]);
  const manifest = await signedManifest(
    goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": GOOD } }),
    f.release.privateKey,
  );
  expect(
    (await adminRequest(urls.adminUrl, urls.ca, f.operator, "POST", "/admin/v1/manifests", { jws: manifest })).status,
  ).toBe(201);
  const key = Buffer.from(sealed.keys.get("default/model/sentiment")!);
  expect(
    (
      await adminRequest(
        urls.adminUrl,
        urls.ca,
        f.operator,
        "POST",
        "/admin/v1/data-keys/default/model/sentiment",
        key,
        "application/octet-stream",
      )
    ).status,
  ).toBe(200);
}, 120_000);
afterAll(async () => {
  for (const rt of runtimes) await rt.stop();
  await urls?.close();
  await broker?.close?.();
});

async function boot(measurement: string): Promise<RunningRuntime> {
  const rt = await startRuntime({
    artifacts: sealed.artifacts,
    signerKey: sealed.signerKey,
    batching: TEST_BATCHING,
    ort: { intraOpThreads: 1 },
    keyRelease: kbsKeyRelease(
      {
        url: urls.kbsUrl,
        caFile,
        evidence: { kind: "simulated-snp", dir: join(SIMULATED_SNP_ROOT, "genoa"), measurement },
      },
      "/",
    ),
    logger: captureLogger("inference").logger,
    gatewayCa: pki.gateway.cert,
    listen: { host: "127.0.0.1", port: 0 },
    ops: { host: "127.0.0.1", port: 0 },
  });
  runtimes.push(rt);
  return rt;
}

describe("boot sequence with the key broker and simulated SNP evidence", () => {
  it("an attested runtime gets its key and certificate, loads the model and serves through the gateway", async () => {
    const rt = await boot(GOOD);
    expect([rt.phase(), rt.failure?.code, (rt.failure?.cause as Error | undefined)?.message]).toEqual([
      "ready",
      undefined,
      undefined,
    ]);
    const client = new RuntimeClient(
      { brokerCa: urls.ca, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key },
      { timeoutMs: 10_000 },
    );
    const apiKey = generateApiKey("team-a");
    const gw = buildGatewayApp({
      clients: [{ name: "team-a", rateLimit: { perSecond: 10, burst: 10 } }],
      apiKeys: [apiKey.record],
      routes: { sentiment: [{ url: `https://localhost:${rt.port}` }] },
      runtimes: client,
      logger: captureLogger("gateway").logger,
    });
    const r = await gw.inject({
      method: "POST",
      url: "/v2/models/sentiment/infer",
      headers: { authorization: `Bearer ${apiKey.apiKey}` },
      payload: {
        inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["a wonderful, great film"] }],
        outputs: [{ name: "label" }],
      },
    });
    expect([r.statusCode, r.json().outputs[0].data]).toEqual([200, ["positive"]]);
    // Renewal (what the runtime does at 2/3 of the certificate's lifetime): a fresh attestation releases only
    // a new certificate and key, installed without a restart; the gateway keeps working over new connections.
    const renewed = await kbsKeyRelease(
      {
        url: urls.kbsUrl,
        caFile,
        evidence: { kind: "simulated-snp", dir: join(SIMULATED_SNP_ROOT, "genoa"), measurement: GOOD },
      },
      "/",
    ).release({ keyIds: [] });
    expect(renewed.modelKeys.size).toBe(0);
    rt.rotateCredentials(renewed);
    const fresh = new RuntimeClient(
      { brokerCa: urls.ca, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key },
      { timeoutMs: 10_000 },
    );
    const again = await fresh.forward(
      { url: `https://localhost:${rt.port}` },
      { method: "GET", path: "/v2/models/sentiment/ready", headers: {} },
    );
    expect([again.status, JSON.parse(again.body.toString())]).toEqual([200, { name: "sentiment", ready: true }]);
    fresh.close();
    await gw.close();
    client.close();
  });

  it("a runtime with a measurement outside the golden manifest gets no key and never opens its port", async () => {
    const rt = await boot(TAMPERED);
    expect([rt.phase(), rt.failure?.code, rt.failure?.message, rt.port]).toEqual([
      "failed",
      "KEY_RELEASE_FAILED",
      "attesting to the key broker: refused with ATTESTATION_DENIED (drift class unknown-measurement: MEASUREMENT_NOT_ALLOWED at report.measurement)",
      0,
    ]);
    expect((await fetch(`http://127.0.0.1:${rt.opsPort}/v2/health/ready`)).status).toBe(503);
  });

  it("a model signed by another registry is refused even on an attested runtime", async () => {
    const rt = await startRuntime({
      artifacts: [{ ...sealed.artifacts[0]!, signature: (await sealBundled(["sentiment"])).artifacts[0]!.signature }],
      signerKey: sealed.signerKey,
      batching: TEST_BATCHING,
      keyRelease: kbsKeyRelease(
        {
          url: urls.kbsUrl,
          caFile,
          evidence: { kind: "simulated-snp", dir: join(SIMULATED_SNP_ROOT, "genoa"), measurement: GOOD },
        },
        "/",
      ),
      logger: captureLogger("inference").logger,
      gatewayCa: pki.gateway.cert,
      listen: { host: "127.0.0.1", port: 0 },
      ops: { host: "127.0.0.1", port: 0 },
    });
    runtimes.push(rt);
    expect([rt.phase(), rt.failure?.code]).toEqual(["failed", "MODEL_SIGNATURE_INVALID"]);
  });
});
