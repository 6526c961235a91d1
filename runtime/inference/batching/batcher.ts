/**
 * Dynamic batching with a bounded queue. A request arriving at an idle batcher runs at the next turn of the
 * event loop (taking whatever arrived in the same turn) while the load is serial; once the batcher has seen
 * concurrent requests (a batch of several, or requests queued behind a run), an idle batcher waits up to
 * `maxDelayMs` for company, until a batch runs alone again. Requests that queued while a batch ran go next
 * without further delay. A batch holds at most
 * `maxBatchSize` rows and runs in one `run` call; outputs are split back per request. A full queue rejects at
 * once with `QUEUE_FULL` (503 + Retry-After), a request past its deadline gets `REQUEST_TIMEOUT`, and `drain()`
 * stops intake and finishes everything already accepted. Timers are injectable so tests control time.
 */
import { InferenceError } from "../errors.js";
import { concatBatch, splitBatch, type HostTensor } from "../oip/tensors.js";

/** Tensors by name. */
export type Feeds = ReadonlyMap<string, HostTensor>;

/** Batching limits. */
export interface BatcherOptions {
  /** Most rows (axis 0 summed over requests) in one run. */
  readonly maxBatchSize: number;
  /** Longest wait, in ms, for a batch to fill after its first request arrives (0 = run at once). */
  readonly maxDelayMs: number;
  /** Most requests waiting (not yet running); more -> `QUEUE_FULL`. */
  readonly maxQueue: number;
  /** Deadline per request in ms from submission; past it -> `REQUEST_TIMEOUT`. */
  readonly timeoutMs: number;
  /** `Retry-After` hint in seconds for `QUEUE_FULL`. */
  readonly retryAfterSeconds: number;
  /** False when requests cannot be merged (fixed batch axis): each runs alone. */
  readonly batchable: boolean;
  /** Timer functions; absent means the global ones. */
  readonly timers?: Timers;
  /** Called after each run (metrics); never sees tensor contents. */
  readonly onBatch?: (stats: { rows: number; requests: number; ok: boolean }) => void;
}

/** The timer functions the batcher uses. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` at the next turn of the event loop (default: the global `setImmediate`). */
  setImmediate?(fn: () => void): void;
}

interface Item {
  readonly rows: number;
  readonly feeds: Feeds;
  readonly resolve: (out: Map<string, HostTensor>) => void;
  readonly reject: (e: unknown) => void;
  settled: boolean;
  deadline: unknown;
}

const GLOBAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A dynamic batcher in front of one `run` function (e.g. `session.run`). */
export class Batcher {
  private readonly queue: Item[] = [];
  private readonly timers: Timers;
  private delayTimer: unknown = undefined;
  private deferred = false;
  /** True once requests were seen together; false again after a batch that ran alone with nobody waiting. */
  private concurrent = false;
  private running = 0;
  private closing = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly run: (feeds: Feeds) => Promise<Map<string, HostTensor>>,
    private readonly options: BatcherOptions,
  ) {
    if (
      !(options.maxBatchSize >= 1) ||
      !(options.maxQueue >= 1) ||
      !(options.maxDelayMs >= 0) ||
      !(options.timeoutMs > 0)
    ) {
      throw new TypeError("Batcher: maxBatchSize and maxQueue must be >= 1, maxDelayMs >= 0, timeoutMs > 0");
    }
    this.timers = options.timers ?? GLOBAL_TIMERS;
  }

  /** Requests waiting to run. */
  get queued(): number {
    return this.queue.length;
  }

  /** Batches running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Queues one request of `rows` rows; resolves with its own slice of the outputs. */
  submit(rows: number, feeds: Feeds): Promise<Map<string, HostTensor>> {
    if (this.closing) return Promise.reject(new InferenceError("SHUTTING_DOWN", "the runtime is shutting down"));
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(
        new InferenceError("QUEUE_FULL", `inference queue is full (${this.options.maxQueue} requests)`, {
          retryAfterSeconds: this.options.retryAfterSeconds,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const item: Item = { rows, feeds, resolve, reject, settled: false, deadline: undefined };
      item.deadline = this.timers.setTimeout(() => this.expire(item), this.options.timeoutMs);
      this.queue.push(item);
      this.schedule();
    });
  }

  /** Stops intake (new requests -> `SHUTTING_DOWN`), runs everything queued at once, resolves when idle. */
  drain(): Promise<void> {
    this.closing = true;
    this.schedule();
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private expire(item: Item): void {
    if (item.settled) return;
    item.settled = true;
    const i = this.queue.indexOf(item);
    if (i >= 0) this.queue.splice(i, 1);
    item.reject(new InferenceError("REQUEST_TIMEOUT", `inference did not finish within ${this.options.timeoutMs} ms`));
    this.checkIdle();
  }

  private queuedRows(): number {
    return this.queue.reduce((n, it) => n + it.rows, 0);
  }

  // After a run, whatever queued meanwhile has already waited for the previous batch: run it at once.
  private schedule(afterRun = false): void {
    if (this.running > 0 || this.queue.length === 0) return this.checkIdle();
    const full = !this.options.batchable || this.queuedRows() >= this.options.maxBatchSize;
    if (full || afterRun || this.closing || this.options.maxDelayMs === 0) return this.dispatch();
    if (!this.concurrent) {
      // Serial load: nobody is coming to share the batch, so waiting would only add latency.
      if (!this.deferred) {
        this.deferred = true;
        const next = () => {
          if (!this.deferred) return;
          this.deferred = false;
          this.dispatch();
        };
        if (this.timers.setImmediate) this.timers.setImmediate(next);
        else setImmediate(next);
      }
      return;
    }
    if (this.delayTimer === undefined) {
      this.delayTimer = this.timers.setTimeout(() => {
        this.delayTimer = undefined;
        this.dispatch();
      }, this.options.maxDelayMs);
    }
  }

  private take(): Item[] {
    const batch: Item[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && (!this.options.batchable || rows + next.rows > this.options.maxBatchSize)) break;
      batch.push(this.queue.shift()!);
      rows += next.rows;
    }
    return batch;
  }

  private dispatch(): void {
    this.deferred = false;
    if (this.delayTimer !== undefined) {
      this.timers.clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    if (this.running > 0 || this.queue.length === 0) return this.checkIdle();
    const batch = this.take();
    const rows = batch.map((it) => it.rows);
    const total = rows.reduce((a, b) => a + b, 0);
    this.running++;
    let feeds: Map<string, HostTensor>;
    try {
      feeds = new Map(
        [...batch[0]!.feeds.keys()].map((name) => [name, concatBatch(batch.map((it) => it.feeds.get(name)!))]),
      );
    } catch (e) {
      this.finish(batch, total, undefined, e);
      return;
    }
    this.run(feeds).then(
      (out) => this.finish(batch, total, out, undefined),
      (e: unknown) => this.finish(batch, total, undefined, e),
    );
  }

  private finish(batch: Item[], total: number, out: Map<string, HostTensor> | undefined, error: unknown): void {
    this.running--;
    this.concurrent = batch.length > 1 || this.queue.length > 0;
    let pieces: Array<Map<string, HostTensor>> | undefined;
    if (out && batch.length === 1) pieces = [out];
    else if (out) {
      try {
        const rows = batch.map((it) => it.rows);
        const split = [...out].map(([name, t]) => [name, splitBatch(t, rows)] as const);
        pieces = batch.map((_, i) => new Map(split.map(([name, parts]) => [name, parts[i]!])));
      } catch (e) {
        error = e;
      }
    }
    // Built only on failure: an error captures a stack trace, which a successful batch has no use for.
    const failure = pieces
      ? undefined
      : error instanceof InferenceError
        ? error
        : new InferenceError("INFERENCE_FAILED", "running the model failed", { cause: error });
    batch.forEach((it, i) => {
      this.timers.clearTimeout(it.deadline);
      if (it.settled) return;
      it.settled = true;
      if (pieces) it.resolve(pieces[i]!);
      else it.reject(failure);
    });
    this.options.onBatch?.({ rows: total, requests: batch.length, ok: pieces !== undefined });
    this.schedule(true);
  }

  private checkIdle(): void {
    if (this.closing && this.running === 0 && this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }
}
