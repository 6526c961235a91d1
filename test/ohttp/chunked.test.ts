import { describe, expect, it } from "vitest";
import {
  BhttpDecoder,
  ChunkedRequestDecoder,
  ChunkedRequestEncoder,
  decodeKeyConfig,
  encodeBhttpContentChunk,
  encodeBhttpEnd,
  encodeBhttpResponseHead,
  generateServerKey,
  importServerKey,
  openStream,
  sealStream,
  setupBaseSender,
} from "../../runtime/ohttp/index.js";
import { errorOf, hex, toHex } from "./helpers.js";
import { CHUNKED } from "./ohttp-vectors.js";

const AES128 = [
  { kdfId: 1, aeadId: 1 },
  { kdfId: 1, aeadId: 3 },
];
const utf8 = (s: string) => new TextEncoder().encode(s);

async function draftExchange() {
  const key = await importServerKey({ keyId: 1, secretKey: hex(CHUNKED.serverSecretKey), symmetricAlgorithms: AES128 });
  const encoder = await ChunkedRequestEncoder.create(decodeKeyConfig(hex(CHUNKED.keyConfig)), {
    unsafeEphemeralKey: { secretKey: hex(CHUNKED.ephemeralSecretKey) },
  });
  return { key, encoder };
}

describe("draft-ietf-ohai-chunked-ohttp-08 appendix A", () => {
  it("the client seals the request in chunks of 12, 13 and 0 bytes to the draft's bytes", async () => {
    const { key, encoder } = await draftExchange();
    expect(toHex(key.config.publicKey)).toBe(CHUNKED.keyConfig.slice(6, 70));
    const request = hex(CHUNKED.request);
    const out = [
      encoder.header,
      await encoder.push(request.subarray(0, 12)),
      await encoder.push(request.subarray(12)),
      await encoder.finish(),
    ].map(toHex);
    expect(out).toEqual([
      CHUNKED.encapsulatedRequest[0] + CHUNKED.encapsulatedRequest[1],
      ...CHUNKED.encapsulatedRequest.slice(2),
    ]);
  });

  it("the gateway opens the request chunk by chunk and seals the response to the draft's bytes", async () => {
    const { key } = await draftExchange();
    const decoder = new ChunkedRequestDecoder([key]);
    const wire = hex(CHUNKED.encapsulatedRequest.join(""));
    const first = await decoder.push(wire.subarray(0, 40)); // header and one byte of enc's end: nothing yet
    const rest = await decoder.push(wire.subarray(40));
    const last = await decoder.finish();
    expect([first.length, ...rest.map(toHex), toHex(last)]).toEqual([
      0,
      CHUNKED.request.slice(0, 24),
      CHUNKED.request.slice(24),
      "",
    ]);
    expect([decoder.keyId, toHex(decoder.enc!)]).toEqual([1, CHUNKED.ephemeralPublicKey]);

    const response = await decoder.createResponseEncoder({ unsafeResponseNonce: hex(CHUNKED.responseNonce) });
    const res = hex(CHUNKED.response);
    const out = [
      response.header,
      await response.push(res.subarray(0, 1)),
      await response.push(res.subarray(1)),
      await response.finish(),
    ];
    expect(out.map(toHex)).toEqual(CHUNKED.encapsulatedResponse);
  });

  it("the client opens the draft's response (fed byte by byte)", async () => {
    const { encoder } = await draftExchange();
    const decoder = encoder.createResponseDecoder();
    const wire = hex(CHUNKED.encapsulatedResponse.join(""));
    const got: Uint8Array[] = [];
    for (const b of wire) got.push(...(await decoder.push(Uint8Array.of(b))));
    got.push(await decoder.finish());
    expect(got.map(toHex)).toEqual(["01", "40c8", ""]);
  });
});

