/**
 * A thin, typed face over `@hpke/core` (RFC 9180, base mode only): key pairs, sender and recipient
 * contexts returning `Uint8Array`. Raw HPKE errors are left to the callers, which know what was
 * being done and map them to an {@link OhttpError} code.
 */
import { createPublicKey, KeyObject, type webcrypto } from "node:crypto";
import { concat, toBytes } from "./bytes.js";
import {
  aeadOpen,
  aeadSeal,
  hkdfExpand,
  hkdfExtract,
  isNativeSuite,
  isNativeSymmetric,
  nativeSetupRecipient,
  nativeSetupSender,
} from "./native-hpke.js";
import { cipherSuite, describeSuite, type HpkeSuite, kemPublicKeyLength } from "./suites.js";

/**
 * Which HPKE implementation runs a context: `auto` (default) uses `node:crypto` for the X25519 KEM
 * (native-hpke.ts) and `@hpke/core` otherwise; `library` forces `@hpke/core` (tests compare the two).
 */
export type HpkeImplementation = "auto" | "library";

/** A WebCrypto private key (non-DOM TypeScript lib: Node's `webcrypto.CryptoKey`). */
export type CryptoKey = webcrypto.CryptoKey;

/** An HPKE key pair: the private key stays a WebCrypto key; the public key is its KEM encoding (Npk bytes). */
export interface HpkeKeyPair {
  readonly kemId: number;
  readonly privateKey: CryptoKey;
  readonly publicKey: Uint8Array;
}

/**
 * Fixed ephemeral key material for known-answer tests only (never in production: reusing an
 * ephemeral key breaks HPKE's security). `ikm` feeds DeriveKeyPair (RFC 9180 section 7.1.3, the
 * appendix A vectors' `ikmE`); `secretKey` is a raw KEM private key (RFC 9458 appendix A).
 * `@hpke/core` takes either through its testing-only `ekm` sender parameter.
 */
export type UnsafeEphemeralKey = { readonly ikm: Uint8Array } | { readonly secretKey: Uint8Array };

