/**
 * The encrypted model container (version 1). Pure: bytes in, bytes out.
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0 | 8 | magic `CI-MODEL` (ASCII) |
 * | 8 | 1 | version, 1 |
 * | 9 | 1 | algorithm, 1 = AES-256-GCM |
 * | 10 | 2 | key id length `n` (big-endian, 1..256) |
 * | 12 | n | key id (UTF-8): the key broker resource holding the data key, e.g. `default/model/sentiment` |
 * | 12+n | 12 | GCM nonce (random per encryption) |
 * | 24+n | 8 | plaintext length `L` in bytes (big-endian) |
 * | 32+n | L | ciphertext |
 * | 32+n+L | 16 | GCM tag |
 *
 * The whole header (bytes `0 .. 32+n`) is the GCM additional data, so a changed key id, version or length
 * fails authentication like a changed ciphertext does.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { InferenceError } from "../errors.js";

/** Container magic, `CI-MODEL`. */
export const CONTAINER_MAGIC = Buffer.from("CI-MODEL", "ascii");
/** Current container version. */
export const CONTAINER_VERSION = 1;
/** Algorithm id for AES-256-GCM. */
export const ALG_AES_256_GCM = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_KEY_ID_BYTES = 256;

/** The parsed header of a container. */
export interface ContainerHeader {
  readonly version: number;
  readonly keyId: string;
  readonly nonce: Buffer;
  /** Plaintext length in bytes. */
  readonly plaintextLength: number;
  /** Header length in bytes (offset of the ciphertext). */
  readonly headerLength: number;
}

function malformed(what: string): InferenceError {
  return new InferenceError("MODEL_CONTAINER_MALFORMED", `reading model container: ${what}`);
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError("data key must be 32 bytes (AES-256)");
}

/** Parses and checks a container header (structure only; nothing is authenticated yet). */
export function parseContainerHeader(bytes: Uint8Array): ContainerHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 + NONCE_BYTES + 8 + TAG_BYTES) throw malformed(`too short (${buf.length} bytes)`);
  if (!buf.subarray(0, 8).equals(CONTAINER_MAGIC)) throw malformed("bad magic (not a CI-MODEL container)");
  const version = buf.readUInt8(8);
  if (version !== CONTAINER_VERSION) throw malformed(`unsupported version ${version}`);
  const alg = buf.readUInt8(9);
  if (alg !== ALG_AES_256_GCM) throw malformed(`unsupported algorithm ${alg}`);
  const n = buf.readUInt16BE(10);
  if (n < 1 || n > MAX_KEY_ID_BYTES) throw malformed(`key id length ${n} outside 1..${MAX_KEY_ID_BYTES}`);
  const headerLength = 12 + n + NONCE_BYTES + 8;
  if (buf.length < headerLength + TAG_BYTES) throw malformed(`truncated header (${buf.length} bytes)`);
  const keyId = new TextDecoder("utf-8", { fatal: false }).decode(buf.subarray(12, 12 + n));
  const nonce = Buffer.from(buf.subarray(12 + n, 12 + n + NONCE_BYTES));
  const length = buf.readBigUInt64BE(12 + n + NONCE_BYTES);
  const expected = BigInt(headerLength) + length + BigInt(TAG_BYTES);
  if (expected !== BigInt(buf.length))
    throw malformed(`length field says ${length} plaintext bytes but the container has ${buf.length} bytes`);
  return { version, keyId, nonce, plaintextLength: Number(length), headerLength };
}

/**
 * Encrypts a model into a container (the model registry's side; used by tests, the sandbox and
 * `scripts/seal-model.ts`). `nonce` is random unless given (tests only).
 */
export function sealModelContainer(
  plaintext: Uint8Array,
  key: Uint8Array,
  keyId: string,
  nonce: Uint8Array = randomBytes(NONCE_BYTES),
): Buffer {
  checkKey(key);
  const id = Buffer.from(keyId, "utf8");
  if (id.length < 1 || id.length > MAX_KEY_ID_BYTES) throw new TypeError(`key id must be 1..${MAX_KEY_ID_BYTES} bytes`);
  if (nonce.length !== NONCE_BYTES) throw new TypeError("nonce must be 12 bytes");
  const header = Buffer.alloc(12 + id.length + NONCE_BYTES + 8);
  CONTAINER_MAGIC.copy(header, 0);
  header.writeUInt8(CONTAINER_VERSION, 8);
  header.writeUInt8(ALG_AES_256_GCM, 9);
  header.writeUInt16BE(id.length, 10);
  id.copy(header, 12);
  Buffer.from(nonce).copy(header, 12 + id.length);
  header.writeBigUInt64BE(BigInt(plaintext.length), 12 + id.length + NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** Decrypts a container in memory; a wrong key or any changed byte -> `MODEL_DECRYPT_FAILED`. */
export function openModelContainer(
  container: Uint8Array,
  key: Uint8Array,
): { header: ContainerHeader; plaintext: Buffer } {
  checkKey(key);
  const header = parseContainerHeader(container);
  const buf = Buffer.from(container.buffer, container.byteOffset, container.byteLength);
  const body = buf.subarray(header.headerLength, buf.length - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, header.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(buf.subarray(0, header.headerLength));
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    const plaintext = Buffer.concat([decipher.update(body), decipher.final()]);
    return { header, plaintext };
  } catch (cause) {
    throw new InferenceError(
      "MODEL_DECRYPT_FAILED",
      "decrypting model container: authentication failed (wrong data key or modified container)",
      { cause },
    );
  }
}