describe("streaming end to end", () => {
  it("a token stream in an indeterminate-length BHTTP response stays incremental through both ends", async () => {
    const key = await generateServerKey({ keyId: 3 });
    const client = await ChunkedRequestEncoder.create(key.config);
    const gateway = new ChunkedRequestDecoder(key);
    const requestWire: Uint8Array[] = [];
    for await (const bytes of sealStream(client, [utf8("POST /v1/generate"), utf8(" marker-42")]))
      requestWire.push(bytes);
    const requestPlain: string[] = [];
    for await (const pt of openStream(gateway, requestWire)) requestPlain.push(Buffer.from(pt).toString());
    expect(requestPlain).toEqual(["POST /v1/generate", " marker-42"]);

    async function* tokens() {
      yield encodeBhttpResponseHead({ status: 200, headers: [{ name: "content-type", value: "text/event-stream" }] });
      for (const t of ["Hello", ",", " world"]) yield encodeBhttpContentChunk(utf8(t));
      yield encodeBhttpEnd();
    }
    const responseWire: Uint8Array[] = [];
    for await (const bytes of sealStream(await gateway.createResponseEncoder(), tokens())) responseWire.push(bytes);
    expect(responseWire.length).toBe(1 + 5 + 1); // nonce, one chunk per item, empty final chunk

    const bhttp = new BhttpDecoder({ expect: "response" });
    const seen: string[] = [];
    for await (const pt of openStream(client.createResponseDecoder(), responseWire)) {
      for (const e of bhttp.push(pt)) seen.push(e.type === "content" ? Buffer.from(e.data).toString() : e.type);
    }
    bhttp.end();
    expect(seen).toEqual(["response-head", "Hello", ",", " world", "trailers"]);
  });

  it("push splits plaintext larger than chunkSize; finish may carry data", async () => {
    const key = await generateServerKey({ keyId: 3 });
    const client = await ChunkedRequestEncoder.create(key.config, { chunkSize: 4 });
    const gateway = new ChunkedRequestDecoder(key);
    const wire = [client.header, await client.push(utf8("0123456789")), await client.finish(utf8("abcdef"))];
    const opened = [...(await gateway.push(Buffer.concat(wire))), await gateway.finish()].map((b) =>
      Buffer.from(b).toString(),
    );
    expect(opened).toEqual(["0123", "4567", "89", "abcd", "ef"]);
  });
});

