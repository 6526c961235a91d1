import { describe, expect, it } from "vitest";
import {
  decodeKeyConfig,
  decodeKeyConfigs,
  encodeKeyConfig,
  encodeKeyConfigs,
  generateServerKey,
  KEM_ID,
} from "../../runtime/ohttp/index.js";
import { errorOf, hex, toHex } from "./helpers.js";
import { CHUNKED, RFC9458 } from "./ohttp-vectors.js";

describe("key configurations (RFC 9458 section 3)", () => {
  it("decodes RFC 9458 appendix A's configuration and encodes it back", () => {
    const config = decodeKeyConfig(hex(RFC9458.keyConfig));
    expect({ ...config, publicKey: toHex(config.publicKey) }).toEqual({
      keyId: 1,
      kemId: KEM_ID.X25519_HKDF_SHA256,
      publicKey: "31e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155",
      symmetricAlgorithms: [
        { kdfId: 1, aeadId: 1 },
        { kdfId: 1, aeadId: 3 },
      ],
    });
    expect(toHex(encodeKeyConfig(config))).toBe(RFC9458.keyConfig);
  });

  it("an application/ohttp-keys list round-trips, each entry with its 2-byte length", () => {
    const list = encodeKeyConfigs([decodeKeyConfig(hex(RFC9458.keyConfig)), decodeKeyConfig(hex(CHUNKED.keyConfig))]);
    expect(toHex(list)).toBe(`002d${RFC9458.keyConfig}002d${CHUNKED.keyConfig}`);
    expect(decodeKeyConfigs(list).map((c) => toHex(encodeKeyConfig(c)))).toEqual([
      RFC9458.keyConfig,
      CHUNKED.keyConfig,
    ]);
  });

  it("a list entry with an unknown KEM is skipped, the rest kept", () => {
    // Key 2 with KEM 0x0099: its public key length is unknown here, so the whole entry is skipped.
    const unknownKem = "020099aabbcc000400010001";
    expect(decodeKeyConfigs(hex(`000c${unknownKem}002d${RFC9458.keyConfig}`)).map((c) => c.keyId)).toEqual([1]);
  });

  it("a generated key's configuration is default-suite and decodes to itself", async () => {
    const key = await generateServerKey({ keyId: 200 });
    const bytes = encodeKeyConfig(key.config);
    expect([bytes.length, toHex(bytes.subarray(0, 3)), toHex(bytes.subarray(35))]).toEqual([
      3 + 32 + 2 + 12,
      "c80020",
      "000c000100020001000100010003",
    ]);
    expect(decodeKeyConfig(bytes)).toEqual(key.config);
  });

  const cfg = RFC9458.keyConfig;
  it.each([
    ["an empty input", "", "KEY_CONFIG_INVALID", "keyConfig"],
    ["a public key shorter than Npk", cfg.slice(0, 40), "KEY_CONFIG_INVALID", "keyConfig.public_key"],
    ["no symmetric algorithms length", cfg.slice(0, 70), "KEY_CONFIG_INVALID", "keyConfig.symmetric_algorithms"],
    ["a symmetric length of 0", `${cfg.slice(0, 70)}0000`, "KEY_CONFIG_INVALID", "keyConfig.symmetric_algorithms"],
    [
      "a symmetric length of 6",
      `${cfg.slice(0, 70)}0006000100010001`,
      "KEY_CONFIG_INVALID",
      "keyConfig.symmetric_algorithms",
    ],
    [
      "a symmetric length past the end",
      `${cfg.slice(0, 70)}000c0001000100010003`,
      "KEY_CONFIG_INVALID",
      "keyConfig.symmetric_algorithms",
    ],
    ["trailing bytes", `${cfg}00`, "KEY_CONFIG_INVALID", "keyConfig"],
    ["an unknown KEM", `010099${cfg.slice(6)}`, "OHTTP_UNSUPPORTED_SUITE", "keyConfig.kem_id"],
  ])("decodeKeyConfig rejects %s", async (_label, bytes, code, path) => {
    expect(await errorOf(() => decodeKeyConfig(hex(bytes)))).toEqual({ code, path });
  });

  it.each([
    ["an empty list", "", "keys"],
    ["a length prefix past the end", `0030${cfg}`, "keys[0]"],
    ["a bad second entry (whole list rejected)", `002d${cfg}0004010020aa`, "keys[1].public_key"],
    ["an entry with trailing bytes", `002e${cfg}00`, "keys[0]"],
  ])("decodeKeyConfigs rejects %s", async (_label, bytes, path) => {
    expect(await errorOf(() => decodeKeyConfigs(hex(bytes)))).toEqual({ code: "KEY_CONFIG_INVALID", path });
  });

  it("encodeKeyConfig rejects caller mistakes with TypeError", () => {
    const config = decodeKeyConfig(hex(cfg));
    expect(() => encodeKeyConfig({ ...config, keyId: 256 })).toThrow(
      new TypeError("keyConfig.keyId: 256 is not 0..255"),
    );
    expect(() => encodeKeyConfig({ ...config, symmetricAlgorithms: [] })).toThrow(
      new TypeError("keyConfig.symmetricAlgorithms: 0 entries, need 1..16383"),
    );
    expect(() => encodeKeyConfig({ ...config, publicKey: new Uint8Array(31) })).toThrow(
      new TypeError("keyConfig.publicKey: 31 bytes, KEM needs 32"),
    );
  });
});
