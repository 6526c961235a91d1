import { describe, expect, it } from "vitest";
import {
  BhttpDecoder,
  type BhttpEvent,
  decodeBhttpRequest,
  decodeBhttpResponse,
  decodeVarint,
  encodeBhttpContentChunk,
  encodeBhttpEnd,
  encodeBhttpRequest,
  encodeBhttpResponse,
  encodeBhttpResponseHead,
  encodeVarint,
} from "../../runtime/ohttp/index.js";
import { errorOf, hex, toHex } from "./helpers.js";
import {
  CHUNKED_RESPONSE,
  INDETERMINATE_REQUEST,
  INDETERMINATE_RESPONSE,
  KNOWN_LENGTH_REQUEST,
  KNOWN_LENGTH_RESPONSE,
  SAMPLE_REQUEST,
  SAMPLE_RESPONSE,
} from "./rfc9292-vectors.js";

describe("QUIC varints (RFC 9000 section 16, its appendix A.1 examples)", () => {
  it.each([
    [37, "25"],
    [15293, "7bbd"],
    [494878333, "9d7f3e7d"],
    [2 ** 40, "c000010000000000"],
  ])("%d encodes as %s and decodes back", (value, encoded) => {
    expect(toHex(encodeVarint(value))).toBe(encoded);
    expect(decodeVarint(hex(encoded))).toEqual({ value, length: encoded.length / 2 });
  });

  it("an 8-byte value above 2^53 - 1 (RFC 9000's c2197c5eff14e88c) decodes as Infinity, so every limit rejects it", () => {
    expect(decodeVarint(hex("c2197c5eff14e88c"))).toEqual({ value: Infinity, length: 8 });
  });

  it("accepts a non-minimal encoding (RFC 9000's 0x4025 for 37) and reports an incomplete one", () => {
    expect([decodeVarint(hex("4025")), decodeVarint(hex("40")), decodeVarint(new Uint8Array(0))]).toEqual([
      { value: 37, length: 2 },
      undefined,
      undefined,
    ]);
  });
});

describe("RFC 9292 section 5 known answers", () => {
  it("encodes the sample request in known-length form byte for byte", () => {
    expect(toHex(encodeBhttpRequest(SAMPLE_REQUEST))).toBe(KNOWN_LENGTH_REQUEST);
  });

  it("encodes the sample request in indeterminate-length form with 10 bytes of padding byte for byte", () => {
    expect(toHex(encodeBhttpRequest(SAMPLE_REQUEST, { framing: "indeterminate", padding: 10 }))).toBe(
      INDETERMINATE_REQUEST,
    );
  });

  it.each([
    ["known-length", KNOWN_LENGTH_REQUEST],
    ["known-length, content and trailers truncated", KNOWN_LENGTH_REQUEST.slice(0, -4)],
    ["indeterminate", INDETERMINATE_REQUEST],
    ["indeterminate, padding and empty parts truncated", INDETERMINATE_REQUEST.slice(0, -24)],
  ])("decodes the %s request", (label, encoded) => {
    const framing = label.startsWith("known") ? "known-length" : "indeterminate";
    expect(decodeBhttpRequest(hex(encoded))).toEqual({ ...SAMPLE_REQUEST, framing });
  });

  it("encodes and decodes the response with informational responses (indeterminate-length)", () => {
    expect(toHex(encodeBhttpResponse(SAMPLE_RESPONSE, { framing: "indeterminate" }))).toBe(INDETERMINATE_RESPONSE);
    expect(decodeBhttpResponse(hex(INDETERMINATE_RESPONSE))).toEqual({ ...SAMPLE_RESPONSE, framing: "indeterminate" });
  });

  it("encodes and decodes the known-length response with trailers", () => {
    expect(toHex(encodeBhttpResponse(CHUNKED_RESPONSE))).toBe(KNOWN_LENGTH_RESPONSE);
    expect(decodeBhttpResponse(hex(KNOWN_LENGTH_RESPONSE))).toEqual({ ...CHUNKED_RESPONSE, framing: "known-length" });
  });

  it("decodes RFC 9458 appendix A's truncated request and response (no header section at all)", () => {
    expect(decodeBhttpRequest(hex("00034745540568747470730b6578616d706c652e636f6d012f"))).toEqual({
      method: "GET",
      scheme: "https",
      authority: "example.com",
      path: "/",
      headers: [],
      content: new Uint8Array(0),
      trailers: [],
      framing: "known-length",
    });
    expect(decodeBhttpResponse(hex("0140c8"))).toEqual({
      informational: [],
      status: 200,
      headers: [],
      content: new Uint8Array(0),
      trailers: [],
      framing: "known-length",
    });
  });

  it("truncate: true reproduces RFC 9458 appendix A's request and response bytes", () => {
    const req = { ...SAMPLE_REQUEST, authority: "example.com", path: "/", headers: [] };
    expect(toHex(encodeBhttpRequest(req, { truncate: true }))).toBe(
      "00034745540568747470730b6578616d706c652e636f6d012f",
    );
    const res = { status: 200, headers: [], content: new Uint8Array(0), trailers: [] };
    expect(toHex(encodeBhttpResponse(res, { truncate: true }))).toBe("0140c8");
  });
});

