import { describe, expect, it } from "vitest";
import { Batcher, type BatcherOptions, type Feeds, type Timers } from "../../runtime/inference/batching/batcher.js";
import { InferenceError } from "../../runtime/inference/errors.js";
import type { HostTensor } from "../../runtime/inference/oip/tensors.js";

/** Manual clock: timers fire only when the test advances time (a turn of the event loop passes first). */
class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  private immediate: Array<() => void> = [];
  setImmediate(fn: () => void): void {
    this.immediate.push(fn);
  }
  /** One turn of the event loop: runs what was deferred to it. */
  tick(): void {
    const due = this.immediate;
    this.immediate = [];
    due.forEach((fn) => fn());
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  advance(ms: number): void {
    this.tick();
    this.now += ms;
    for (const [id, t] of [...this.pending].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now && this.pending.delete(id)) t.fn();
    }
  }
}

const rows = (...values: number[]): Feeds =>
  new Map<string, HostTensor>([
    ["x", { datatype: "FP32", shape: [values.length, 1], data: Float32Array.from(values) }],
  ]);
const values = (out: Map<string, HostTensor>) => Array.from(out.get("y")!.data as Float32Array);

/** A run function that records batches and completes when the test says so. */
function controlledRun() {
  const batches: number[][] = [];
  const finishers: Array<(fail?: unknown) => void> = [];
  const run = (feeds: Feeds) => {
    const x = Array.from(feeds.get("x")!.data as Float32Array);
    batches.push(x);
    return new Promise<Map<string, HostTensor>>((resolve, reject) => {
      finishers.push((fail) =>
        fail
          ? reject(fail)
          : resolve(
              new Map([["y", { datatype: "FP32", shape: [x.length, 1], data: Float32Array.from(x, (v) => v * 10) }]]),
            ),
      );
    });
  };
  return { run, batches, finish: (fail?: unknown) => finishers.shift()!(fail) };
}

const flush = () => new Promise((r) => setImmediate(r));

function setup(over: Partial<BatcherOptions> = {}) {
  const timers = new ManualTimers();
  const c = controlledRun();
  const b = new Batcher(c.run, {
    maxBatchSize: 4,
    maxDelayMs: 5,
    maxQueue: 3,
    timeoutMs: 100,
    retryAfterSeconds: 2,
    batchable: true,
    timers,
    ...over,
  });
  return { timers, b, ...c };
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (v) => ({ ok: v }),
    (e: InferenceError) => ({ code: e.code, retry: e.retryAfterSeconds }),
  );

