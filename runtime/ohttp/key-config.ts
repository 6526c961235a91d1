/**
 * OHTTP key configurations (RFC 9458 section 3): the single `Key Config` encoding and the
 * `application/ohttp-keys` list (section 3.2), plus the gateway-side key that pairs a configuration
 * with its private key.
 */
import { ByteReader, ByteWriter } from "./bytes.js";
import { OhttpError } from "./errors.js";
import { type CryptoKey, generateHpkeKeyPair, importHpkePrivateKey } from "./hpke.js";
import { AEAD_ID, KDF_ID, KEM_ID, isSupportedKem, kemPublicKeyLength } from "./suites.js";

/** Media type of a key configuration list (RFC 9458 section 3.2). */
export const MEDIA_TYPE_OHTTP_KEYS = "application/ohttp-keys";

/** One KDF/AEAD pair a gateway accepts with a key (RFC 9458 section 3.1, "HPKE Symmetric Algorithms"). */
export interface SymmetricAlgorithm {
  readonly kdfId: number;
  readonly aeadId: number;
}

/** A key configuration (RFC 9458 section 3.1). */
export interface KeyConfig {
  /** 0..255, chosen by the gateway. */
  readonly keyId: number;
  readonly kemId: number;
  /** The KEM-encoded public key (Npk bytes). */
  readonly publicKey: Uint8Array;
  /** At least one pair, in the gateway's order of preference. */
  readonly symmetricAlgorithms: readonly SymmetricAlgorithm[];
}

/** A gateway key: its public configuration and the private key that never leaves the runtime. */
export interface OhttpServerKey {
  readonly config: KeyConfig;
  readonly privateKey: CryptoKey;
}

/** The project's default symmetric offer: HKDF-SHA256 with AES-256-GCM, then AES-128-GCM, then ChaCha20Poly1305. */
export const DEFAULT_SYMMETRIC_ALGORITHMS: readonly SymmetricAlgorithm[] = Object.freeze([
  { kdfId: KDF_ID.HKDF_SHA256, aeadId: AEAD_ID.AES_256_GCM },
  { kdfId: KDF_ID.HKDF_SHA256, aeadId: AEAD_ID.AES_128_GCM },
  { kdfId: KDF_ID.HKDF_SHA256, aeadId: AEAD_ID.CHACHA20_POLY1305 },
]);

function checkConfig(config: KeyConfig): void {
  if (!Number.isInteger(config.keyId) || config.keyId < 0 || config.keyId > 255) {
    throw new TypeError(`keyConfig.keyId: ${config.keyId} is not 0..255`);
  }
  const npk = kemPublicKeyLength(config.kemId);
  if (npk === undefined) throw new TypeError(`keyConfig.kemId: unsupported KEM ${config.kemId}`);
  if (config.publicKey.length !== npk)
    throw new TypeError(`keyConfig.publicKey: ${config.publicKey.length} bytes, KEM needs ${npk}`);
  const n = config.symmetricAlgorithms.length;
  if (n < 1 || n > 16383) throw new TypeError(`keyConfig.symmetricAlgorithms: ${n} entries, need 1..16383`);
}

/** Encodes one key configuration (RFC 9458 section 3.1); the bytes a runtime binds into its evidence. */
export function encodeKeyConfig(config: KeyConfig): Uint8Array {
  checkConfig(config);
  const w = new ByteWriter().u8(config.keyId).u16(config.kemId).bytes(config.publicKey);
  w.u16(config.symmetricAlgorithms.length * 4);
  for (const a of config.symmetricAlgorithms) w.u16(a.kdfId).u16(a.aeadId);
  return w.finish();
}

function invalid(path: string, message: string): OhttpError {
  return new OhttpError("KEY_CONFIG_INVALID", path, message);
}

/** Reads one configuration at the reader's offset. */
function readKeyConfig(r: ByteReader, path: string): KeyConfig {
  const keyId = r.u8();
  const kemId = r.u16();
  if (keyId === undefined || kemId === undefined) throw invalid(path, "shorter than key_id and kem_id");
  const npk = kemPublicKeyLength(kemId);
  if (npk === undefined) {
    throw new OhttpError("OHTTP_UNSUPPORTED_SUITE", `${path}.kem_id`, `KEM 0x${kemId.toString(16)} is not supported`);
  }
  const publicKey = r.bytes(npk);
  if (publicKey === undefined) throw invalid(`${path}.public_key`, `shorter than the KEM's ${npk} bytes`);
  const algLength = r.u16();
  if (algLength === undefined) throw invalid(`${path}.symmetric_algorithms`, "length missing");
  if (algLength < 4 || algLength % 4 !== 0) {
    throw invalid(`${path}.symmetric_algorithms`, `length ${algLength} is not a positive multiple of 4`);
  }
  if (r.remaining < algLength) throw invalid(`${path}.symmetric_algorithms`, `length ${algLength} exceeds the input`);
  const symmetricAlgorithms: SymmetricAlgorithm[] = [];
  for (let i = 0; i < algLength / 4; i++) symmetricAlgorithms.push({ kdfId: r.u16()!, aeadId: r.u16()! });
  return { keyId, kemId, publicKey: Uint8Array.from(publicKey), symmetricAlgorithms };
}