describe("incremental decoding", () => {
  function feed(bytes: Uint8Array, split: number): BhttpEvent[] {
    const d = new BhttpDecoder();
    const events: BhttpEvent[] = [];
    for (let i = 0; i < bytes.length; i += split) events.push(...d.push(bytes.subarray(i, i + split)));
    return [...events, ...d.end()];
  }

  it.each([1, 2, 3, 7, 64])("byte splits of %d give the same response as one push", (split) => {
    const bytes = hex(INDETERMINATE_RESPONSE);
    const events = feed(bytes, split);
    const content = Buffer.concat(events.flatMap((e) => (e.type === "content" ? [e.data] : []))).toString();
    expect(content).toBe("Hello World! My content includes a trailing CRLF.\r\n");
    expect(events.filter((e) => e.type !== "content")).toEqual(
      feed(bytes, bytes.length).filter((e) => e.type !== "content"),
    );
  });

  it("streams a response built from head, content chunks and end pieces, each content event as it arrives", () => {
    const head = encodeBhttpResponseHead({
      status: 200,
      headers: [{ name: "Content-Type", value: "text/event-stream" }],
    });
    const d = new BhttpDecoder({ expect: "response" });
    expect(d.push(head)).toEqual([
      {
        type: "response-head",
        framing: "indeterminate",
        status: 200,
        headers: [{ name: "content-type", value: "text/event-stream" }],
      },
    ]);
    const chunk = encodeBhttpContentChunk(new TextEncoder().encode("token1 "));
    expect(d.push(chunk.subarray(0, 4))).toEqual([{ type: "content", data: new TextEncoder().encode("tok") }]);
    expect(d.push(chunk.subarray(4))).toEqual([{ type: "content", data: new TextEncoder().encode("en1 ") }]);
    expect(encodeBhttpContentChunk(new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(d.push(encodeBhttpEnd([{ name: "x-tokens", value: "2" }], 3))).toEqual([
      { type: "trailers", trailers: [{ name: "x-tokens", value: "2" }] },
    ]);
    expect(d.end()).toEqual([]);
  });
});

describe("strict decoding: each malformed message is BHTTP_MALFORMED or MESSAGE_TOO_LARGE naming the field", () => {
  const req = (s: string) => () => decodeBhttpRequest(hex(s));
  const res = (s: string) => () => decodeBhttpResponse(hex(s));
  it.each([
    ["empty input", req(""), "BHTTP_MALFORMED", "bhttp.framing"],
    ["framing indicator 4", req("04"), "BHTTP_MALFORMED", "bhttp.framing"],
    ["a response where a request is expected", req("0140c8"), "BHTTP_MALFORMED", "bhttp.framing"],
    ["truncated control data", req("000347"), "BHTTP_MALFORMED", "bhttp.control"],
    ["method with a space", req("000347205405687474707300012f"), "BHTTP_MALFORMED", "bhttp.method"],
    ["empty method", req("0000056874747073000100"), "BHTTP_MALFORMED", "bhttp.method"],
    ["path with a control byte", req("000347455405687474707300010a"), "BHTTP_MALFORMED", "bhttp.path"],
    ["status 99", res("0163"), "BHTTP_MALFORMED", "bhttp.status"],
    ["status 600", res("014258"), "BHTTP_MALFORMED", "bhttp.status"],
    ["only an informational response", res("0140660000"), "BHTTP_MALFORMED", "bhttp.status"],
    ["uppercase field name", res("0140c80401410162000000"), "BHTTP_MALFORMED", "bhttp.headers[0]"],
    [
      "zero-length field name in a known-length section",
      res("0140c80200000000"),
      "BHTTP_MALFORMED",
      "bhttp.headers[0].name",
    ],
    ["field value with LF", res("0140c8040161010a0000"), "BHTTP_MALFORMED", "bhttp.headers[0]"],
    ["field value with leading space", res("0140c80401610120000000"), "BHTTP_MALFORMED", "bhttp.headers[0]"],
    ["field line overrunning its section", res("0140c803016102626200"), "BHTTP_MALFORMED", "bhttp.headers[0]"],
    [":status as a field", res("0140c8093a7374617475730132"), "BHTTP_MALFORMED", "bhttp.headers[0]"],
    [
      "pseudo-field after a regular field",
      res("0140c80a01610162033a7878017a0000"),
      "BHTTP_MALFORMED",
      "bhttp.headers[1]",
    ],
    ["pseudo-field in trailers", res("0140c80000053a787878017a"), "BHTTP_MALFORMED", "bhttp.trailers[0]"],
    ["content shorter than its length", res("0140c800056869"), "BHTTP_MALFORMED", "bhttp.content-data"],
    ["non-zero padding", res("0140c80000000001"), "BHTTP_MALFORMED", "bhttp.padding"],
    ["indeterminate section cut inside a field line", res("0340c8016101"), "BHTTP_MALFORMED", "bhttp.headers"],
    ["indeterminate content cut before its terminator", res("0340c800026869"), "BHTTP_MALFORMED", "bhttp.content"],
  ])("%s", async (_label, fn, code, path) => {
    expect(await errorOf(fn)).toEqual({ code, path });
  });

  it.each([
    ["a header section over maxFieldSectionBytes", "0140c8410000", { maxFieldSectionBytes: 255 }, "bhttp.headers"],
    ["content over maxContentBytes", "0140c8000568656c6c6f", { maxContentBytes: 4 }, "bhttp.content"],
    [
      "indeterminate chunks adding up over maxContentBytes",
      "0340c80003616263026465",
      { maxContentBytes: 4 },
      "bhttp.content",
    ],
    [
      "more informational responses than maxInformational",
      "014064004064004064",
      { maxInformational: 2 },
      "bhttp.informational",
    ],
  ])("%s is MESSAGE_TOO_LARGE", async (_label, bytes, limits, path) => {
    expect(await errorOf(() => decodeBhttpResponse(hex(bytes), limits))).toEqual({ code: "MESSAGE_TOO_LARGE", path });
  });

  it("a failed decoder stays failed", () => {
    const d = new BhttpDecoder();
    expect(() => d.push(hex("07"))).toThrow("bhttp.framing: framing indicator 7 is not 0..3");
    expect(() => d.push(hex("00"))).toThrow("bhttp.framing: framing indicator 7 is not 0..3");
    expect(() => d.end()).toThrow("bhttp.framing: framing indicator 7 is not 0..3");
  });
});

describe("encoder input checks are TypeErrors (caller misuse)", () => {
  const base = {
    method: "GET",
    scheme: "https",
    authority: "a",
    path: "/",
    headers: [],
    content: new Uint8Array(0),
    trailers: [],
  };
  it.each([
    [
      "a header value with CR",
      { ...base, headers: [{ name: "x", value: "a\rb" }] },
      "request.headers[0]: value byte 0xd is not allowed",
    ],
    ["a method with a space", { ...base, method: "G T" }, "request.method: byte 0x20 is not a token character"],
    [
      "a pseudo-field in trailers",
      { ...base, trailers: [{ name: ":x", value: "1" }] },
      "request.trailers[0]: pseudo-field :x is not allowed here",
    ],
  ])("%s", (_label, request, message) => {
    expect(() => encodeBhttpRequest(request)).toThrow(new TypeError(message));
  });

  it("a final status outside 200..599", () => {
    expect(() => encodeBhttpResponse({ status: 101, headers: [], content: new Uint8Array(0), trailers: [] })).toThrow(
      new TypeError("response.status: 101 is not 200..599"),
    );
  });
});
