import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../runtime/inference/server/app.js";
import type { ModelEntry } from "../../runtime/inference/server/routes.js";
import { captureLogger, servedBundled } from "../helpers/inference.js";

let app: FastifyInstance;
let ready = false;
const models = new Map<string, ModelEntry>();
const { logger, lines } = captureLogger("inference");

beforeAll(async () => {
  models.set("sentiment", await servedBundled("sentiment", { maxBatchSize: 4 }));
  app = buildApp({
    models,
    isReady: () => ready,
    logger,
    server: { name: "ci-inference", version: "test" },
    bodyLimit: 64 * 1024,
  });
  await app.ready();
});
afterAll(() => app.close());

const infer = (payload: unknown, model = "sentiment", headers: Record<string, string> = {}) =>
  app.inject({
    method: "POST",
    url: `/v2/models/${model}/infer`,
    payload: typeof payload === "string" ? payload : JSON.stringify(payload),
    headers: { "content-type": "application/json", ...headers },
  });

const text = (data: unknown[], shape: number[] = [data.length]) => ({
  inputs: [{ name: "text", datatype: "BYTES", shape, data }],
});

describe("inference server (OIP v2 over inject)", () => {
  it("is live at once but not ready before boot completes", async () => {
    expect((await app.inject("/v2/health/live")).json()).toEqual({ live: true });
    const r = await app.inject("/v2/health/ready");
    expect([r.statusCode, r.json()]).toEqual([503, { ready: false }]);
    const m = await app.inject("/v2/models/sentiment/ready");
    expect([m.statusCode, m.json()]).toEqual([503, { name: "sentiment", ready: false }]);
    const i = await infer(text(["hello"]));
    expect([i.statusCode, i.json(), i.headers["retry-after"]]).toEqual([
      503,
      { error: "the model is not ready", code: "MODEL_NOT_READY" },
      "1",
    ]);
    ready = true;
    expect((await app.inject("/v2/health/ready")).statusCode).toBe(200);
  });

  it("reports model metadata with the served model digest", async () => {
    const r = await app.inject("/v2/models/sentiment");
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      name: "sentiment",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "text", datatype: "BYTES", shape: [-1] }],
      outputs: [
        { name: "logits", datatype: "FP32", shape: [-1, 2] },
        { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
        { name: "label", datatype: "BYTES", shape: [-1] },
      ],
      parameters: {
        model_sha256: "5f18545ee98f109e3c4daafb0040172cdcd13138dc577ab67ba82ae6672530bf",
        max_batch_size: 4,
        max_tokens: 64,
        labels: ["negative", "positive"],
      },
    });
    expect((await app.inject("/v2/models/sentiment/versions/1")).statusCode).toBe(200);
    expect((await app.inject("/v2")).json()).toEqual({ name: "ci-inference", version: "test", extensions: [] });
  });

  it("classifies text and returns only the requested outputs, echoing the request id", async () => {
    const r = await infer({
      id: "req-1",
      ...text(["what a wonderful, amazing day", "awful and boring"]),
      outputs: [{ name: "label" }, { name: "probabilities" }],
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.model_name).toBe("sentiment");
    expect(body.model_version).toBe("1");
    expect(body.id).toBe("req-1");
    expect(body.outputs[0]).toEqual({ name: "label", datatype: "BYTES", shape: [2], data: ["positive", "negative"] });
    expect(body.outputs[1].shape).toEqual([2, 2]);
    expect(r.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("serves the versioned infer path", async () => {
    const r = await app.inject({
      method: "POST",
      url: "/v2/models/sentiment/versions/1/infer",
      payload: text(["good", "bad"]),
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().outputs[2].data).toEqual(["positive", "negative"]);
  });

  it.each([
    ["malformed JSON", '{"inputs": [', 400, "MALFORMED_JSON", "body: not valid JSON"],
    ["empty body", "", 400, "MALFORMED_JSON", "body: not valid JSON"],
    ["not an object", "[1,2]", 400, "INVALID_REQUEST", "body: must be object"],
    ["no inputs", { outputs: [] }, 400, "INVALID_REQUEST", "body: must have required property 'inputs'"],
    ["empty inputs", { inputs: [] }, 400, "INVALID_REQUEST", "body.inputs: must NOT have fewer than 1 items"],
    [
      "unknown input",
      { inputs: [{ name: "prompt", datatype: "BYTES", shape: [1], data: ["x"] }] },
      400,
      "UNKNOWN_INPUT",
      "inputs[0].name: not an input of model sentiment (inputs: text)",
    ],
    [
      "wrong datatype",
      { inputs: [{ name: "text", datatype: "FP32", shape: [1], data: [1] }] },
      400,
      "DATATYPE_MISMATCH",
      "inputs[0].datatype: input text takes BYTES",
    ],
    [
      "unknown datatype",
      { inputs: [{ name: "text", datatype: "STRING", shape: [1], data: ["x"] }] },
      400,
      "INVALID_REQUEST",
      "inputs[0].datatype: must be one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES",
    ],
    [
      "wrong rank",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [1, 1], data: ["x"] }] },
      400,
      "SHAPE_MISMATCH",
      "inputs[0].shape: input text takes shape [-1] (-1 = any), got rank 2 [1, 1]",
    ],
    [
      "zero batch",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [0], data: [] }] },
      400,
      "SHAPE_MISMATCH",
      "inputs[0].shape[0]: batch size must be at least 1",
    ],
    [
      "negative dim",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [-1], data: ["x"] }] },
      400,
      "INVALID_REQUEST",
      "body.inputs.0.shape.0: must be >= 0",
    ],
    [
      "data size",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: ["x"] }] },
      400,
      "DATA_SIZE_MISMATCH",
      "inputs[0].data: has 1 elements, shape [2] needs 2",
    ],
    [
      "element type",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: ["x", 7] }] },
      400,
      "DATATYPE_MISMATCH",
      "inputs[0].data[1]: expected a string (BYTES)",
    ],
    [
      "too deep",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [["x"]] }] },
      400,
      "DATA_SIZE_MISMATCH",
      "inputs[0].data: nested deeper than the shape's rank 1",
    ],
    [
      "duplicate input",
      {
        inputs: [
          { name: "text", datatype: "BYTES", shape: [1], data: ["x"] },
          { name: "text", datatype: "BYTES", shape: [1], data: ["y"] },
        ],
      },
      400,
      "INVALID_REQUEST",
      "inputs[1].name: input text given twice",
    ],
    [
      "unknown output",
      { ...text(["x"]), outputs: [{ name: "hidden" }] },
      400,
      "UNKNOWN_OUTPUT",
      "outputs[0].name: not an output of model sentiment (outputs: logits, probabilities, label)",
    ],
    [
      "batch too large",
      text(["a", "b", "c", "d", "e"]),
      400,
      "BATCH_TOO_LARGE",
      "inputs[0].shape[0]: batch size 5 exceeds the limit 4",
    ],
    ["too many tokens", text(["the ".repeat(70)]), 400, "TOO_MANY_TOKENS", "input text.data[0]: 72 tokens, limit 64"],
    [
      "several problems",
      { id: 5, inputs: [{ name: "text", datatype: "FP32", shape: [2], data: [1] }] },
      400,
      "INVALID_REQUEST",
      "body.id: must be string",
    ],
    [
      "two problems at once",
      { inputs: [{ name: "text", datatype: "BYTES", shape: [1, 2, 3], data: 5 }] },
      400,
      "INVALID_REQUEST",
      "body.inputs.0.data: must be array",
    ],
  ])("rejects %s", async (_case, payload, status, code, message) => {
    const r = await infer(payload);
    expect([r.statusCode, r.json()]).toEqual([status, { error: message, code }]);
  });

  it("reports every problem of a request at once", async () => {
    const r = await infer({
      inputs: [{ name: "text", datatype: "FP32", shape: [1, 1], data: [1] }],
      outputs: [{ name: "nope" }],
    });
    expect(r.json()).toEqual({
      code: "DATATYPE_MISMATCH",
      error:
        "3 problems: inputs[0].datatype: input text takes BYTES; inputs[0].shape: input text takes shape [-1] (-1 = any), got rank 2 [1, 1]; outputs[0].name: not an output of model sentiment (outputs: logits, probabilities, label)",
    });
  });

  it.each([
    [
      "unknown model",
      () => infer(text(["x"]), "nope"),
      404,
      "MODEL_NOT_FOUND",
      "no such model (or version) on this server",
    ],
    [
      "unknown version",
      () => app.inject({ method: "POST", url: "/v2/models/sentiment/versions/9/infer", payload: text(["x"]) }),
      404,
      "MODEL_NOT_FOUND",
      "no such model (or version) on this server",
    ],
    ["unknown route", () => app.inject("/v3/models"), 404, "ROUTE_NOT_FOUND", "no such route"],
    ["oversize body", () => infer(text(["x".repeat(70 * 1024)])), 413, "BODY_TOO_LARGE", "body: larger than the limit"],
    [
      "wrong media type",
      () =>
        app.inject({
          method: "POST",
          url: "/v2/models/sentiment/infer",
          payload: "hello",
          headers: { "content-type": "text/plain" },
        }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "content-type: must be application/json (or application/octet-stream with Inference-Header-Content-Length)",
    ],
  ])("rejects %s", async (_case, send, status, code, message) => {
    const r = await send();
    expect([r.statusCode, r.json()]).toEqual([status, { error: message, code }]);
  });

  it("logs one metadata line per request (no bodies, no headers)", async () => {
    lines.length = 0;
    await infer(text(["fine"]), "sentiment", { "x-request-id": "trace-42", authorization: "Bearer top-secret" });
    const entries = lines.map((l) => JSON.parse(l));
    expect(entries).toHaveLength(1);
    const { time: _t, ms, responseBytes, ...rest } = entries[0];
    expect(typeof ms).toBe("number");
    expect(responseBytes).toBeGreaterThan(100);
    expect(rest).toEqual({
      level: 30,
      service: "inference",
      reqId: "trace-42",
      method: "POST",
      route: "/v2/models/:model/infer",
      model: "sentiment",
      rows: 1,
      status: 200,
      code: "OK",
      requestBytes: 75,
      msg: "request",
    });
    expect(lines.join("\n")).not.toContain("top-secret");
  });
});
