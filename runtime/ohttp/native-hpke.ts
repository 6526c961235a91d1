/**
 * HPKE base mode (RFC 9180 sections 4, 5.1, 5.2, 5.3, 7.1.3) on `node:crypto` for DHKEM(X25519,
 * HKDF-SHA256) with any KDF and AEAD of this module (HKDF-SHA256/384/512; AES-128-GCM, AES-256-GCM,
 * ChaCha20Poly1305). `@hpke/core` spends about a millisecond setting up each context (WebCrypto
 * promises, key imports per call); OpenSSL's one-shot X25519, HMAC and AEAD calls do the same work
 * in tens of microseconds, which is what a per-request encapsulation needs. The NIST-curve KEMs stay
 * on `@hpke/core` (hpke.ts chooses). Verified by the RFC 9180 appendix A.1 and A.2 vectors and
 * against `@hpke/core` for the other X25519 suites (test/ohttp/hpke.test.ts).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  KeyObject,
  type webcrypto,
} from "node:crypto";
import { concat, latin1Bytes } from "./bytes.js";
import { AEAD_ID, KDF_ID, KEM_ID, type HpkeSuite } from "./suites.js";

const HASH: Readonly<Record<number, { readonly name: string; readonly nh: number }>> = {
  [KDF_ID.HKDF_SHA256]: { name: "sha256", nh: 32 },
  [KDF_ID.HKDF_SHA384]: { name: "sha384", nh: 48 },
  [KDF_ID.HKDF_SHA512]: { name: "sha512", nh: 64 },
};

const AEAD: Readonly<Record<number, { readonly cipher: string; readonly nk: number }>> = {
  [AEAD_ID.AES_128_GCM]: { cipher: "aes-128-gcm", nk: 16 },
  [AEAD_ID.AES_256_GCM]: { cipher: "aes-256-gcm", nk: 32 },
  [AEAD_ID.CHACHA20_POLY1305]: { cipher: "chacha20-poly1305", nk: 32 },
};

const NN = 12;
const NT = 16;
const NSECRET = 32;
const HPKE_V1 = latin1Bytes("HPKE-v1");
const EMPTY = new Uint8Array(0);
/** DER prefixes of an X25519 PKCS#8 private key and SPKI public key (RFC 8410 section 7, 4). */
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");
const KEM_SUITE_ID = concat([latin1Bytes("KEM"), Uint8Array.of(0x00, 0x20)]);

/** True when this file implements the suite (X25519 KEM, a known KDF and AEAD). */
export function isNativeSuite(suite: HpkeSuite): boolean {
  return (
    suite.kemId === KEM_ID.X25519_HKDF_SHA256 && HASH[suite.kdfId] !== undefined && AEAD[suite.aeadId] !== undefined
  );
}

/** True when the KDF and AEAD run natively (the response key schedule of RFC 9458 needs nothing else). */
export function isNativeSymmetric(kdfId: number, aeadId: number): boolean {
  return HASH[kdfId] !== undefined && AEAD[aeadId] !== undefined;
}

function hmac(hash: string, key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac(hash, key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** HKDF-Extract (RFC 5869 section 2.2); an empty salt means Nh zero bytes. */
export function hkdfExtract(kdfId: number, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  const { name, nh } = HASH[kdfId]!;
  return hmac(name, salt.length === 0 ? new Uint8Array(nh) : salt, ikm);
}

/** HKDF-Expand (RFC 5869 section 2.3). */
export function hkdfExpand(kdfId: number, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const { name, nh } = HASH[kdfId]!;
  if (length > 255 * nh) throw new TypeError(`hkdf: ${length} bytes exceed 255 * Nh`);
  const out = new Uint8Array(length);
  let t: Uint8Array = EMPTY;
  for (let i = 1, offset = 0; offset < length; i++) {
    t = hmac(name, prk, t, info, Uint8Array.of(i));
    out.set(t.subarray(0, Math.min(t.length, length - offset)), offset);
    offset += t.length;
  }
  return out;
}

const i2osp2 = (n: number) => Uint8Array.of((n >> 8) & 0xff, n & 0xff);

function labeledExtract(kdfId: number, suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array) {
  return hkdfExtract(kdfId, salt, concat([HPKE_V1, suiteId, latin1Bytes(label), ikm]));
}

function labeledExpand(
  kdfId: number,
  suiteId: Uint8Array,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
) {
  return hkdfExpand(kdfId, prk, concat([i2osp2(length), HPKE_V1, suiteId, latin1Bytes(label), info]), length);
}

/** An X25519 private key object from 32 raw bytes (RFC 9180 DeserializePrivateKey). */
export function x25519PrivateKey(secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, secret]), format: "der", type: "pkcs8" });
}

