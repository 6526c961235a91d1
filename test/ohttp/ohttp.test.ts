import { describe, expect, it } from "vitest";
import {
  AEAD_ID,
  decapsulateRequest,
  decodeBhttpRequest,
  decodeBhttpResponse,
  decodeKeyConfig,
  encapsulateRequest,
  encodeBhttpRequest,
  encodeBhttpResponse,
  encodeKeyConfig,
  generateServerKey,
  importServerKey,
  KDF_ID,
  KEM_ID,
} from "../../runtime/ohttp/index.js";
import { errorOf, hex, toHex } from "./helpers.js";
import { RFC9458 } from "./ohttp-vectors.js";

const AES128 = [
  { kdfId: KDF_ID.HKDF_SHA256, aeadId: AEAD_ID.AES_128_GCM },
  { kdfId: KDF_ID.HKDF_SHA256, aeadId: AEAD_ID.CHACHA20_POLY1305 },
];

async function rfcServerKey() {
  return importServerKey({ keyId: 1, secretKey: hex(RFC9458.serverSecretKey), symmetricAlgorithms: AES128 });
}

describe("RFC 9458 appendix A, the complete example", () => {
  it("the gateway's key configuration encodes to the RFC's bytes", async () => {
    expect(toHex(encodeKeyConfig((await rfcServerKey()).config))).toBe(RFC9458.keyConfig);
  });

  it("the client encapsulates the request to the RFC's bytes (fixed ephemeral key)", async () => {
    const config = decodeKeyConfig(hex(RFC9458.keyConfig));
    const client = await encapsulateRequest(config, hex(RFC9458.request), {
      unsafeEphemeralKey: { secretKey: hex(RFC9458.ephemeralSecretKey) },
    });
    expect([toHex(client.encapsulatedRequest), client.keyId, client.suite]).toEqual([
      RFC9458.encapsulatedRequest,
      1,
      { kemId: KEM_ID.X25519_HKDF_SHA256, kdfId: KDF_ID.HKDF_SHA256, aeadId: AEAD_ID.AES_128_GCM },
    ]);
    expect(toHex(await client.openResponse(hex(RFC9458.encapsulatedResponse)))).toBe(RFC9458.response);
  });

  it("the gateway decapsulates the request, exposes enc, and seals the response to the RFC's bytes (fixed nonce)", async () => {
    const server = await decapsulateRequest(await rfcServerKey(), hex(RFC9458.encapsulatedRequest));
    expect([toHex(server.request), toHex(server.enc), server.keyId]).toEqual([
      RFC9458.request,
      RFC9458.ephemeralPublicKey,
      1,
    ]);
    expect(decodeBhttpRequest(server.request)).toMatchObject({
      method: "GET",
      scheme: "https",
      authority: "example.com",
      path: "/",
    });
    const sealed = await server.sealResponse(hex(RFC9458.response), {
      unsafeResponseNonce: hex(RFC9458.responseNonce),
    });
    expect(toHex(sealed)).toBe(RFC9458.encapsulatedResponse);
  });
});

describe("round trips with the default suite (X25519, HKDF-SHA256, AES-256-GCM)", () => {
  it("a POST with content and trailers goes there and back", async () => {
    const key = await generateServerKey({ keyId: 7 });
    expect(key.config.symmetricAlgorithms[0]).toEqual({ kdfId: 1, aeadId: 2 });
    const request = encodeBhttpRequest({
      method: "POST",
      scheme: "https",
      authority: "runtime",
      path: "/v1/infer",
      headers: [{ name: "content-type", value: "application/json" }],
      content: new TextEncoder().encode('{"prompt":"marker-42"}'),
      trailers: [],
    });
    const client = await encapsulateRequest(key.config, request);
    expect(client.suite).toEqual({ kemId: 0x20, kdfId: 1, aeadId: 2 });
    expect(client.encapsulatedRequest.length).toBe(7 + 32 + request.length + 16);
    const server = await decapsulateRequest([key], client.encapsulatedRequest);
    expect(server.request).toEqual(request);
    const response = encodeBhttpResponse({
      status: 200,
      headers: [],
      content: new TextEncoder().encode("ok"),
      trailers: [],
    });
    const sealed = await server.sealResponse(response);
    expect(sealed.length).toBe(32 + response.length + 16);
    expect(decodeBhttpResponse(await client.openResponse(sealed)).content).toEqual(new TextEncoder().encode("ok"));
  });

  it.each([
    ["AES-128-GCM", AEAD_ID.AES_128_GCM],
    ["ChaCha20Poly1305", AEAD_ID.CHACHA20_POLY1305],
  ])("the client can choose %s from the configuration", async (_name, aeadId) => {
    const key = await generateServerKey({ keyId: 0 });
    const client = await encapsulateRequest(key.config, Uint8Array.of(1, 2, 3), { aeadId });
    const server = await decapsulateRequest(key, client.encapsulatedRequest);
    expect([
      server.suite.aeadId,
      toHex(await client.openResponse(await server.sealResponse(Uint8Array.of(9)))),
    ]).toEqual([aeadId, "09"]);
  });
});

