import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { main as gatewayMain } from "../../runtime/gateway/main.js";
import { describeKeyRelease, main as runtimeMain } from "../../runtime/inference/main.js";
import { AttesterError } from "../../runtime/attester/errors.js";
import { bundled } from "../helpers/inference.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";
import {
  createTestPki,
  fakeKeyRelease,
  freePort,
  httpsJson,
  sealBundled,
  type SealedBundle,
  type TestPki,
} from "../helpers/runtime.js";

let dir: string;
let pki: TestPki;
let sealed: SealedBundle;
const key = generateApiKey("team-a");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ci-main-"));
  pki = createTestPki();
  sealed = await sealBundled(["sentiment"]);
  const a = sealed.artifacts[0]!;
  writeFileSync(join(dir, "sentiment.onnx.enc"), a.container);
  writeFileSync(join(dir, "sentiment.onnx.enc.jws"), a.signature);
  writeFileSync(join(dir, "tokenizer.json"), bundled("tokenizer.json").bytes);
  writeFileSync(join(dir, "signer.pem"), sealed.signerKey.export({ type: "spki", format: "pem" }) as string);
  writeFileSync(join(dir, "gateway-ca.pem"), pki.gateway.cert);
  writeFileSync(join(dir, "broker-ca.pem"), pki.broker.cert);
  writeFileSync(join(dir, "gateway.pem"), pki.gatewayClient.cert);
  writeFileSync(join(dir, "gateway.key"), pki.gatewayClient.key, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runtimeConfig(
  keyBroker: Record<string, unknown> = { url: "https://broker:8444" },
): Promise<{ file: string; port: number; ops: number }> {
  const port = await freePort();
  const ops = await freePort();
  const file = join(dir, "runtime.json");
  writeFileSync(
    file,
    JSON.stringify({
      listen: { host: "127.0.0.1", port },
      ops: { host: "127.0.0.1", port: ops },
      logLevel: "fatal",
      models: [
        {
          name: "sentiment",
          container: "sentiment.onnx.enc",
          signature: "sentiment.onnx.enc.jws",
          tokenizer: "tokenizer.json",
          text: {},
          labels: { from: "logits", names: ["negative", "positive"] },
        },
      ],
      signerPublicKeyFile: "signer.pem",
      gatewayCaFile: "gateway-ca.pem",
      keyBroker,
    }),
  );
  return { file, port, ops };
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("not reached");
}

describe("entry points (config files -> listening services)", () => {
  it("prints usage without a config (exit 2)", async () => {
    expect(await runtimeMain([])).toBe(2);
    expect(await gatewayMain([])).toBe(2);
  });

  it("runtime: an invalid keyBroker section is CONFIG_INVALID (nothing served)", async () => {
    const { file } = await runtimeConfig();
    await expect(runtimeMain(["--config", file])).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("keyBroker.caFile"),
    });
  });

  it("runtime: the default seam is the KBS client; an unreachable broker is KEY_RELEASE_FAILED (exit 1)", async () => {
    const sim = await sharedSimulatedSnp();
    writeFileSync(join(dir, "broker-ca.pem"), pki.broker.cert);
    const { file } = await runtimeConfig({
      url: `https://127.0.0.1:${await freePort()}`,
      caFile: "broker-ca.pem",
      evidence: { kind: "simulated-snp", dir: sim.dir, measurement: "ab".repeat(48) },
    });
    expect(await runtimeMain(["--config", file])).toBe(1);
  });

  it("describeKeyRelease names the broker's code and drift class, or why it was unreachable", () => {
    const denied = new AttesterError("CLIENT_PROTOCOL_ERROR", "KBS attest: ATTESTATION_DENIED: ...", {
      details: { status: 403, serverCode: "ATTESTATION_DENIED", driftClass: "unknown-measurement" },
    });
    expect(describeKeyRelease(denied)).toBe(
      "attesting to the key broker: refused with ATTESTATION_DENIED (drift class unknown-measurement)",
    );
    const debug = new AttesterError(
      "CLIENT_PROTOCOL_ERROR",
      "KBS attest: ATTESTATION_DENIED: attestation denied (drift class ok): DEBUG_ALLOWED at report.policy.debug",
      { details: { status: 403, serverCode: "ATTESTATION_DENIED", driftClass: "ok" } },
    );
    expect(describeKeyRelease(debug)).toBe(
      "attesting to the key broker: refused with ATTESTATION_DENIED (drift class ok: DEBUG_ALLOWED at report.policy.debug)",
    );
    expect(describeKeyRelease(new AttesterError("CLIENT_DECRYPT_FAILED", "x"))).toBe(
      "attesting to the key broker: CLIENT_DECRYPT_FAILED",
    );
    expect(describeKeyRelease(Object.assign(new Error("connect"), { code: "ECONNREFUSED" }))).toBe(
      "attesting to the key broker: unreachable (ECONNREFUSED)",
    );
    expect(describeKeyRelease(Object.assign(new Error("open"), { code: "ENOENT" }))).toBe(
      "attesting to the key broker: failed (ENOENT)",
    );
    expect(describeKeyRelease("boom")).toBe("attesting to the key broker: failed");
  });

  it("runtime + gateway from config files: a client classifies text, then both drain on SIGTERM", async () => {
    const rt = await runtimeConfig();
    let brokerOptions: unknown;
    const runtimeExit = runtimeMain(["--config", rt.file], (options) => {
      brokerOptions = options;
      return fakeKeyRelease(pki, sealed.keys);
    });
    await until(async () => (await fetch(`http://127.0.0.1:${rt.ops}/v2/health/ready`)).status === 200);
    expect(brokerOptions).toEqual({ url: "https://broker:8444" });

    const gwPort = await freePort();
    const gwFile = join(dir, "gateway.json");
    writeFileSync(
      gwFile,
      JSON.stringify({
        listen: { host: "127.0.0.1", port: gwPort },
        ops: { host: "127.0.0.1", port: await freePort() },
        logLevel: "fatal",
        upstreamTls: { brokerCaFile: "broker-ca.pem", certFile: "gateway.pem", keyFile: "gateway.key" },
        routes: { sentiment: [{ url: `https://localhost:${rt.port}` }] },
        clients: [{ name: "team-a", rateLimit: { perSecond: 10, burst: 10 } }],
        apiKeys: [key.record],
        plaintextApi: true,
      }),
    );
    const gatewayExit = gatewayMain(["--config", gwFile]);
    await until(async () => (await fetch(`http://127.0.0.1:${gwPort}/v2/health/live`)).status === 200);

    const r = await fetch(`http://127.0.0.1:${gwPort}/v2/models/sentiment/infer`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key.apiKey}` },
      body: JSON.stringify({
        inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: ["I loved it, great fun", "boring and awful"] }],
        outputs: [{ name: "label" }],
      }),
    });
    expect([r.status, ((await r.json()) as { outputs: Array<{ data: unknown }> }).outputs[0]!.data]).toEqual([
      200,
      ["positive", "negative"],
    ]);
    const direct = await httpsJson({
      port: rt.port,
      path: "/v2/health/ready",
      ca: pki.broker.cert,
      ...pki.gatewayClient,
    });
    expect(direct.status).toBe(200);

    process.emit("SIGTERM");
    expect(await Promise.all([runtimeExit, gatewayExit])).toEqual([0, 0]);
  });
});