function x25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: "der", type: "spki" });
}

/** Recipient public keys by value: a client encapsulates to the same few keys again and again. */
const recipients = new Map<string, KeyObject>();

function recipientPublicKey(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw).toString("hex");
  let key = recipients.get(id);
  if (key === undefined) {
    key = x25519PublicKey(raw);
    if (recipients.size >= 64) recipients.delete(recipients.keys().next().value!);
    recipients.set(id, key);
  }
  return key;
}

function rawPublic(key: KeyObject): Uint8Array {
  const der = (key.type === "private" ? createPublicKey(key) : key).export({ format: "der", type: "spki" });
  return Uint8Array.from(der.subarray(der.length - 32));
}

/** DeriveKeyPair(ikm) of DHKEM(X25519, HKDF-SHA256) (RFC 9180 section 7.1.3). */
export function deriveX25519(ikm: Uint8Array): KeyObject {
  const prk = labeledExtract(KDF_ID.HKDF_SHA256, KEM_SUITE_ID, EMPTY, "dkp_prk", ikm);
  return x25519PrivateKey(labeledExpand(KDF_ID.HKDF_SHA256, KEM_SUITE_ID, prk, "sk", EMPTY, 32));
}

function dh(privateKey: KeyObject, publicKey: KeyObject): Uint8Array {
  const out = diffieHellman({ privateKey, publicKey });
  // RFC 9180 section 7.1.4: an all-zero X25519 output (a low-order point) must abort.
  if (out.every((b) => b === 0)) throw new Error("hpke: X25519 produced the all-zero value");
  return out;
}

function sharedSecret(dhValue: Uint8Array, enc: Uint8Array, pkR: Uint8Array): Uint8Array {
  const prk = labeledExtract(KDF_ID.HKDF_SHA256, KEM_SUITE_ID, EMPTY, "eae_prk", dhValue);
  return labeledExpand(KDF_ID.HKDF_SHA256, KEM_SUITE_ID, prk, "shared_secret", concat([enc, pkR]), NSECRET);
}

/** The keys of a context (RFC 9180 section 5.1, mode_base). */
interface Schedule {
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
  readonly suiteId: Uint8Array;
}

/** `key_schedule_context` by suite and info: it depends on nothing else in base mode, and OHTTP's `info` repeats. */
const contexts = new Map<string, { readonly suiteId: Uint8Array; readonly context: Uint8Array }>();

function scheduleContext(
  suite: HpkeSuite,
  info: Uint8Array,
): { readonly suiteId: Uint8Array; readonly context: Uint8Array } {
  const id = `${suite.kemId}/${suite.kdfId}/${suite.aeadId}/${Buffer.from(info).toString("base64")}`;
  const cached = contexts.get(id);
  if (cached !== undefined) return cached;
  const suiteId = concat([latin1Bytes("HPKE"), i2osp2(suite.kemId), i2osp2(suite.kdfId), i2osp2(suite.aeadId)]);
  const pskIdHash = labeledExtract(suite.kdfId, suiteId, EMPTY, "psk_id_hash", EMPTY);
  const infoHash = labeledExtract(suite.kdfId, suiteId, EMPTY, "info_hash", info);
  const entry = { suiteId, context: concat([Uint8Array.of(0), pskIdHash, infoHash]) };
  if (contexts.size >= 256) contexts.delete(contexts.keys().next().value!);
  contexts.set(id, entry);
  return entry;
}

function keySchedule(suite: HpkeSuite, shared: Uint8Array, info: Uint8Array): Schedule {
  const { suiteId, context } = scheduleContext(suite, info);
  const k = suite.kdfId;
  const secret = labeledExtract(k, suiteId, shared, "secret", EMPTY);
  return {
    key: labeledExpand(k, suiteId, secret, "key", context, AEAD[suite.aeadId]!.nk),
    baseNonce: labeledExpand(k, suiteId, secret, "base_nonce", context, NN),
    exporterSecret: labeledExpand(k, suiteId, secret, "exp", context, HASH[k]!.nh),
    suiteId,
  };
}

