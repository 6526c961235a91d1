/**
 * The runtime's compiled directory (dist/runtime/inference/, what the guest image packs) is
 * self-contained: copied alone to a temporary folder with no node_modules anywhere above it, it
 * starts, attests to a real key broker (SoftHSM2, simulated SNP evidence), obtains its model key
 * and certificate, loads the bundled model into onnxruntime from the copied native library, and
 * classifies text over mTLS; SIGTERM drains it (exit 0).
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundled } from "../helpers/inference.js";
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
import { createTestPki, freePort, httpsJson, sealBundled, type TestPki } from "../helpers/runtime.js";
import { sharedSimulatedSnp, SIMULATED_SNP_ROOT } from "../helpers/simulated-snp.js";

const ROOT = join(__dirname, "../..");
const GUEST_DIR = join(ROOT, "dist/runtime/inference");
const GOOD = measurementOf("guest-bundle-runtime");

const work = mkdtempSync(join(tmpdir(), "ci-guest-bundle-"));
const app = join(work, "app");
const conf = join(work, "config");
let pki: TestPki;
let broker: Awaited<ReturnType<typeof startBroker>>;
let urls: Awaited<ReturnType<typeof listen>>;
let child: ChildProcessByStdio<null, Readable, Readable> | undefined;

beforeAll(async () => {
  cpSync(GUEST_DIR, app, { recursive: true });
  const sim = await sharedSimulatedSnp("Genoa");
  const f = brokerFixture({
    attestation: { policy: { allowedRoots: ["simulated"] }, simulatedSnpDir: join(SIMULATED_SNP_ROOT, "genoa") },
  });
  broker = await startBroker(f, simulatedVerifier(sim));
  urls = await listen(broker, f);
  pki = createTestPki();
  const sealed = await sealBundled(["sentiment"]);
  const manifest = await signedManifest(
    goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": GOOD } }),
    f.release.privateKey,
  );
  expect(
    (await adminRequest(urls.adminUrl, urls.ca, f.operator, "POST", "/admin/v1/manifests", { jws: manifest })).status,
  ).toBe(201);
  const key = Buffer.from(sealed.keys.get("default/model/sentiment")!);
  const path = "/admin/v1/data-keys/default/model/sentiment";
  expect(
    (await adminRequest(urls.adminUrl, urls.ca, f.operator, "POST", path, key, "application/octet-stream")).status,
  ).toBe(200);
  const a = sealed.artifacts[0]!;
  cpSync(join(SIMULATED_SNP_ROOT, "genoa"), join(conf, "snp"), { recursive: true });
  writeFileSync(join(conf, "sentiment.onnx.enc"), a.container);
  writeFileSync(join(conf, "sentiment.onnx.enc.jws"), a.signature);
  writeFileSync(join(conf, "tokenizer.json"), bundled("tokenizer.json").bytes);
  writeFileSync(join(conf, "signer.pem"), sealed.signerKey.export({ type: "spki", format: "pem" }) as string);
  writeFileSync(join(conf, "gateway-ca.pem"), pki.gateway.cert);
  writeFileSync(join(conf, "broker-ca.pem"), urls.ca);
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await urls?.close();
  await broker?.close?.();
  rmSync(work, { recursive: true, force: true });
});

/** Folders from `dir` up to `/` that hold a node_modules (none may, or the copy is not proven alone). */
function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) found.push(d);
    if (dirname(d) === d) return found;
  }
}

describe("dist/runtime/inference alone", () => {
  it("is one bundle plus onnxruntime's native addon and library", () => {
    expect(readdirSync(GUEST_DIR).sort()).toEqual(["libonnxruntime.so.1", "main.js", "onnxruntime_binding.node"]);
    expect(nodeModulesAbove(app)).toEqual([]);
  });

  it("starts from a temporary folder, attests, loads the model and classifies text; SIGTERM drains it", async () => {
    const port = await freePort();
    const ops = await freePort();
    const config = join(conf, "runtime.json");
    writeFileSync(
      config,
      JSON.stringify({
        listen: { host: "127.0.0.1", port },
        ops: { host: "127.0.0.1", port: ops },
        logLevel: "warn",
        intraOpThreads: 1,
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
        keyBroker: {
          url: urls.kbsUrl,
          caFile: "broker-ca.pem",
          evidence: { kind: "simulated-snp", dir: "snp", measurement: GOOD },
        },
      }),
    );
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const proc = spawn(process.execPath, [join(app, "main.js"), "--config", config], {
      cwd: app,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    let err = "";
    proc.stderr.on("data", (c: Buffer) => (err += c.toString()));
    proc.stdout.resume();
    const exited = new Promise<number | null>((r) => proc.on("close", (code) => r(code)));
    let ready = false;
    for (let i = 0; i < 2400 && !ready && proc.exitCode === null; i++) {
      ready = await fetch(`http://127.0.0.1:${ops}/v2/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    expect({ ready, exitCode: proc.exitCode, stderr: err }).toEqual({ ready: true, exitCode: null, stderr: "" });

    const r = await httpsJson({
      port,
      path: "/v2/models/sentiment/infer",
      body: {
        inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: ["I loved it, great fun", "boring and awful"] }],
        outputs: [{ name: "label" }],
      },
      ca: urls.ca,
      ...pki.gatewayClient,
    });
    expect([r.status, (r.body as { outputs: Array<{ data: unknown }> }).outputs[0]?.data]).toEqual([
      200,
      ["positive", "negative"],
    ]);
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 180_000);
});
