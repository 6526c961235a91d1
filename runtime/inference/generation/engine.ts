/**
 * The generation engine: one scheduler loop over one onnxruntime session, shared by every request.
 *
 * Each request becomes a sequence: its prompt is prefilled in chunks (batch 1, so no padding compute), then it
 * decodes one token per step with its KV cache. Decode steps are batched across sequences (up to `maxBatch` rows,
 * left-padded, hidden by `attention_mask`); membership rotates round-robin when more sequences decode than fit in one
 * batch; at most `prefillBurst` prefill chunks run between two decode steps, so new requests join the batch together
 * and a long prompt does not stall the others. An aborted
 * request stops at the next step and frees its slot. Logs nothing: prompts and outputs never leave this object
 * except through the request's own stream.
 */
import * as ort from "onnxruntime-node";
import { GenerationError } from "./errors.js";
import { emptyPast, extractRow, packRows, pastNames, presentName } from "./kv-cache.js";
import type { DecoderModel } from "./model.js";
import { type GenerationParams, type ResolvedParams, resolveParams } from "./params.js";
import { TokenSampler } from "./sampling.js";
import { StopMatcher } from "./stop.js";
import { StreamDetokenizer } from "./tokenizer.js";
import { Channel } from "./channel.js";
import type { FinishReason, Generation, GenerationChunk, GenerationResult } from "./generation-types.js";

export type { FinishReason, Generation, GenerationChunk, GenerationResult };

/** Engine limits. */
export interface EngineOptions {
  /** Most sequences in one decode step. Default 8. */
  readonly maxBatch?: number;
  /** Most sequences holding a KV cache at once (the rest wait). Default `maxBatch`. */
  readonly maxActive?: number;
  /** Most sequences waiting for a slot; beyond it `generate` throws `ENGINE_BUSY`. Default 64. */
  readonly maxQueued?: number;
  /** Prompt tokens per prefill step (bounds the logits buffer: chunk x vocabulary floats). Default 256. */
  readonly prefillChunk?: number;
  /**
   * Prefill chunks that may run back to back while other sequences wait to decode. Default 4: a burst of new
   * requests is prefilled together and then decodes in one batch, and a decode waits for at most 4 chunks.
   */
  readonly prefillBurst?: number;
}

/** One generation request. */
export interface GenerateRequest extends GenerationParams {
  /** Prompt token ids (from `tokenizer.encode` or a rendered chat template). */
  readonly promptIds: readonly number[];
  /** Aborting stops the generation at the next step; it then finishes with `finishReason: "cancelled"`. */
  readonly signal?: AbortSignal;
}

interface Sequence {
  readonly params: ResolvedParams;
  readonly tokens: number[];
  readonly promptLength: number;
  readonly generated: number[];
  readonly counts: Map<number, number>;
  readonly sampler: TokenSampler;
  readonly detok: StreamDetokenizer;
  readonly stop: StopMatcher;
  readonly channel: Channel;
  readonly startedAt: number;
  readonly abort: AbortController;
  /** Removes the listener on the caller's signal (a long-lived signal must not collect one per request). */
  detach: () => void;
  /** Tokens whose keys/values are in the cache. */
  processed: number;
  /** Own batch-1 cache when not in the cohort. */
  cache: ort.Tensor[] | undefined;
  text: string;
  firstTokenAt: number | undefined;
  done: boolean;
}

interface Cohort {
  members: Sequence[];
  tensors: ort.Tensor[];
  pads: number[];
}

/**
 * Generates text for many concurrent requests over one decoder model.
 *
 * @example
 * const engine = new GenerationEngine(model, { maxBatch: 8 });
 * const gen = engine.generate({ promptIds: model.tokenizer.encode(prompt), maxTokens: 64, temperature: 0 });
 * for await (const chunk of gen) process.stdout.write(chunk.text);
 * const { finishReason, completionTokens } = await gen.result;
 */