/**
 * Decodes one key configuration (RFC 9458 section 3.1). The public key's length is checked here;
 * whether it is a valid curve point is checked when a request is encapsulated to it.
 *
 * @throws {OhttpError} `KEY_CONFIG_INVALID` (bad encoding, trailing bytes), `OHTTP_UNSUPPORTED_SUITE` (unknown KEM).
 */
export function decodeKeyConfig(bytes: Uint8Array): KeyConfig {
  const r = new ByteReader(bytes);
  const config = readKeyConfig(r, "keyConfig");
  if (r.remaining !== 0) throw invalid("keyConfig", `${r.remaining} bytes after the configuration`);
  return config;
}

/** Encodes an `application/ohttp-keys` list: each configuration prefixed by its 2-byte length (RFC 9458 section 3.2). */
export function encodeKeyConfigs(configs: readonly KeyConfig[]): Uint8Array {
  const w = new ByteWriter();
  for (const c of configs) {
    const encoded = encodeKeyConfig(c);
    w.u16(encoded.length).bytes(encoded);
  }
  return w.finish();
}

/**
 * Decodes an `application/ohttp-keys` list (RFC 9458 section 3.2). Any encoding error rejects the whole
 * list, as the RFC requires; well-formed entries whose KEM is not supported here are skipped.
 *
 * @returns the supported configurations, in list order (possibly empty).
 * @throws {OhttpError} `KEY_CONFIG_INVALID` naming the entry (`keys[1].public_key`).
 */
export function decodeKeyConfigs(bytes: Uint8Array): KeyConfig[] {
  const r = new ByteReader(bytes);
  const out: KeyConfig[] = [];
  if (bytes.length === 0) throw invalid("keys", "empty list");
  for (let i = 0; r.remaining > 0; i++) {
    const length = r.u16();
    const entry = length === undefined ? undefined : r.bytes(length);
    if (entry === undefined) throw invalid(`keys[${i}]`, "length prefix exceeds the input");
    const er = new ByteReader(entry);
    const kemPeek = entry.length >= 3 ? (entry[1]! << 8) | entry[2]! : undefined;
    if (kemPeek !== undefined && !isSupportedKem(kemPeek)) continue;
    const config = readKeyConfig(er, `keys[${i}]`);
    if (er.remaining !== 0) throw invalid(`keys[${i}]`, `${er.remaining} bytes after the configuration`);
    out.push(config);
  }
  return out;
}

/** Options of {@link generateServerKey} and {@link importServerKey}. */
export interface ServerKeyOptions {
  readonly keyId: number;
  /** Default DHKEM(X25519, HKDF-SHA256). */
  readonly kemId?: number;
  /** Default {@link DEFAULT_SYMMETRIC_ALGORITHMS}. */
  readonly symmetricAlgorithms?: readonly SymmetricAlgorithm[];
}

/** Generates a gateway key pair and its configuration (inside the boundary: the private key stays in memory). */
export async function generateServerKey(options: ServerKeyOptions): Promise<OhttpServerKey> {
  const pair = await generateHpkeKeyPair(options.kemId ?? KEM_ID.X25519_HKDF_SHA256);
  return withConfig(options, pair.privateKey, pair.publicKey);
}

/** Imports a raw private key (Nsk bytes) as a gateway key: for known-answer tests and key rotation tooling. */
export async function importServerKey(
  options: ServerKeyOptions & { readonly secretKey: Uint8Array },
): Promise<OhttpServerKey> {
  const pair = await importHpkePrivateKey(options.kemId ?? KEM_ID.X25519_HKDF_SHA256, options.secretKey);
  return withConfig(options, pair.privateKey, pair.publicKey);
}

function withConfig(options: ServerKeyOptions, privateKey: CryptoKey, publicKey: Uint8Array): OhttpServerKey {
  const config: KeyConfig = {
    keyId: options.keyId,
    kemId: options.kemId ?? KEM_ID.X25519_HKDF_SHA256,
    publicKey,
    symmetricAlgorithms: [...(options.symmetricAlgorithms ?? DEFAULT_SYMMETRIC_ALGORITHMS)],
  };
  checkConfig(config);
  return { config, privateKey };
}
