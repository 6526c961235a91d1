import { describe, expect, it } from "vitest";
import { Batcher, type Timers } from "../../runtime/inference/batching/batcher.js";
import { createServedModel } from "../../runtime/inference/model/served.js";
import type { ModelSession } from "../../runtime/inference/model/session.js";
import type { HostTensor } from "../../runtime/inference/oip/tensors.js";
import { startRuntime } from "../../runtime/inference/runtime.js";
import { buildApp } from "../../runtime/inference/server/app.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import { createTestPki, fakeKeyRelease, httpsJson, sealBundled } from "../helpers/runtime.js";

/** A session whose runs finish only when the test releases them; `started` resolves on each run. */
function heldSession() {
  const waiting: Array<() => void> = [];
  let notify: () => void = () => {};
  const session: ModelSession & { release(): Promise<void> } = {
    inputs: [
      { name: "input_ids", datatype: "INT64", shape: [-1, 64] },
      { name: "attention_mask", datatype: "INT64", shape: [-1, 64] },
    ],
    outputs: [{ name: "logits", datatype: "FP32", shape: [-1, 2] }],
    run: (feeds) =>
      new Promise((resolve) => {
        const n = feeds.get("input_ids")!.shape[0]!;
        waiting.push(() =>
          resolve(
            new Map<string, HostTensor>([
              ["logits", { datatype: "FP32", shape: [n, 2], data: new Float32Array(n * 2).fill(0.5) }],
            ]),
          ),
        );
        notify();
      }),
    release: async () => {},
  };
  return {
    session,
    started: () => new Promise<void>((r) => (waiting.length > 0 ? r() : (notify = r))),
    finishOne: () => waiting.shift()!(),
  };
}

const manualTimers = () => {
  const fns = new Map<number, () => void>();
  let id = 0;
  const timers: Timers = {
    setTimeout: (fn) => (fns.set(++id, fn), id),
    clearTimeout: (h) => void fns.delete(h as number),
  };
  return { timers, fireAll: () => [...fns].forEach(([k, fn]) => fns.delete(k) && fn()) };
};

const body = { inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["hello"] }] };
const tokenizer = {
  sequenceLength: 64,
  tokenize: () => [],
  encodeBatch: (texts: readonly string[]) => ({
    rows: texts.length,
    sequenceLength: 64,
    inputIds: new BigInt64Array(texts.length * 64),
    attentionMask: new BigInt64Array(texts.length * 64),
    tokenTypeIds: new BigInt64Array(texts.length * 64),
  }),
};

function appWith(session: ModelSession, timers?: Timers) {
  const model = createServedModel({
    config: { name: "m", text: {} },
    session,
    sha256: "0".repeat(64),
    maxBatchSize: 1,
    tokenizer,
  });
  const batcher = new Batcher((f) => session.run(f), {
    maxBatchSize: 1,
    maxDelayMs: 0,
    maxQueue: 1,
    timeoutMs: 1000,
    retryAfterSeconds: 2,
    batchable: true,
    ...(timers ? { timers } : {}),
  });
  return buildApp({
    models: new Map([["m", { model, batcher }]]),
    isReady: () => true,
    logger: captureLogger().logger,
    server: { name: "t", version: "t" },
  });
}

const post = (app: ReturnType<typeof appWith>) =>
  app.inject({ method: "POST", url: "/v2/models/m/infer", payload: body });

describe("backpressure, timeouts and shutdown over HTTP", () => {
  it("answers 503 QUEUE_FULL with Retry-After when the queue is full, and serves the accepted requests", async () => {
    const h = heldSession();
    const app = appWith(h.session);
    const first = post(app);
    await h.started();
    const second = post(app);
    await new Promise((r) => setImmediate(r));
    const third = await post(app);
    expect([third.statusCode, third.headers["retry-after"], third.json()]).toEqual([
      503,
      "2",
      { error: "inference queue is full (1 requests)", code: "QUEUE_FULL" },
    ]);
    h.finishOne();
    await h.started();
    h.finishOne();
    expect([(await first).statusCode, (await second).statusCode]).toEqual([200, 200]);
    await app.close();
  });

  it("answers 504 REQUEST_TIMEOUT when a request passes its deadline", async () => {
    const h = heldSession();
    const t = manualTimers();
    const app = appWith(h.session, t.timers);
    const r = post(app);
    await h.started();
    t.fireAll();
    expect([(await r).statusCode, (await r).json()]).toEqual([
      504,
      { error: "inference did not finish within 1000 ms", code: "REQUEST_TIMEOUT" },
    ]);
    h.finishOne();
    await app.close();
  });

  it("drains on stop(): the in-flight request completes, new connections are refused, sessions are released", async () => {
    const pki = createTestPki();
    const sealed = await sealBundled(["sentiment"]);
    const h = heldSession();
    let released = 0;
    const rt = await startRuntime({
      artifacts: sealed.artifacts,
      keyRelease: fakeKeyRelease(pki, sealed.keys),
      signerKey: sealed.signerKey,
      batching: TEST_BATCHING,
      logger: captureLogger().logger,
      gatewayCa: pki.gateway.cert,
      listen: { host: "127.0.0.1", port: 0 },
      ops: { host: "127.0.0.1", port: 0 },
      createSession: async () => ({ ...h.session, release: async () => void released++ }),
    });
    const tls = { port: rt.port, ca: pki.broker.cert, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key };
    const inFlight = httpsJson({ ...tls, path: "/v2/models/sentiment/infer", body });
    await h.started();
    const stopping = rt.stop();
    expect(rt.phase()).toBe("draining");
    const refused = await httpsJson({ ...tls, path: "/v2/health/ready" }).then(
      () => "served",
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).toBe("ECONNREFUSED");
    h.finishOne();
    const done = await inFlight;
    expect([done.status, done.body.outputs.map((o: { name: string }) => o.name)]).toEqual([200, ["logits", "label"]]);
    await stopping;
    expect([rt.phase(), released]).toEqual(["stopped", 1]);
  });
});