export class GenerationEngine {
  private readonly maxBatch: number;
  private readonly maxActive: number;
  private readonly maxQueued: number;
  private readonly prefillChunk: number;
  private readonly prefillBurst: number;
  private readonly queue: Sequence[] = [];
  private readonly active: Sequence[] = [];
  private cohort: Cohort | undefined;
  private running = false;
  private closed = false;
  private rr = 0;
  private prefillRun = 0;
  private readonly pastInputs: string[];

  constructor(
    private readonly model: DecoderModel,
    options: EngineOptions = {},
  ) {
    const positive = (v: number | undefined, d: number, name: string) => {
      const n = v ?? d;
      if (!Number.isInteger(n) || n < 1) throw new TypeError(`GenerationEngine: ${name} must be a positive integer`);
      return n;
    };
    this.maxBatch = positive(options.maxBatch, 8, "maxBatch");
    this.maxActive = positive(options.maxActive, this.maxBatch, "maxActive");
    this.maxQueued = options.maxQueued ?? 64;
    this.prefillChunk = positive(options.prefillChunk, 256, "prefillChunk");
    this.prefillBurst = positive(options.prefillBurst, 4, "prefillBurst");
    this.pastInputs = pastNames(model.layout);
  }

  /** Sequences holding a cache, and sequences waiting for one. */
  get load(): { readonly active: number; readonly queued: number } {
    return { active: this.active.length, queued: this.queue.length };
  }

  /**
   * Starts a generation. Throws at once (nothing queued) on bad parameters (`INVALID_PARAMETER`), a prompt that does
   * not fit (`CONTEXT_LENGTH_EXCEEDED`), a full queue (`ENGINE_BUSY`) or a closed engine (`ENGINE_CLOSED`).
   */
  generate(request: GenerateRequest): Generation {
    if (this.closed) throw new GenerationError("ENGINE_CLOSED", "generating: the engine is closed");
    const prompt = request.promptIds;
    if (!Array.isArray(prompt) || prompt.some((t) => !Number.isInteger(t) || t < 0))
      throw new GenerationError("INVALID_PARAMETER", "checking generation parameters: prompt: must be token ids", {
        problems: [{ path: "prompt", message: "must be token ids" }],
      });
    const params = resolveParams(request, prompt.length, this.model.contextLength);
    if (this.queue.length - Math.max(0, this.maxActive - this.active.length) >= this.maxQueued)
      throw new GenerationError("ENGINE_BUSY", `generating: ${this.queue.length} generations are waiting; retry later`);
    const abort = new AbortController();
    const seq: Sequence = {
      params,
      tokens: [...prompt],
      promptLength: prompt.length,
      generated: [],
      counts: new Map(),
      sampler: new TokenSampler(params),
      detok: new StreamDetokenizer(this.model.tokenizer),
      stop: new StopMatcher(params.stop),
      channel: new Channel(() => abort.abort()),
      startedAt: performance.now(),
      abort,
      processed: 0,
      cache: undefined,
      text: "",
      firstTokenAt: undefined,
      done: false,
      detach: () => undefined,
    };
    const signal = request.signal;
    if (signal?.aborted) abort.abort();
    else if (signal) {
      const onAbort = () => abort.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      seq.detach = () => signal.removeEventListener("abort", onAbort);
    }
    this.queue.push(seq);
    this.kick();
    return seq.channel.generation;
  }

