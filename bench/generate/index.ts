/**
 * bench generate: the runtime's OpenAI API and its generation engine over the bundled chat model, against a bare
 * onnxruntime loop (prefill, then greedy decode steps feeding `present.*` back as `past_key_values.*`, argmax in JS)
 * over the same session, in the same run. Every generation makes exactly TOKENS tokens (the prompt "abc abc abc"
 * sends the echo model round in a loop, so it never reaches EOS).
 * - ratio = tokens/s of the server at concurrency 1 (`POST /v1/chat/completions`, `stream: true`, over loopback
 *   HTTP with a keep-alive client in the same process: template, tokenizer, engine, SSE events, the client's
 *   parsing) / bare tokens/s (goal >= 0.9), median over alternating pairs; server_ttft_ms the median time from
 *   sending the request to the first content event.
 * - whole_ratio = the same request without `stream` (one JSON answer) / bare tokens/s.
 * - engine_ratio = the engine alone at concurrency 1 / bare tokens/s.
 * Figures are medians of per-pair values, pairs alternating generation by generation (robust to a shared machine).
 * - c8_over_c1 = aggregate engine tokens/s with 8 concurrent generations / concurrency 1 (batched decode steps);
 *   c8_unbatched_over_c1 is the same with `maxBatch: 1` (round-robin single-row steps), for comparison.
 * - ttft_ms = median time to first token at concurrency 1 (prefill of a 15-token prompt plus scheduling).
 *
 *   npm run bench -- generate [--rounds N] [--tokens N] [--threads N]
 */
import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import * as ort from "onnxruntime-node";
import { buildApp } from "../../runtime/inference/server/app.js";
import { createLogger } from "../../runtime/observability/index.js";
import { GenerationEngine } from "../../runtime/inference/generation/engine.js";
import { emptyPast, pastNames, presentName } from "../../runtime/inference/generation/kv-cache.js";
import { type DecoderModel, loadDecoderModel } from "../../runtime/inference/generation/model.js";
import { argmax } from "../../runtime/inference/generation/sampling.js";
import { buildBundledChatModel } from "../../runtime/simulators/index.js";

const args = process.argv.slice(2);
const arg = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const ROUNDS = arg("--rounds", 7);
const TOKENS = arg("--tokens", 64);
const THREADS = arg("--threads", 1);
const CONCURRENCY = 8;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The bare loop: what a hand-written client of onnxruntime does, with no scheduler, sampler or detokenizer. */
async function bare(model: DecoderModel, prompt: readonly number[]): Promise<number> {
  const names = pastNames(model.layout);
  let past = emptyPast(model.layout, 1);
  let ids = [...prompt];
  let length = 0;
  const t0 = performance.now();
  for (let made = 0; made < TOKENS; made++) {
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, n]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(length + n).fill(1n), [1, length + n]),
      position_ids: new ort.Tensor(
        "int64",
        BigInt64Array.from(ids, (_, i) => BigInt(length + i)),
        [1, n],
      ),
    };
    names.forEach((name, i) => (feeds[name] = past[i]!));
    const out = await model.session.run(feeds);
    past = names.map((name) => out[presentName(name)]!);
    const logits = out["logits"]!;
    const vocab = logits.dims[2]!;
    ids = [argmax((logits.data as Float32Array).subarray((n - 1) * vocab, n * vocab))];
    length += n;
  }
  return (TOKENS * 1000) / (performance.now() - t0);
}

/** `concurrency` generations of TOKENS tokens at once; aggregate tokens/s and the median time to first token. */
async function engineRun(
  engine: GenerationEngine,
  prompt: readonly number[],
  concurrency: number,
): Promise<{ tokS: number; ttft: number }> {
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from(
      { length: concurrency },
      () => engine.generate({ promptIds: prompt, maxTokens: TOKENS, temperature: 0 }).result,
    ),
  );
  const ms = performance.now() - t0;
  const made = results.reduce((n, r) => n + r.completionTokens, 0);
  if (made !== concurrency * TOKENS)
    throw new Error(`bench generate: expected ${concurrency * TOKENS} tokens, got ${made}`);
  return { tokS: (made * 1000) / ms, ttft: median(results.map((r) => r.timeToFirstTokenMs ?? 0)) };
}

