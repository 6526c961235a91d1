/**
 * bench inference: throughput and p50/p99 latency of `POST /v2/models/encoder/infer` through mTLS (loopback,
 * keep-alive, one text per request, tokenized in the runtime) at concurrency 1, 8 and 32, next to bare
 * in-process `session.run` on pre-tokenized batches of the same sizes, in the same run.
 * ratio = server throughput at concurrency 32 / bare throughput at batch 32 (goal >= 0.85), the median over
 * alternating bare/server pairs.
 *
 *   npm run bench -- inference [--seconds S] [--rounds N]
 */
import { Agent, request } from "node:https";
import type { KeyRelease } from "../../runtime/inference/boot.js";
import { buildBundledModels } from "../../runtime/simulators/models/index.js";
import { BUNDLED_SEQUENCE_LENGTH } from "../../runtime/simulators/models/models.js";
import { createOrtSession } from "../../runtime/inference/model/session.js";
import { sealAndSignModel } from "../../runtime/inference/model/seal.js";
import type { HostTensor } from "../../runtime/inference/oip/tensors.js";
import { startRuntime } from "../../runtime/inference/runtime.js";
import { loadTokenizer } from "../../runtime/inference/tokenizer.js";
import { createLogger } from "../../runtime/observability/logger.js";
import { createTestCa } from "../../test/helpers/pki.js";
import { generateKeyPairSync, randomBytes } from "node:crypto";

const args = process.argv.slice(2);
const arg = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const SECONDS = arg("--seconds", 2);
const ROUNDS = arg("--rounds", 7);
const THREADS = 2;
const LEVELS = [1, 8, 32];

const WORDS =
  "the movie was great and the service was terrible but the food was really good so we would go again".split(" ");
/** Deterministic texts of 60 words (62 tokens with [CLS]/[SEP]): a full 64-token sequence of real compute. */
const textFor = (i: number) => Array.from({ length: 60 }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]).join(" ");

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