  /** Stops accepting requests and ends every queued or running generation with `ENGINE_CLOSED`. */
  close(): void {
    this.closed = true;
    const error = new GenerationError("ENGINE_CLOSED", "generating: the engine was closed");
    for (const s of [...this.queue.splice(0), ...this.active.splice(0)]) this.fail(s, error);
    this.cohort = undefined;
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
      if (this.queue.length > 0 && !this.closed) this.kick();
    });
  }

  private async loop(): Promise<void> {
    for (;;) {
      // No explicit yield: onnxruntime-node runs each step from a setImmediate callback, so aborts, new requests
      // and socket events get an event-loop turn before every step, and consumers (microtasks) before the next one.
      this.reapCancelled();
      while (this.queue.length > 0 && this.active.length < this.maxActive) this.active.push(this.queue.shift()!);
      const prefilling = this.active.find((s) => s.processed < s.promptLength);
      const decoding = this.active.filter((s) => s.processed >= s.promptLength);
      if (!prefilling && decoding.length === 0) return;
      const prefillNow = prefilling !== undefined && (decoding.length === 0 || this.prefillRun < this.prefillBurst);
      const step = prefillNow ? [prefilling] : this.pick(decoding);
      this.prefillRun = prefillNow ? this.prefillRun + 1 : 0;
      try {
        if (prefillNow) await this.prefill(prefilling);
        else await this.decode(step);
      } catch (cause) {
        const error = new GenerationError("GENERATION_FAILED", "generating: onnxruntime failed during a step", {
          cause,
        });
        for (const s of step) this.fail(s, error);
      }
    }
  }

  /** Up to `maxBatch` decoding sequences, rotating fairly when more are waiting. */
  private pick(decoding: Sequence[]): Sequence[] {
    if (decoding.length <= this.maxBatch) return decoding;
    const start = this.rr % decoding.length;
    this.rr = start + this.maxBatch;
    return Array.from({ length: this.maxBatch }, (_, i) => decoding[(start + i) % decoding.length]!);
  }

  private reapCancelled(): void {
    for (const s of [...this.queue, ...this.active])
      if (s.abort.signal.aborted && !s.done) this.finish(s, "cancelled", [], false);
  }

  private async prefill(seq: Sequence): Promise<void> {
    const start = seq.processed;
    const end = Math.min(seq.promptLength, start + this.prefillChunk);
    const n = end - start;
    const positions = Array.from({ length: n }, (_, i) => start + i);
    const feeds = this.baseFeeds(
      seq.tokens.slice(start, end),
      positions,
      1,
      new BigInt64Array(end).fill(1n),
      start > 0,
    );
    const past = seq.cache ?? emptyPast(this.model.layout, 1);
    this.pastInputs.forEach((name, i) => (feeds[name] = past[i]!));
    const out = await this.model.session.run(feeds);
    if (seq.done) return; // closed while the step ran
    seq.cache = this.pastInputs.map((name) => out[presentName(name)]!);
    seq.processed = end;
    if (end === seq.promptLength) {
      const logits = out["logits"]!;
      const vocab = logits.dims[2]!;
      const data = logits.data as Float32Array;
      this.accept(seq, data.subarray((n - 1) * vocab, n * vocab));
    }
  }

  private async decode(step: Sequence[]): Promise<void> {
    const cohort = this.arrange(step);
    const B = step.length;
    const width = cohort.tensors[0]!.dims[2]!;
    const mask = new BigInt64Array(B * (width + 1));
    step.forEach((_, b) => mask.fill(1n, b * (width + 1) + cohort.pads[b]!, (b + 1) * (width + 1)));
    const last = step.map((s) => s.tokens[s.tokens.length - 1]!);
    const feeds = this.baseFeeds(
      last,
      step.map((s) => s.processed),
      B,
      mask,
      true,
    );
    this.pastInputs.forEach((name, i) => (feeds[name] = cohort.tensors[i]!));
    const out = await this.model.session.run(feeds);
    cohort.tensors = this.pastInputs.map((name) => out[presentName(name)]!);
    const logits = out["logits"]!;
    const vocab = logits.dims[2]!;
    const data = logits.data as Float32Array;
    step.forEach((s, b) => {
      s.processed++;
      if (!s.done) this.accept(s, data.subarray(b * vocab, (b + 1) * vocab));
    });
  }

  /** Makes the cohort hold exactly `step` (in order), moving caches only when membership changed. */
  private arrange(step: Sequence[]): Cohort {
    const old = this.cohort;
    if (old && old.members.length === step.length && old.members.every((m, i) => m === step[i])) return old;
    const layout = this.model.layout;
    const rowOf = (s: Sequence) => {
      const i = old ? old.members.indexOf(s) : -1;
      return i >= 0 ? { tensors: old!.tensors, row: i, pad: old!.pads[i]! } : { tensors: s.cache!, row: 0, pad: 0 };
    };
    let next: Cohort;
    if (step.length === 1 && step[0]!.cache) {
      next = { members: step, tensors: step[0]!.cache, pads: [0] };
    } else {
      const packed = packRows(
        step.map(rowOf),
        step.map((s) => s.processed),
        layout,
      );
      next = { members: step, tensors: packed.tensors, pads: packed.pads };
    }
    for (const s of step) s.cache = undefined;
    old?.members.forEach((s, i) => {
      if (!s.done && !step.includes(s)) {
        s.cache =
          old.members.length === 1 && old.pads[0] === 0
            ? old.tensors
            : extractRow({ tensors: old.tensors, row: i, pad: old.pads[i]! }, layout);
      }
    });
    this.cohort = next;
    return next;
  }

  /** `ids` and `positions` are [rows, ids.length / rows]; `mask` is [rows, mask.length / rows]. */
  private baseFeeds(
    ids: number[],
    positions: number[],
    rows: number,
    mask: BigInt64Array,
    cached: boolean,
  ): Record<string, ort.Tensor> {
    const cols = ids.length / rows;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [rows, cols]),
      attention_mask: new ort.Tensor("int64", mask, [rows, mask.length / rows]),
    };
    if (this.model.layout.positionIds)
      feeds["position_ids"] = new ort.Tensor("int64", BigInt64Array.from(positions, BigInt), [rows, cols]);
    if (this.model.layout.useCacheBranch) feeds["use_cache_branch"] = new ort.Tensor("bool", [cached], [1]);
    return feeds;
  }

  /** Takes the next token from a logits row; emits its text and ends the sequence when a stop condition holds. */
  private accept(seq: Sequence, row: Float32Array): void {
    // Aborted while this step ran: drop its token.
    if (seq.abort.signal.aborted) return this.finish(seq, "cancelled", [], false);
    const token = seq.sampler.next(row, seq.counts);
    seq.generated.push(token);
    seq.counts.set(token, (seq.counts.get(token) ?? 0) + 1);
    seq.firstTokenAt ??= performance.now();
    if (this.model.eosTokenIds.has(token)) return this.finish(seq, "stop", [token]);
    seq.tokens.push(token);
    const step = seq.stop.push(seq.detok.push(token));
    this.emit(seq, step.emit, [token]);
    if (step.stopped) return this.finish(seq, "stop", [], false);
    if (seq.generated.length >= seq.params.maxTokens || seq.tokens.length >= this.model.contextLength)
      this.finish(seq, "length");
  }

  private emit(seq: Sequence, text: string, tokenIds: number[]): void {
    seq.text += text;
    seq.channel.push({ text, tokenIds });
  }

  private finish(seq: Sequence, reason: FinishReason, tokenIds: number[] = [], flush = true): void {
    if (seq.done) return;
    if (flush) {
      const tail = seq.stop.push(seq.detok.flush());
      const text = tail.stopped ? tail.emit : tail.emit + seq.stop.flush();
      if (text !== "" || tokenIds.length > 0) this.emit(seq, text, tokenIds);
    }
    this.release(seq);
    seq.channel.end({
      text: seq.text,
      tokenIds: seq.generated,
      finishReason: reason,
      promptTokens: seq.promptLength,
      completionTokens: seq.generated.length,
      timeToFirstTokenMs: seq.firstTokenAt === undefined ? undefined : seq.firstTokenAt - seq.startedAt,
    });
  }

  private fail(seq: Sequence, error: GenerationError): void {
    if (seq.done) return;
    this.release(seq);
    seq.channel.fail(error);
  }

  private release(seq: Sequence): void {
    seq.done = true;
    seq.cache = undefined;
    seq.detach();
    for (const list of [this.queue, this.active]) {
      const i = list.indexOf(seq);
      if (i >= 0) list.splice(i, 1);
    }
  }
}