/** AEAD seal with an explicit nonce; output is `ciphertext || tag`. */
export function aeadSeal(aeadId: number, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array) {
  const c = createCipheriv(AEAD[aeadId]!.cipher as "aes-256-gcm", key, nonce, { authTagLength: NT });
  c.setAAD(aad);
  return Uint8Array.from(Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
}

/** AEAD open; throws on authentication failure. */
export function aeadOpen(aeadId: number, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array) {
  if (ct.length < NT) throw new Error("hpke: ciphertext shorter than the tag");
  const d = createDecipheriv(AEAD[aeadId]!.cipher as "aes-256-gcm", key, nonce, { authTagLength: NT });
  d.setAAD(aad);
  d.setAuthTag(ct.subarray(ct.length - NT));
  return Uint8Array.from(Buffer.concat([d.update(ct.subarray(0, ct.length - NT)), d.final()]));
}

/** A context's sequence-numbered AEAD and its exporter (RFC 9180 sections 5.2, 5.3). */
class NativeContext {
  private seq = 0;

  constructor(
    private readonly suite: HpkeSuite,
    private readonly s: Schedule,
  ) {}

  private nonce(): Uint8Array {
    if (this.seq >= Number.MAX_SAFE_INTEGER) throw new Error("hpke: message limit reached");
    const n = Uint8Array.from(this.s.baseNonce);
    let c = this.seq++;
    for (let i = n.length - 1; i >= 0 && c > 0; i--) {
      n[i]! ^= c % 256;
      c = Math.floor(c / 256);
    }
    return n;
  }

  seal(pt: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    return aeadSeal(this.suite.aeadId, this.s.key, this.nonce(), aad, pt);
  }

  open(ct: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    // The sequence number advances only on success (RFC 9180 section 5.2, ContextR.Open).
    const seq = this.seq;
    try {
      return aeadOpen(this.suite.aeadId, this.s.key, this.nonce(), aad, ct);
    } catch (e) {
      this.seq = seq;
      throw e;
    }
  }

  export(exporterContext: Uint8Array, length: number): Uint8Array {
    return labeledExpand(this.suite.kdfId, this.s.suiteId, this.s.exporterSecret, "sec", exporterContext, length);
  }
}

/** A native sender context: `enc` plus seal/export. */
export interface NativeSender {
  readonly enc: Uint8Array;
  seal(pt: Uint8Array, aad?: Uint8Array): Uint8Array;
  export(exporterContext: Uint8Array, length: number): Uint8Array;
}

/** A native recipient context: open/export. */
export interface NativeRecipient {
  open(ct: Uint8Array, aad?: Uint8Array): Uint8Array;
  export(exporterContext: Uint8Array, length: number): Uint8Array;
}

/**
 * SetupBaseS(pkR, info). `ephemeral` fixes skE for known-answer tests (a raw secret or DeriveKeyPair input).
 * @throws Error when pkR is not a valid X25519 public key or yields the all-zero shared value.
 */
export function nativeSetupSender(
  suite: HpkeSuite,
  pkR: Uint8Array,
  info: Uint8Array,
  ephemeral?: { readonly ikm: Uint8Array } | { readonly secretKey: Uint8Array },
): NativeSender {
  if (pkR.length !== 32) throw new Error("hpke: X25519 public key must be 32 bytes");
  const skE =
    ephemeral === undefined
      ? generateKeyPairSync("x25519").privateKey
      : "ikm" in ephemeral
        ? deriveX25519(ephemeral.ikm)
        : x25519PrivateKey(ephemeral.secretKey);
  const enc = rawPublic(skE);
  const shared = sharedSecret(dh(skE, recipientPublicKey(pkR)), enc, pkR);
  const ctx = new NativeContext(suite, keySchedule(suite, shared, info));
  return { enc, seal: (pt, aad) => ctx.seal(pt, aad), export: (c, n) => ctx.export(c, n) };
}

const keyObjects = new WeakMap<object, { readonly key: KeyObject; readonly pub: Uint8Array }>();

/** The KeyObject and raw public key behind a WebCrypto X25519 private key (cached per key). */
function recipientKey(privateKey: webcrypto.CryptoKey | KeyObject): {
  readonly key: KeyObject;
  readonly pub: Uint8Array;
} {
  const cached = keyObjects.get(privateKey);
  if (cached !== undefined) return cached;
  const key = privateKey instanceof KeyObject ? privateKey : KeyObject.from(privateKey);
  const entry = { key, pub: rawPublic(key) };
  keyObjects.set(privateKey, entry);
  return entry;
}

/**
 * SetupBaseR(enc, skR, info).
 * @throws Error when `enc` is not a valid X25519 public key or yields the all-zero shared value.
 */
export function nativeSetupRecipient(
  suite: HpkeSuite,
  privateKey: webcrypto.CryptoKey | KeyObject,
  enc: Uint8Array,
  info: Uint8Array,
): NativeRecipient {
  if (enc.length !== 32) throw new Error("hpke: enc must be 32 bytes");
  const r = recipientKey(privateKey);
  const shared = sharedSecret(dh(r.key, x25519PublicKey(enc)), enc, r.pub);
  const ctx = new NativeContext(suite, keySchedule(suite, shared, info));
  return { open: (ct, aad) => ctx.open(ct, aad), export: (c, n) => ctx.export(c, n) };
}