function summarize(latencies: number[], rows: number, ms: number): Result {
  latencies.sort((a, b) => a - b);
  return { rps: (rows * 1000) / ms, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function bare(files: ReturnType<typeof buildBundledModels>): Promise<(batch: number) => Promise<Result>> {
  const session = await createOrtSession(files.find((f) => f.name === "encoder.onnx")!.bytes, {
    intraOpThreads: THREADS,
  });
  const tok = loadTokenizer(
    JSON.parse(new TextDecoder().decode(files.find((f) => f.name === "tokenizer.json")!.bytes)),
    { sequenceLength: BUNDLED_SEQUENCE_LENGTH },
  );
  return async (batch) => {
    const enc = tok.encodeBatch(
      Array.from({ length: batch }, (_, i) => textFor(i)),
      "bench",
    );
    const shape = [batch, BUNDLED_SEQUENCE_LENGTH];
    const feeds = new Map<string, HostTensor>([
      ["input_ids", { datatype: "INT64", shape, data: enc.inputIds }],
      ["attention_mask", { datatype: "INT64", shape, data: enc.attentionMask }],
    ]);
    await session.run(feeds);
    const lat: number[] = [];
    const t0 = performance.now();
    let rows = 0;
    while (performance.now() - t0 < SECONDS * 1000) {
      const s = performance.now();
      await session.run(feeds);
      lat.push(performance.now() - s);
      rows += batch;
    }
    return summarize(lat, rows, performance.now() - t0);
  };
}

async function main(): Promise<void> {
  const files = buildBundledModels();
  const encoder = files.find((f) => f.name === "encoder.onnx")!;
  const brokerCa = createTestCa("bench broker CA");
  const gatewayCa = createTestCa("bench gateway CA");
  const serverCert = brokerCa.issue("runtime");
  const client = gatewayCa.issue("gateway");
  const registry = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const dataKey = randomBytes(32);
  const sealed = await sealAndSignModel({
    plaintext: encoder.bytes,
    modelName: "encoder",
    keyId: "default/model/encoder",
    dataKey,
    signerKey: registry.privateKey,
  });
  const keyRelease: KeyRelease = {
    release: async () => ({
      modelKeys: new Map([["default/model/encoder", dataKey]]),
      serverCertificate: serverCert.cert,
      serverKey: serverCert.key,
      brokerCa: brokerCa.cert,
    }),
  };
  const rt = await startRuntime({
    artifacts: [
      {
        config: { name: "encoder", text: {} },
        container: sealed.container,
        signature: sealed.signature,
        tokenizerJson: JSON.parse(new TextDecoder().decode(files[0]!.bytes)),
      },
    ],
    keyRelease,
    signerKey: registry.publicKey,
    gatewayCa: gatewayCa.cert,
    ort: { intraOpThreads: THREADS },
    batching: { maxBatchSize: 32, maxDelayMs: 2, maxQueue: 512, timeoutMs: 60_000, retryAfterSeconds: 1 },
    logger: createLogger({ service: "inference", level: "warn" }),
    listen: { host: "127.0.0.1", port: 0 },
    ops: { host: "127.0.0.1", port: 0 },
  });
  if (rt.phase() !== "ready") throw new Error(`runtime did not boot: ${rt.failure?.code}`);
  const agent = new Agent({ ca: brokerCa.cert, cert: client.cert, key: client.key, keepAlive: true, maxSockets: 64 });
  const bodies = Array.from({ length: 64 }, (_, i) =>
    JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [textFor(i)] }] }),
  );
  const infer = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = bodies[i % bodies.length]!;
      const r = request(
        {
          agent,
          host: "127.0.0.1",
          port: rt.port,
          servername: "localhost",
          method: "POST",
          path: "/v2/models/encoder/infer",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        },
      );
      r.on("error", reject);
      r.end(body);
    });
  const batchStats = async () => {
    const text = await rt.registry.render();
    const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    return {
      sum: num(/ci_inference_batch_rows_sum\{model="encoder"\} (\S+)/),
      count: num(/ci_inference_batch_rows_count\{model="encoder"\} (\S+)/),
    };
  };
  const meanBatch: Record<number, number[]> = {};
  const server = async (concurrency: number): Promise<Result> => {
    await Promise.all(Array.from({ length: concurrency }, (_, i) => infer(i)));
    const before = await batchStats();
    const lat: number[] = [];
    const t0 = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        for (let i = w; performance.now() - t0 < SECONDS * 1000; i += concurrency) {
          const s = performance.now();
          await infer(i);
          lat.push(performance.now() - s);
          done++;
        }
      }),
    );
    const after = await batchStats();
    (meanBatch[concurrency] ??= []).push((after.sum - before.sum) / Math.max(1, after.count - before.count));
    return summarize(lat, done, performance.now() - t0);
  };
  const runBare = await bare(files);

  const results: Record<string, Result[]> = {};
  const add = (k: string, r: Result) => (results[k] ??= []).push(r);
  // Bare and server segments alternate (pairs per level), so both see the same background load on a
  // shared machine; ratios are taken per pair and reported as medians.
  for (const c of LEVELS) {
    for (let round = 0; round < ROUNDS; round++) {
      add(`bare${c}`, await runBare(c));
      add(`mtls${c}`, await server(c));
    }
  }
  agent.destroy();
  await rt.stop();

  const median = (k: string, f: (r: Result) => number) => {
    const v = results[k]!.map(f).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)]!;
  };
  const fmt = (n: number, d = 1) => n.toFixed(d);
  const pairRatio = (c: number) => {
    const v = results[`mtls${c}`]!.map((r, i) => r.rps / results[`bare${c}`]![i]!.rps).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)]!;
  };
  process.stdout.write(
    `encoder (4 layers, hidden 256, seq 64), onnxruntime intra-op threads ${THREADS}, ${ROUNDS} rounds x ${SECONDS}s, medians (ratio: median of per-pair ratios)\n`,
  );
  process.stdout.write(
    "level  | bare session.run (batch = level) | /infer over mTLS (concurrency = level) | mean rows per run | ratio\n",
  );
  for (const c of LEVELS) {
    const b = median(`bare${c}`, (r) => r.rps);
    const s = median(`mtls${c}`, (r) => r.rps);
    process.stdout.write(
      `${String(c).padStart(6)} | ${fmt(b)} seq/s, p50 ${fmt(
        median(`bare${c}`, (r) => r.p50),
        2,
      )} ms, p99 ${fmt(
        median(`bare${c}`, (r) => r.p99),
        2,
      )} ms | ${fmt(s)} req/s, p50 ${fmt(
        median(`mtls${c}`, (r) => r.p50),
        2,
      )} ms, p99 ${fmt(
        median(`mtls${c}`, (r) => r.p99),
        2,
      )} ms | ${fmt(meanBatch[c]!.reduce((a, x) => a + x, 0) / meanBatch[c]!.length)} | ${fmt(pairRatio(c), 3)}\n`,
    );
  }
  const ratio = pairRatio(32);
  const overheads = results.mtls1!.map((r, i) => r.p50 - results.bare1![i]!.p50).sort((a, b) => a - b);
  const overhead = overheads[Math.floor(overheads.length / 2)]!;
  process.stdout.write(
    `bench inference: ratio=${fmt(ratio, 3)} c32_rps=${fmt(median("mtls32", (r) => r.rps))} bare32_rps=${fmt(median("bare32", (r) => r.rps))} c32_p50_ms=${fmt(
      median("mtls32", (r) => r.p50),
      2,
    )} c32_p99_ms=${fmt(
      median("mtls32", (r) => r.p99),
      2,
    )} c1_p50_ms=${fmt(
      median("mtls1", (r) => r.p50),
      2,
    )} c1_overhead_ms=${fmt(overhead, 2)} c8_ratio=${fmt(pairRatio(8), 3)} c1_ratio=${fmt(pairRatio(1), 3)}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench inference failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
