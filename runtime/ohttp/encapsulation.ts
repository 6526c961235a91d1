/**
 * Pieces shared by OHTTP (RFC 9458 section 4) and chunked OHTTP (draft-ietf-ohai-chunked-ohttp-08
 * section 6): the request header and HPKE `info`, suite selection on the client, key lookup on the
 * gateway, and the response key schedule of RFC 9458 section 4.4.
 */
import { ByteReader, ByteWriter, concat, latin1Bytes } from "./bytes.js";
import { OhttpError } from "./errors.js";
import { aeadKey, type AeadKey, type HpkeRecipientContext, type HpkeSenderContext, kdfExtractExpand } from "./hpke.js";
import type { KeyConfig, OhttpServerKey } from "./key-config.js";
import { aeadSizes, type HpkeSuite, isSupportedKem, isSupportedSymmetric, kemPublicKeyLength } from "./suites.js";

/** HPKE `info` and exporter labels of the two variants. */
export const LABELS = {
  plain: { request: "message/bhttp request", response: "message/bhttp response" },
  chunked: { request: "message/bhttp chunked request", response: "message/bhttp chunked response" },
} as const;

/** Length of `hdr`: key_id (1) + kem_id, kdf_id, aead_id (2 each). */
export const HEADER_LENGTH = 7;

/** `hdr = key_id || kem_id || kdf_id || aead_id` (RFC 9458 section 4.3 step 1). */
export function requestHeader(keyId: number, suite: HpkeSuite): Uint8Array {
  return new ByteWriter().u8(keyId).u16(suite.kemId).u16(suite.kdfId).u16(suite.aeadId).finish();
}

/** `info = label || 0x00 || hdr` (RFC 9458 section 4.3 step 2). */
export function requestInfo(label: string, header: Uint8Array): Uint8Array {
  return concat([latin1Bytes(label), Uint8Array.of(0), header]);
}

/** Client options choosing the KDF/AEAD pair; default the first pair of the configuration this module supports. */
export interface SuiteChoice {
  readonly kdfId?: number;
  readonly aeadId?: number;
}

/** Picks the suite to encapsulate with (RFC 9458 section 3: the client selects among the configuration's pairs). */
export function chooseSuite(config: KeyConfig, choice: SuiteChoice): HpkeSuite {
  if (!isSupportedKem(config.kemId)) {
    throw new OhttpError(
      "OHTTP_UNSUPPORTED_SUITE",
      "keyConfig.kem_id",
      `KEM 0x${config.kemId.toString(16)} is not supported`,
    );
  }
  const pair = config.symmetricAlgorithms.find(
    (a) =>
      isSupportedSymmetric(a.kdfId, a.aeadId) &&
      (choice.kdfId === undefined || choice.kdfId === a.kdfId) &&
      (choice.aeadId === undefined || choice.aeadId === a.aeadId),
  );
  if (pair === undefined) {
    throw new OhttpError(
      "OHTTP_UNSUPPORTED_SUITE",
      "keyConfig.symmetric_algorithms",
      "no offered KDF/AEAD pair is supported and chosen",
    );
  }
  return { kemId: config.kemId, kdfId: pair.kdfId, aeadId: pair.aeadId };
}

/** What the gateway learns from an encapsulated request's header. */
export interface ParsedHeader {
  readonly key: OhttpServerKey;
  readonly suite: HpkeSuite;
  readonly header: Uint8Array;
  readonly enc: Uint8Array;
  /** Offset of the first byte after `enc`. */
  readonly end: number;
}

/**
 * Parses `hdr || enc` and finds the key (RFC 9458 section 4.3, decapsulation step 1 a and b).
 * `undefined` when `bytes` is too short yet (the chunked decoder waits for more).
 */
export function parseRequestHeader(
  bytes: Uint8Array,
  keys: readonly OhttpServerKey[],
  path: string,
): ParsedHeader | undefined {
  const r = new ByteReader(bytes);
  const keyId = r.u8();
  const kemId = r.u16();
  const kdfId = r.u16();
  const aeadId = r.u16();
  if (keyId === undefined || kemId === undefined || kdfId === undefined || aeadId === undefined) return undefined;
  const key = keys.find((k) => k.config.keyId === keyId);
  if (key === undefined) throw new OhttpError("OHTTP_KEY_ID_UNKNOWN", `${path}.key_id`, `no key with id ${keyId}`);
  if (key.config.kemId !== kemId) {
    throw new OhttpError(
      "OHTTP_KEY_ID_UNKNOWN",
      `${path}.kem_id`,
      `key ${keyId} is not a KEM 0x${kemId.toString(16)} key`,
    );
  }
  const offered = key.config.symmetricAlgorithms;
  if (!offered.some((a) => a.kdfId === kdfId && a.aeadId === aeadId) || !isSupportedSymmetric(kdfId, aeadId)) {
    const field = offered.some((a) => a.kdfId === kdfId) ? "aead_id" : "kdf_id";
    throw new OhttpError(
      "OHTTP_UNSUPPORTED_SUITE",
      `${path}.${field}`,
      `KDF 0x${kdfId.toString(16)} with AEAD 0x${aeadId.toString(16)} is not offered`,
    );
  }
  const enc = r.bytes(kemPublicKeyLength(kemId)!);
  if (enc === undefined) return undefined;
  const suite = { kemId, kdfId, aeadId };
  return { key, suite, header: bytes.subarray(0, HEADER_LENGTH), enc: Uint8Array.from(enc), end: r.offset };
}

/** `max(Nn, Nk)`: length of the response nonce and of the exported secret (RFC 9458 section 4.4). */
export function responseNonceLength(suite: HpkeSuite): number {
  const s = aeadSizes(suite.aeadId)!;
  return Math.max(s.keyLength, s.nonceLength);
}

/** AEAD tag length Nt of the suite. */
export function tagLength(suite: HpkeSuite): number {
  return aeadSizes(suite.aeadId)!.tagLength;
}

/** The response AEAD key and nonce (RFC 9458 section 4.4 steps 1, 3-5; chunked draft section 6.2). */
export async function responseKey(
  context: HpkeSenderContext | HpkeRecipientContext,
  suite: HpkeSuite,
  label: string,
  enc: Uint8Array,
  responseNonce: Uint8Array,
): Promise<{ readonly key: AeadKey; readonly nonce: Uint8Array }> {
  const sizes = aeadSizes(suite.aeadId)!;
  const secret = await context.export(latin1Bytes(label), responseNonceLength(suite));
  const [key, nonce] = await kdfExtractExpand(suite, concat([enc, responseNonce]), secret, [
    { info: latin1Bytes("key"), length: sizes.keyLength },
    { info: latin1Bytes("nonce"), length: sizes.nonceLength },
  ]);
  return { key: aeadKey(suite, key!), nonce: nonce! };
}

/** Fresh random bytes from WebCrypto (the module's only entropy source). */
export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/** A caller-fixed response nonce (tests) or a random one, length-checked. */
export function responseNonceFor(suite: HpkeSuite, fixed: Uint8Array | undefined): Uint8Array {
  const n = responseNonceLength(suite);
  if (fixed === undefined) return randomBytes(n);
  if (fixed.length !== n) throw new TypeError(`unsafeResponseNonce: ${fixed.length} bytes, the suite needs ${n}`);
  return fixed;
}