/** The sending side of an HPKE context (RFC 9180 section 5.2, 5.3). */
export interface HpkeSenderContext {
  /** The encapsulated key (Nenc bytes). */
  readonly enc: Uint8Array;
  /** Seals the next message; the sequence number advances. */
  seal(plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** Exports a secret of `length` bytes bound to `exporterContext`. */
  export(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

/** The receiving side of an HPKE context (RFC 9180 section 5.2, 5.3). */
export interface HpkeRecipientContext {
  /** Opens the next message; throws the library's `OpenError` on authentication failure. */
  open(ciphertext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  export(exporterContext: Uint8Array, length: number): Promise<Uint8Array>;
}

function suiteFor(suite: HpkeSuite) {
  const s = cipherSuite(suite);
  if (s === undefined) throw new TypeError(`hpke: unsupported suite ${describeSuite(suite)}`);
  return s;
}

function kemOnly(kemId: number): HpkeSuite {
  return { kemId, kdfId: 1, aeadId: 1 };
}

/** The KEM encoding of the public key that belongs to `privateKey` (X25519: 32 raw bytes; NIST curves: 0x04||x||y). */
async function publicKeyBytes(kemId: number, privateKey: CryptoKey): Promise<Uint8Array> {
  const jwk = createPublicKey(KeyObject.from(privateKey)).export({ format: "jwk" });
  const x = Buffer.from(jwk.x ?? "", "base64url");
  const raw = jwk.kty === "OKP" ? x : concat([Uint8Array.of(4), x, Buffer.from(jwk.y ?? "", "base64url")]);
  if (raw.length !== kemPublicKeyLength(kemId)) throw new TypeError(`hpke: public key of ${raw.length} bytes`);
  return Uint8Array.from(raw);
}

/** Generates a fresh key pair for `kemId` (RFC 9180 GenerateKeyPair). */
export async function generateHpkeKeyPair(kemId: number): Promise<HpkeKeyPair> {
  const kem = suiteFor(kemOnly(kemId)).kem;
  const pair = await kem.generateKeyPair();
  return { kemId, privateKey: pair.privateKey, publicKey: toBytes(await kem.serializePublicKey(pair.publicKey)) };
}

/** Derives the key pair of RFC 9180 DeriveKeyPair(ikm) (section 7.1.3). */
export async function deriveHpkeKeyPair(kemId: number, ikm: Uint8Array): Promise<HpkeKeyPair> {
  const kem = suiteFor(kemOnly(kemId)).kem;
  const pair = await kem.deriveKeyPair(ikm);
  return { kemId, privateKey: pair.privateKey, publicKey: toBytes(await kem.serializePublicKey(pair.publicKey)) };
}

/** Imports a raw KEM private key (Nsk bytes, RFC 9180 DeserializePrivateKey) and computes its public key. */
export async function importHpkePrivateKey(kemId: number, secretKey: Uint8Array): Promise<HpkeKeyPair> {
  const kem = suiteFor(kemOnly(kemId)).kem;
  const privateKey = await kem.deserializePrivateKey(secretKey);
  return { kemId, privateKey, publicKey: await publicKeyBytes(kemId, privateKey) };
}

async function ekmFor(suite: HpkeSuite, ephemeral: UnsafeEphemeralKey | undefined) {
  if (ephemeral === undefined) return undefined;
  if ("ikm" in ephemeral) return ephemeral.ikm;
  const kem = suiteFor(suite).kem;
  const pair = await importHpkePrivateKey(suite.kemId, ephemeral.secretKey);
  return { privateKey: pair.privateKey, publicKey: await kem.deserializePublicKey(pair.publicKey) };
}

/** SetupBaseS(pkR, info) (RFC 9180 section 5.1.1). */
export async function setupBaseSender(
  suite: HpkeSuite,
  recipientPublicKey: Uint8Array,
  info: Uint8Array,
  ephemeral?: UnsafeEphemeralKey,
  implementation: HpkeImplementation = "auto",
): Promise<HpkeSenderContext> {
  const s = suiteFor(suite);
  if (implementation === "auto" && isNativeSuite(suite)) {
    const ctx = nativeSetupSender(suite, recipientPublicKey, info, ephemeral);
    return { enc: ctx.enc, seal: async (pt, aad) => ctx.seal(pt, aad), export: async (c, n) => ctx.export(c, n) };
  }
  const pkR = await s.kem.deserializePublicKey(recipientPublicKey);
  const ekm = await ekmFor(suite, ephemeral);
  const ctx = await s.createSenderContext({ recipientPublicKey: pkR, info, ...(ekm === undefined ? {} : { ekm }) });
  return {
    enc: toBytes(ctx.enc),
    seal: async (pt, aad) => toBytes(await ctx.seal(pt, aad)),
    export: async (c, n) => toBytes(await ctx.export(c, n)),
  };
}

/** SetupBaseR(enc, skR, info) (RFC 9180 section 5.1.1). */
export async function setupBaseRecipient(
  suite: HpkeSuite,
  privateKey: CryptoKey,
  enc: Uint8Array,
  info: Uint8Array,
  implementation: HpkeImplementation = "auto",
): Promise<HpkeRecipientContext> {
  if (implementation === "auto" && isNativeSuite(suite)) {
    const native = nativeSetupRecipient(suite, privateKey, enc, info);
    return { open: async (ct, aad) => native.open(ct, aad), export: async (c, n) => native.export(c, n) };
  }
  const ctx = await suiteFor(suite).createRecipientContext({ recipientKey: privateKey, enc, info });
  return {
    open: async (ct, aad) => toBytes(await ctx.open(ct, aad)),
    export: async (c, n) => toBytes(await ctx.export(c, n)),
  };
}

/**
 * `Expand(Extract(salt, ikm), info, L)` for each output with the suite's KDF (RFC 5869), unlabeled as
 * RFC 9458 section 4.4 uses it. `@hpke/core`'s bare `extract` only takes a hash-sized salt (HPKE's own
 * use) while OHTTP's salt is `enc || response_nonce`, so this goes through its WebCrypto HKDF
 * `extractAndExpand`, which recomputes the one-HMAC Extract per output.
 */
export async function kdfExtractExpand(
  suite: HpkeSuite,
  salt: Uint8Array,
  ikm: Uint8Array,
  outputs: readonly { readonly info: Uint8Array; readonly length: number }[],
): Promise<Uint8Array[]> {
  if (isNativeSymmetric(suite.kdfId, suite.aeadId)) {
    const prk = hkdfExtract(suite.kdfId, salt, ikm);
    return outputs.map((o) => hkdfExpand(suite.kdfId, prk, o.info, o.length));
  }
  const kdf = suiteFor(suite).kdf;
  return Promise.all(outputs.map(async (o) => toBytes(await kdf.extractAndExpand(salt, ikm, o.info, o.length))));
}

/** One AEAD key (RFC 9180 section 7.3 algorithms) for sealing/opening with explicit nonces. */
export interface AeadKey {
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
}

/** Wraps `key` for the suite's AEAD. */
export function aeadKey(suite: HpkeSuite, key: Uint8Array): AeadKey {
  if (isNativeSymmetric(suite.kdfId, suite.aeadId)) {
    return {
      seal: async (nonce, aad, pt) => aeadSeal(suite.aeadId, key, nonce, aad, pt),
      open: async (nonce, aad, ct) => aeadOpen(suite.aeadId, key, nonce, aad, ct),
    };
  }
  const ctx = suiteFor(suite).aead.createEncryptionContext(key);
  return {
    seal: async (nonce, aad, pt) => toBytes(await ctx.seal(nonce, pt, aad)),
    open: async (nonce, aad, ct) => toBytes(await ctx.open(nonce, ct, aad)),
  };
}