describe("chunked failures each have their own code", () => {
  async function sealed() {
    const key = await generateServerKey({ keyId: 9 });
    const client = await ChunkedRequestEncoder.create(key.config);
    const chunks = [
      client.header,
      await client.push(utf8("one")),
      await client.push(utf8("two")),
      await client.finish(utf8("end")),
    ];
    return { key, client, chunks };
  }
  async function open(key: Awaited<ReturnType<typeof sealed>>["key"], parts: readonly Uint8Array[], limits = {}) {
    const d = new ChunkedRequestDecoder(key, limits);
    for (const p of parts) await d.push(p);
    return d.finish();
  }
  const flipLast = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === b.length - 1 ? x ^ 1 : x));

  it.each([
    [
      "a stream cut inside a chunk (truncation)",
      (c: Uint8Array[]) => [c[0]!, c[1]!, c[2]!.subarray(0, 5)],
      "CHUNK_TRUNCATED",
      "request.chunk[1]",
    ],
    [
      "a stream without its final chunk",
      (c: Uint8Array[]) => [c[0]!, c[1]!, c[2]!],
      "CHUNK_FINAL_MISSING",
      "request.chunk[2]",
    ],
    ["reordered chunks", (c: Uint8Array[]) => [c[0]!, c[2]!, c[1]!, c[3]!], "OHTTP_DECRYPT_FAILED", "request.chunk[0]"],
    [
      "a tampered chunk",
      (c: Uint8Array[]) => [c[0]!, flipLast(c[1]!), c[2]!, c[3]!],
      "OHTTP_DECRYPT_FAILED",
      "request.chunk[0]",
    ],
    [
      "a non-final chunk marked final (truncated at a boundary)",
      (c: Uint8Array[]) => [c[0]!, c[1]!, Uint8Array.from([0, ...c[2]!.subarray(1)])],
      "OHTTP_DECRYPT_FAILED",
      "request.chunk[1]",
    ],
    [
      "a chunk shorter than the AEAD tag",
      (c: Uint8Array[]) => [c[0]!, Uint8Array.of(3, 1, 2, 3)],
      "CHUNK_MALFORMED",
      "request.chunk[0]",
    ],
    ["a stream cut inside the header", (c: Uint8Array[]) => [c[0]!.subarray(0, 20)], "CHUNK_TRUNCATED", "request"],
  ])("%s", async (_label, mutate, code, path) => {
    const { key, chunks } = await sealed();
    expect(await errorOf(() => open(key, mutate(chunks)))).toEqual({ code, path });
  });

  it("chunks over maxChunkBytes and totals over maxBytes are MESSAGE_TOO_LARGE", async () => {
    const { key, chunks } = await sealed();
    expect(await errorOf(() => open(key, chunks, { maxChunkBytes: 2 }))).toEqual({
      code: "MESSAGE_TOO_LARGE",
      path: "request.chunk[0]",
    });
    expect(await errorOf(() => open(key, chunks, { maxBytes: 8 }))).toEqual({
      code: "MESSAGE_TOO_LARGE",
      path: "request",
    });
  });

  it("an empty non-final chunk is a decryption failure (draft section 6)", async () => {
    // The encoder never emits one (an empty push gives empty output), so seal it with a raw HPKE
    // context set up exactly as the draft's example client (same ephemeral key and info).
    const { key, encoder } = await draftExchange();
    expect(await encoder.push(new Uint8Array(0))).toEqual(new Uint8Array(0));
    const raw = await setupBaseSender({ kemId: 0x20, kdfId: 1, aeadId: 1 }, key.config.publicKey, hex(CHUNKED.info), {
      secretKey: hex(CHUNKED.ephemeralSecretKey),
    });
    const emptyChunk = await raw.seal(new Uint8Array(0), new Uint8Array(0));
    const wire = Buffer.concat([encoder.header, Uint8Array.of(emptyChunk.length), emptyChunk]);
    await expect(new ChunkedRequestDecoder(key).push(wire)).rejects.toThrow(
      "request.chunk[0]: empty non-final chunk (draft section 6)",
    );
    expect(await errorOf(() => new ChunkedRequestDecoder(key).push(wire))).toEqual({
      code: "OHTTP_DECRYPT_FAILED",
      path: "request.chunk[0]",
    });
  });

  it("the response side: truncation, missing final, tamper and reorder", async () => {
    const key = await generateServerKey({ keyId: 9 });
    const client = await ChunkedRequestEncoder.create(key.config);
    const gateway = new ChunkedRequestDecoder(key);
    await gateway.push(client.header);
    const enc = await gateway.createResponseEncoder();
    const parts = [enc.header, await enc.push(utf8("a")), await enc.push(utf8("b")), await enc.finish()];
    const run = async (wire: Uint8Array[]) => {
      const d = client.createResponseDecoder();
      for (const w of wire) await d.push(w);
      return d.finish();
    };
    const results = [
      await errorOf(() => run([parts[0]!, parts[1]!, parts[2]!.subarray(0, 3)])),
      await errorOf(() => run([parts[0]!, parts[1]!, parts[2]!])),
      await errorOf(() => run([parts[0]!, parts[2]!, parts[1]!, parts[3]!])),
      await errorOf(() => run([parts[0]!, flipLast(parts[1]!), parts[2]!, parts[3]!])),
      await errorOf(() => run([parts[0]!.subarray(0, 10)])),
    ];
    expect(results).toEqual([
      { code: "CHUNK_TRUNCATED", path: "response.chunk[1]" },
      { code: "CHUNK_FINAL_MISSING", path: "response.chunk[2]" },
      { code: "OHTTP_DECRYPT_FAILED", path: "response.chunk[0]" },
      { code: "OHTTP_DECRYPT_FAILED", path: "response.chunk[0]" },
      { code: "CHUNK_TRUNCATED", path: "response.nonce" },
    ]);
  });

  it("after a failure the decoder stays failed, and nothing may follow finish", async () => {
    const { key, client, chunks } = await sealed();
    const d = new ChunkedRequestDecoder(key);
    await d.push(chunks[0]!);
    await expect(d.push(flipLast(chunks[1]!))).rejects.toMatchObject({ code: "OHTTP_DECRYPT_FAILED" });
    await expect(d.push(chunks[2]!)).rejects.toMatchObject({ code: "OHTTP_DECRYPT_FAILED", path: "request.chunk[0]" });
    await expect(client.push(utf8("late"))).rejects.toThrow(new TypeError("chunked stream: already finished"));
  });
});