describe("dynamic batcher", () => {
  it("under serial load runs at the next turn of the event loop, with whatever arrived in that turn", async () => {
    const { timers, b, batches, finish } = setup();
    const p1 = b.submit(1, rows(1));
    const p2 = b.submit(2, rows(2, 3));
    expect(batches).toEqual([]);
    timers.tick();
    expect(batches).toEqual([[1, 2, 3]]);
    expect(timers.now).toBe(0);
    finish();
    expect([values(await p1), values(await p2)]).toEqual([[10], [20, 30]]);
  });

  it("once requests came together, waits up to maxDelayMs for company, until a batch runs alone again", async () => {
    const { timers, b, batches, finish } = setup({ maxQueue: 10 });
    const first = b.submit(1, rows(1));
    timers.tick();
    const queued = [b.submit(1, rows(2)), b.submit(1, rows(3))];
    finish();
    await flush();
    expect(batches).toEqual([[1], [2, 3]]);
    finish();
    await Promise.all([first, ...queued]);
    const p = [b.submit(1, rows(4)), b.submit(2, rows(5, 6))];
    timers.advance(4);
    expect(batches.length).toBe(2);
    timers.advance(1);
    expect(batches[2]).toEqual([4, 5, 6]);
    finish();
    expect((await Promise.all(p)).map(values)).toEqual([[40], [50, 60]]);
    const alone = b.submit(1, rows(7));
    timers.advance(5);
    expect(batches[3]).toEqual([7]);
    finish();
    await alone;
    const next = b.submit(1, rows(8));
    timers.tick();
    expect(batches[4]).toEqual([8]);
    expect(timers.now).toBe(10);
    finish();
    expect(values(await next)).toEqual([80]);
  });

  it("runs at once when a batch is full, and keeps a request that does not fit for the next batch", async () => {
    const { b, batches, finish, timers } = setup({ maxQueue: 10 });
    const p = [b.submit(3, rows(1, 2, 3)), b.submit(2, rows(4, 5))];
    expect(batches).toEqual([[1, 2, 3]]);
    finish();
    await flush();
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    finish();
    expect((await Promise.all(p)).map(values)).toEqual([
      [10, 20, 30],
      [40, 50],
    ]);
    expect(timers.now).toBe(0);
  });

  it("rejects with QUEUE_FULL (and a retry hint) when maxQueue requests are waiting", async () => {
    const { b, batches } = setup({ maxBatchSize: 1 });
    const running = b.submit(1, rows(0));
    expect(batches).toEqual([[0]]);
    const queued = [b.submit(1, rows(1)), b.submit(1, rows(2)), b.submit(1, rows(3))];
    expect(b.queued).toBe(3);
    expect(await settle(b.submit(1, rows(4)))).toEqual({ code: "QUEUE_FULL", retry: 2 });
    void running;
    void queued;
  });

  it("times out a queued request (removing it) and a running one (discarding its result)", async () => {
    const { b, timers, batches, finish } = setup({ maxBatchSize: 1, timeoutMs: 50 });
    const running = settle(b.submit(1, rows(1)));
    timers.advance(10);
    const queued = settle(b.submit(1, rows(2)));
    timers.advance(40);
    expect(await running).toEqual({ code: "REQUEST_TIMEOUT", retry: undefined });
    finish();
    await flush();
    expect(batches).toEqual([[1], [2]]);
    timers.advance(10);
    expect(await queued).toEqual({ code: "REQUEST_TIMEOUT", retry: undefined });
    const late = settle(b.submit(1, rows(3)));
    timers.advance(60);
    expect(await late).toEqual({ code: "REQUEST_TIMEOUT", retry: undefined });
    expect(b.queued).toBe(0);
  });

  it("fails every request of a batch whose run fails, with INFERENCE_FAILED or the run's own code", async () => {
    const { b, timers, finish } = setup();
    const p = [settle(b.submit(1, rows(1))), settle(b.submit(1, rows(2)))];
    timers.advance(5);
    finish(new Error("onnxruntime exploded"));
    expect(await Promise.all(p)).toEqual([
      { code: "INFERENCE_FAILED", retry: undefined },
      { code: "INFERENCE_FAILED", retry: undefined },
    ]);
    const q = settle(b.submit(1, rows(3)));
    timers.advance(5);
    finish(new InferenceError("REQUEST_TIMEOUT", "x"));
    expect(await q).toEqual({ code: "REQUEST_TIMEOUT", retry: undefined });
  });

  it("runs requests one by one when the model cannot batch", async () => {
    const { b, batches, finish } = setup({ batchable: false, maxDelayMs: 0 });
    const p = [b.submit(1, rows(1)), b.submit(1, rows(2))];
    finish();
    await flush();
    finish();
    await Promise.all(p);
    expect(batches).toEqual([[1], [2]]);
  });

  it("drains: refuses new requests, runs queued ones without waiting, resolves when idle", async () => {
    const { b, batches, finish } = setup({ maxBatchSize: 1 });
    const inFlight = b.submit(1, rows(1));
    const queued = b.submit(1, rows(2));
    let drained = false;
    const draining = b.drain().then(() => (drained = true));
    expect(await settle(b.submit(1, rows(3)))).toEqual({ code: "SHUTTING_DOWN", retry: undefined });
    finish();
    await flush();
    expect([batches, drained]).toEqual([[[1], [2]], false]);
    finish();
    await draining;
    expect([values(await inFlight), values(await queued), drained]).toEqual([[10], [20], true]);
  });

  it("rejects impossible options with TypeError", () => {
    expect(
      () =>
        new Batcher(async () => new Map(), {
          maxBatchSize: 0,
          maxDelayMs: 0,
          maxQueue: 1,
          timeoutMs: 1,
          retryAfterSeconds: 1,
          batchable: true,
        }),
    ).toThrow(TypeError);
  });
});
