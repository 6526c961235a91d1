/**
 * bench generate: the generation engine over the bundled chat model, against a bare onnxruntime loop (prefill, then
 * greedy decode steps feeding `present.*` back as `past_key_values.*`, argmax in JS) over the same session, in the
 * same run. Every generation makes exactly TOKENS tokens (the prompt "abc abc abc" sends the echo model round in a
 * loop, so it never reaches EOS).
 * - ratio = engine tokens/s at concurrency 1 / bare tokens/s (goal >= 0.9), median over alternating pairs.
 * Figures are medians of per-pair values, pairs alternating generation by generation (robust to a shared machine).
 * - c8_over_c1 = aggregate engine tokens/s with 8 concurrent generations / concurrency 1 (batched decode steps);
 *   c8_unbatched_over_c1 is the same with `maxBatch: 1` (round-robin single-row steps), for comparison.
 * - ttft_ms = median time to first token at concurrency 1 (prefill of a 15-token prompt plus scheduling).
 *
 *   npm run bench -- generate [--rounds N] [--tokens N] [--threads N]
 */
import * as ort from "onnxruntime-node";
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

async function main(): Promise<void> {
  const files = new Map(buildBundledChatModel().map((f) => [f.name, f.bytes]));
  const model = await loadDecoderModel(files, { intraOpThreads: THREADS });
  const prompt = model.tokenizer.encode(model.chatTemplate!.render([{ role: "user", content: "abc abc abc" }]));
  const batched = new GenerationEngine(model, { maxBatch: CONCURRENCY });
  const single = new GenerationEngine(model, { maxBatch: 1, maxActive: CONCURRENCY });
  // Warm-up: first runs allocate onnxruntime's arenas for each shape.
  await bare(model, prompt);
  await engineRun(batched, prompt, CONCURRENCY);
  await engineRun(single, prompt, CONCURRENCY);

  // Pairs alternate at the grain of one generation (~0.1 s), so load from other processes hits both sides alike;
  // each figure is the median of per-pair values.
  const bareS: number[] = [];
  const c1: number[] = [];
  const ratios: number[] = [];
  const ttft: number[] = [];
  for (let r = 0; r < ROUNDS * 8; r++) {
    const b = await bare(model, prompt);
    const e = await engineRun(batched, prompt, 1);
    bareS.push(b);
    c1.push(e.tokS);
    ttft.push(e.ttft);
    ratios.push(e.tokS / b);
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
  await model.release();
  const f = (x: number, d = 2) => x.toFixed(d);
  process.stdout.write(
    `model: bundled chat (2 layers, hidden 240, GQA 4/2 heads), ${TOKENS} tokens per generation, ${THREADS} thread(s), ` +
      `${ratios.length} c1 pairs, ${c8Ratios.length} c8 triples\n` +
      `c1: engine ${f(median(c1), 0)} tok/s, bare ${f(median(bareS), 0)} tok/s; c8 batched ${f(median(c8), 0)} tok/s\n` +
      `bench generate: ratio=${f(median(ratios))} c1_tok_s=${f(median(c1), 0)} bare_tok_s=${f(median(bareS), 0)} ` +
      `c8_over_c1=${f(median(c8Ratios))} c8_unbatched_over_c1=${f(median(c8SingleRatios))} ttft_ms=${f(median(ttft))}\n`,
  );
}

void main();