/** One streamed chat completion over HTTP: tokens/s from sending to the last event, and the time to first text. */
function serverOnce(port: number, agent: Agent, stream = true): Promise<{ tokS: number; ttft: number }> {
  const body = JSON.stringify({
    model: "chat",
    messages: [{ role: "user", content: "abc abc abc" }],
    max_tokens: TOKENS,
    temperature: 0,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    let text = "";
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/chat/completions",
        method: "POST",
        agent,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        res.setEncoding("utf8");
        res.on("data", (piece: string) => {
          if (first === 0 && piece.includes('"content":"') && !piece.includes('"content":""'))
            first = performance.now();
          text += piece;
        });
        res.on("end", () => {
          const ms = performance.now() - t0;
          const usage = /"completion_tokens":(\d+)/.exec(text);
          if (res.statusCode !== 200 || Number(usage?.[1]) !== TOKENS || (stream && !text.endsWith("data: [DONE]\n\n")))
            return reject(new Error(`bench generate: bad answer HTTP ${res.statusCode} ${text.slice(-200)}`));
          resolve({ tokS: (TOKENS * 1000) / ms, ttft: first - t0 });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const files = new Map(buildBundledChatModel().map((f) => [f.name, f.bytes]));
  const model = await loadDecoderModel(files, { intraOpThreads: THREADS });
  const prompt = model.tokenizer.encode(model.chatTemplate!.render([{ role: "user", content: "abc abc abc" }]));
  const batched = new GenerationEngine(model, { maxBatch: CONCURRENCY });
  const single = new GenerationEngine(model, { maxBatch: 1, maxActive: CONCURRENCY });
  const app = buildApp({
    models: new Map(),
    generators: new Map([["chat", { name: "chat", sha256: "-", model, engine: batched, created: 0 }]]),
    isReady: () => true,
    logger: createLogger({ service: "bench", level: "fatal" }),
    server: { name: "bench", version: "0" },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // Warm-up: first runs allocate onnxruntime's arenas for each shape.
  await bare(model, prompt);
  await serverOnce(port, agent);
  await engineRun(batched, prompt, CONCURRENCY);
  await engineRun(single, prompt, CONCURRENCY);

  // Pairs alternate at the grain of one generation (~0.1 s), so load from other processes hits both sides alike;
  // each figure is the median of per-pair values.
  const bareS: number[] = [];
  const c1: number[] = [];
  const ratios: number[] = [];
  const ttft: number[] = [];
  const server: number[] = [];
  const serverRatios: number[] = [];
  const serverTtft: number[] = [];
  const wholeRatios: number[] = [];
  for (let r = 0; r < ROUNDS * 8; r++) {
    const b = await bare(model, prompt);
    const e = await engineRun(batched, prompt, 1);
    const h = await serverOnce(port, agent);
    bareS.push(b);
    c1.push(e.tokS);
    ttft.push(e.ttft);
    ratios.push(e.tokS / b);
    server.push(h.tokS);
    serverRatios.push(h.tokS / b);
    serverTtft.push(h.ttft);
    wholeRatios.push((await serverOnce(port, agent, false)).tokS / b);
  }
  const c8Ratios: number[] = [];
  const c8SingleRatios: number[] = [];
  const c8: number[] = [];
  for (let r = 0; r < ROUNDS * 2; r++) {
    const one = (await engineRun(batched, prompt, 1)).tokS;
    const eight = (await engineRun(batched, prompt, CONCURRENCY)).tokS;
    const eightSingle = (await engineRun(single, prompt, CONCURRENCY)).tokS;
    c8.push(eight);
    c8Ratios.push(eight / one);
    c8SingleRatios.push(eightSingle / one);
  }
  agent.destroy();
  await app.close();
  await model.release();
  const f = (x: number, d = 2) => x.toFixed(d);
  process.stdout.write(
    `model: bundled chat (2 layers, hidden 240, GQA 4/2 heads), ${TOKENS} tokens per generation, ${THREADS} thread(s), ` +
      `${ratios.length} c1 pairs, ${c8Ratios.length} c8 triples\n` +
      `c1: server ${f(median(server), 0)} tok/s, engine ${f(median(c1), 0)} tok/s, bare ${f(median(bareS), 0)} tok/s; ` +
      `c8 batched ${f(median(c8), 0)} tok/s\n` +
      `bench generate: ratio=${f(median(serverRatios))} server_tok_s=${f(median(server), 0)} ` +
      `bare_tok_s=${f(median(bareS), 0)} whole_ratio=${f(median(wholeRatios))} engine_ratio=${f(median(ratios))} c8_over_c1=${f(median(c8Ratios))} ` +
      `c8_unbatched_over_c1=${f(median(c8SingleRatios))} server_ttft_ms=${f(median(serverTtft))} ttft_ms=${f(median(ttft))}\n`,
  );
}

void main();