describe("failures have their own codes", () => {
  async function setup() {
    const key = await rfcServerKey();
    const req = hex(RFC9458.encapsulatedRequest);
    return { key, req };
  }
  const flip = (b: Uint8Array, i: number) => {
    const c = Uint8Array.from(b);
    c[i]! ^= 1;
    return c;
  };

  it.each([
    ["an unknown key id", (r: Uint8Array) => flip(r, 0), "OHTTP_KEY_ID_UNKNOWN", "request.key_id"],
    [
      "a KEM the key is not",
      (r: Uint8Array) => Uint8Array.from([...r.subarray(0, 1), 0x00, 0x10, ...r.subarray(3)]),
      "OHTTP_KEY_ID_UNKNOWN",
      "request.kem_id",
    ],
    ["a KDF not offered", (r: Uint8Array) => flip(r, 4), "OHTTP_UNSUPPORTED_SUITE", "request.kdf_id"],
    [
      "an AEAD not offered (AES-256-GCM)",
      (r: Uint8Array) => flip(flip(r, 6), 5).map((b, i) => (i === 5 ? 0 : i === 6 ? 2 : b)),
      "OHTTP_UNSUPPORTED_SUITE",
      "request.aead_id",
    ],
    ["a request cut inside enc", (r: Uint8Array) => r.subarray(0, 20), "OHTTP_REQUEST_MALFORMED", "request"],
    [
      "a ciphertext shorter than the tag",
      (r: Uint8Array) => r.subarray(0, 7 + 32 + 10),
      "OHTTP_REQUEST_MALFORMED",
      "request.ciphertext",
    ],
    ["a tampered ciphertext", (r: Uint8Array) => flip(r, r.length - 1), "OHTTP_DECRYPT_FAILED", "request.ciphertext"],
    ["a tampered enc", (r: Uint8Array) => flip(r, 10), "OHTTP_DECRYPT_FAILED", "request.ciphertext"],
    [
      "the header of another request (info mismatch)",
      (r: Uint8Array) => Uint8Array.from([...r.subarray(0, 5), 0x00, 0x03, ...r.subarray(7)]),
      "OHTTP_DECRYPT_FAILED",
      "request.ciphertext",
    ],
  ])("decapsulating %s", async (_label, mutate, code, path) => {
    const { key, req } = await setup();
    expect(await errorOf(() => decapsulateRequest(key, mutate(req)))).toEqual({ code, path });
  });

  it("a request over maxBytes is MESSAGE_TOO_LARGE before any crypto", async () => {
    const { key, req } = await setup();
    expect(await errorOf(() => decapsulateRequest(key, req, { maxBytes: 64 }))).toEqual({
      code: "MESSAGE_TOO_LARGE",
      path: "request",
    });
  });

  it.each([
    ["a tampered response", (r: Uint8Array) => flip(r, r.length - 1), "OHTTP_DECRYPT_FAILED", "response.ciphertext"],
    ["a tampered response nonce", (r: Uint8Array) => flip(r, 0), "OHTTP_DECRYPT_FAILED", "response.ciphertext"],
    [
      "a response shorter than nonce and tag",
      (r: Uint8Array) => r.subarray(0, 31),
      "OHTTP_RESPONSE_MALFORMED",
      "response",
    ],
  ])("opening %s", async (_label, mutate, code, path) => {
    const client = await encapsulateRequest(decodeKeyConfig(hex(RFC9458.keyConfig)), hex(RFC9458.request), {
      unsafeEphemeralKey: { secretKey: hex(RFC9458.ephemeralSecretKey) },
    });
    expect(await errorOf(() => client.openResponse(mutate(hex(RFC9458.encapsulatedResponse))))).toEqual({ code, path });
  });

  it("a response sealed for another request does not open", async () => {
    const key = await generateServerKey({ keyId: 1 });
    const a = await encapsulateRequest(key.config, Uint8Array.of(1));
    const b = await encapsulateRequest(key.config, Uint8Array.of(1));
    const answerToB = await (await decapsulateRequest(key, b.encapsulatedRequest)).sealResponse(Uint8Array.of(2));
    expect(await errorOf(() => a.openResponse(answerToB))).toEqual({
      code: "OHTTP_DECRYPT_FAILED",
      path: "response.ciphertext",
    });
  });

  it("the client refuses a configuration with no supported pair and an invalid public key", async () => {
    const config = decodeKeyConfig(hex(RFC9458.keyConfig));
    expect(
      await errorOf(() =>
        encapsulateRequest({ ...config, symmetricAlgorithms: [{ kdfId: 1, aeadId: 0xffff }] }, Uint8Array.of(1)),
      ),
    ).toEqual({
      code: "OHTTP_UNSUPPORTED_SUITE",
      path: "keyConfig.symmetric_algorithms",
    });
    expect(await errorOf(() => encapsulateRequest(config, Uint8Array.of(1), { kdfId: KDF_ID.HKDF_SHA384 }))).toEqual({
      code: "OHTTP_UNSUPPORTED_SUITE",
      path: "keyConfig.symmetric_algorithms",
    });
    const p256 = { ...config, kemId: KEM_ID.P256_HKDF_SHA256, publicKey: new Uint8Array(65).fill(4) };
    expect(await errorOf(() => encapsulateRequest(p256, Uint8Array.of(1)))).toEqual({
      code: "KEY_CONFIG_INVALID",
      path: "keyConfig.public_key",
    });
  });
});
