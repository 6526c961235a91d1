import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { decodeBinaryTensor, encodeBinaryTensor } from "../../runtime/inference/oip/binary.js";
import { buildApp } from "../../runtime/inference/server/app.js";
import { captureLogger, servedBundled } from "../helpers/inference.js";

/** A binary-extension body: JSON header followed by raw bytes. */
function binaryBody(header: unknown, ...blobs: Buffer[]): { payload: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    payload: Buffer.concat([json, ...blobs]),
    headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(json.length) },
  };
}

const bytesOf = (...texts: string[]) => encodeBinaryTensor({ datatype: "BYTES", shape: [texts.length], data: texts });

/** Splits a binary reply into its JSON header and raw bytes. */
function splitReply(r: { rawPayload: Buffer; headers: Record<string, unknown> }): { header: any; binary: Buffer } {
  const n = Number(r.headers["inference-header-content-length"]);
  return { header: JSON.parse(r.rawPayload.subarray(0, n).toString("utf8")), binary: r.rawPayload.subarray(n) };
}

let app: FastifyInstance;
beforeAll(async () => {
  app = buildApp({
    models: new Map([["sentiment", await servedBundled("sentiment")]]),
    isReady: () => true,
    logger: captureLogger().logger,
    server: { name: "t", version: "t" },
  });
});
afterAll(() => app.close());

describe("binary tensor data extension", () => {
  it("round-trips numbers (little-endian) and BYTES (4-byte length prefix)", () => {
    expect(encodeBinaryTensor({ datatype: "INT32", shape: [2], data: Int32Array.from([1, -2]) }).toString("hex")).toBe(
      "01000000feffffff",
    );
    expect(bytesOf("hi", "").toString("hex")).toBe("020000006869" + "00000000");
    expect(decodeBinaryTensor(Buffer.from("020000006869", "hex"), "BYTES", 1)).toEqual({ data: ["hi"] });
    expect(Array.from(decodeBinaryTensor(Buffer.from("0000803f", "hex"), "FP32", 1).data as Float32Array)).toEqual([1]);
    expect(decodeBinaryTensor(Buffer.from("0000803f", "hex"), "FP32", 2)).toEqual({
      problem: "has 4 bytes, 2 FP32 elements need 8",
    });
    expect(decodeBinaryTensor(Buffer.from("09000000aa", "hex"), "BYTES", 1)).toEqual({
      problem: "element 0: length 9 runs past the data",
    });
  });

  it("takes binary inputs and returns binary outputs when asked", async () => {
    const { payload, headers } = binaryBody(
      {
        inputs: [
          {
            name: "text",
            datatype: "BYTES",
            shape: [2],
            parameters: { binary_data_size: bytesOf("great fun", "awful").length },
          },
        ],
        outputs: [{ name: "label" }, { name: "probabilities", parameters: { binary_data: true } }],
      },
      bytesOf("great fun", "awful"),
    );
    const r = await app.inject({ method: "POST", url: "/v2/models/sentiment/infer", payload, headers });
    expect([r.statusCode, r.headers["content-type"]]).toEqual([200, "application/octet-stream"]);
    const { header, binary } = splitReply(r);
    expect(header.outputs).toEqual([
      { name: "label", datatype: "BYTES", shape: [2], data: ["positive", "negative"] },
      { name: "probabilities", datatype: "FP32", shape: [2, 2], parameters: { binary_data_size: 16 } },
    ]);
    const probs = new Float32Array(Uint8Array.from(binary).buffer);
    expect([probs.length, probs[1]! > 0.9, probs[2]! > 0.9]).toEqual([4, true, true]);
  });

  it("returns every output as binary with binary_data_output", async () => {
    const { payload, headers } = binaryBody({
      parameters: { binary_data_output: true },
      inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["nice"] }],
    });
    const r = await app.inject({ method: "POST", url: "/v2/models/sentiment/infer", payload, headers });
    const { header, binary } = splitReply(r);
    expect(header.outputs.map((o: any) => [o.name, o.parameters.binary_data_size])).toEqual([
      ["logits", 8],
      ["probabilities", 8],
      ["label", 12],
    ]);
    expect(binary.subarray(16).toString("hex")).toBe(bytesOf("positive").toString("hex"));
  });

  it.each([
    [
      "no header length",
      () => ({ payload: Buffer.from("{}"), headers: { "content-type": "application/octet-stream" } }),
      400,
      "INVALID_REQUEST",
      "inference-header-content-length: must be the byte length of the JSON header (0..2)",
    ],
    [
      "a header length past the body",
      () => ({
        payload: Buffer.from("{}"),
        headers: { "content-type": "application/octet-stream", "inference-header-content-length": "9" },
      }),
      400,
      "INVALID_REQUEST",
      "inference-header-content-length: must be the byte length of the JSON header (0..2)",
    ],
    [
      "a header that is not JSON",
      () => ({
        payload: Buffer.from("{x"),
        headers: { "content-type": "application/octet-stream", "inference-header-content-length": "2" },
      }),
      400,
      "MALFORMED_JSON",
      "body: the JSON header is not valid JSON",
    ],
    [
      "fewer bytes than announced",
      () =>
        binaryBody(
          { inputs: [{ name: "text", datatype: "BYTES", shape: [1], parameters: { binary_data_size: 50 } }] },
          bytesOf("x"),
        ),
      400,
      "DATA_SIZE_MISMATCH",
      "inputs[0].parameters.binary_data_size: 50 bytes, but only 5 remain in the body",
    ],
    [
      "trailing bytes",
      () =>
        binaryBody(
          { inputs: [{ name: "text", datatype: "BYTES", shape: [1], parameters: { binary_data_size: 5 } }] },
          bytesOf("x"),
          Buffer.from("zz"),
        ),
      400,
      "DATA_SIZE_MISMATCH",
      "body: 2 binary bytes beyond the inputs' binary_data_size",
    ],
    [
      "elements that do not match the shape",
      () =>
        binaryBody(
          { inputs: [{ name: "text", datatype: "BYTES", shape: [2], parameters: { binary_data_size: 5 } }] },
          bytesOf("x"),
        ),
      400,
      "DATA_SIZE_MISMATCH",
      "inputs[0]: binary data has 1 BYTES elements, the shape needs 2",
    ],
    [
      "both data and binary",
      () =>
        binaryBody(
          {
            inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["x"], parameters: { binary_data_size: 5 } }],
          },
          bytesOf("x"),
        ),
      400,
      "INVALID_REQUEST",
      "inputs[0]: has both data and binary_data_size",
    ],
    [
      "binary size in a JSON body",
      () => ({
        payload: Buffer.from(
          JSON.stringify({
            inputs: [{ name: "text", datatype: "BYTES", shape: [1], parameters: { binary_data_size: 5 } }],
          }),
        ),
        headers: { "content-type": "application/json" },
      }),
      400,
      "INVALID_REQUEST",
      "2 problems: inputs[0].parameters.binary_data_size: binary data needs a binary body (Inference-Header-Content-Length); inputs[0].data: must be an array",
    ],
    [
      "a negative size",
      () =>
        binaryBody({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], parameters: { binary_data_size: -1 } }] }),
      400,
      "INVALID_REQUEST",
      "2 problems: inputs[0].parameters.binary_data_size: must be a non-negative integer; inputs[0].data: must be an array",
    ],
  ])("rejects %s", async (_case, body, status, code, error) => {
    const r = await app.inject({ method: "POST", url: "/v2/models/sentiment/infer", ...body() });
    expect([r.statusCode, r.json()]).toEqual([status, { error, code }]);
  });
});
