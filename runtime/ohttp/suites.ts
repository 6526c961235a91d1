/**
 * HPKE algorithm identifiers (RFC 9180 section 7, IANA "HPKE" registry) this module supports, their
 * sizes, and the `@hpke/core` cipher suite for a combination. KEMs, KDFs and AEADs are table rows:
 * adding one is a line here plus its RFC 9180 appendix A vector in the tests.
 */
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import {
  Aes128Gcm,
  Aes256Gcm,
  CipherSuite,
  DhkemP256HkdfSha256,
  DhkemP521HkdfSha512,
  DhkemX25519HkdfSha256,
  HkdfSha256,
  HkdfSha384,
  HkdfSha512,
} from "@hpke/core";

/** HPKE KEM identifiers supported here (RFC 9180 section 7.1). */
export const KEM_ID = { P256_HKDF_SHA256: 0x0010, P521_HKDF_SHA512: 0x0012, X25519_HKDF_SHA256: 0x0020 } as const;
/** HPKE KDF identifiers supported here (RFC 9180 section 7.2). */
export const KDF_ID = { HKDF_SHA256: 0x0001, HKDF_SHA384: 0x0002, HKDF_SHA512: 0x0003 } as const;
/** HPKE AEAD identifiers supported here (RFC 9180 section 7.3); the export-only AEAD cannot carry OHTTP. */
export const AEAD_ID = { AES_128_GCM: 0x0001, AES_256_GCM: 0x0002, CHACHA20_POLY1305: 0x0003 } as const;

/** One HPKE cipher suite by its three registry identifiers. */
export interface HpkeSuite {
  readonly kemId: number;
  readonly kdfId: number;
  readonly aeadId: number;
}

/** The project's default: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. */
export const DEFAULT_SUITE: HpkeSuite = Object.freeze({
  kemId: KEM_ID.X25519_HKDF_SHA256,
  kdfId: KDF_ID.HKDF_SHA256,
  aeadId: AEAD_ID.AES_256_GCM,
});

interface KemInfo {
  readonly name: string;
  /** Length of an encoded public key and of `enc` (Npk = Nenc for every DHKEM here). */
  readonly publicKeyLength: number;
  readonly create: () => DhkemX25519HkdfSha256 | DhkemP256HkdfSha256 | DhkemP521HkdfSha512;
}
interface AeadInfo {
  readonly name: string;
  /** Nk, Nn, Nt in bytes. */
  readonly keyLength: number;
  readonly nonceLength: number;
  readonly tagLength: number;
  readonly create: () => Aes128Gcm | Aes256Gcm | Chacha20Poly1305;
}

const KEMS: ReadonlyMap<number, KemInfo> = new Map<number, KemInfo>([
  [
    KEM_ID.X25519_HKDF_SHA256,
    { name: "DHKEM(X25519, HKDF-SHA256)", publicKeyLength: 32, create: () => new DhkemX25519HkdfSha256() },
  ],
  [
    KEM_ID.P256_HKDF_SHA256,
    { name: "DHKEM(P-256, HKDF-SHA256)", publicKeyLength: 65, create: () => new DhkemP256HkdfSha256() },
  ],
  [
    KEM_ID.P521_HKDF_SHA512,
    { name: "DHKEM(P-521, HKDF-SHA512)", publicKeyLength: 133, create: () => new DhkemP521HkdfSha512() },
  ],
]);

const KDFS: ReadonlyMap<
  number,
  { readonly name: string; readonly create: () => HkdfSha256 | HkdfSha384 | HkdfSha512 }
> = new Map([
  [KDF_ID.HKDF_SHA256, { name: "HKDF-SHA256", create: () => new HkdfSha256() }],
  [KDF_ID.HKDF_SHA384, { name: "HKDF-SHA384", create: () => new HkdfSha384() }],
  [KDF_ID.HKDF_SHA512, { name: "HKDF-SHA512", create: () => new HkdfSha512() }],
]);

const AEADS: ReadonlyMap<number, AeadInfo> = new Map<number, AeadInfo>([
  [
    AEAD_ID.AES_128_GCM,
    { name: "AES-128-GCM", keyLength: 16, nonceLength: 12, tagLength: 16, create: () => new Aes128Gcm() },
  ],
  [
    AEAD_ID.AES_256_GCM,
    { name: "AES-256-GCM", keyLength: 32, nonceLength: 12, tagLength: 16, create: () => new Aes256Gcm() },
  ],
  [
    AEAD_ID.CHACHA20_POLY1305,
    { name: "ChaCha20Poly1305", keyLength: 32, nonceLength: 12, tagLength: 16, create: () => new Chacha20Poly1305() },
  ],
]);

/** True when this module implements the KEM. */
export function isSupportedKem(kemId: number): boolean {
  return KEMS.has(kemId);
}

/** True when this module implements the KDF and the AEAD. */
export function isSupportedSymmetric(kdfId: number, aeadId: number): boolean {
  return KDFS.has(kdfId) && AEADS.has(aeadId);
}

/** Npk (= Nenc) of a supported KEM; `undefined` when unsupported. */
export function kemPublicKeyLength(kemId: number): number | undefined {
  return KEMS.get(kemId)?.publicKeyLength;
}

/** Sizes of a supported AEAD (Nk, Nn, Nt); `undefined` when unsupported. */
export function aeadSizes(aeadId: number): Pick<AeadInfo, "keyLength" | "nonceLength" | "tagLength"> | undefined {
  return AEADS.get(aeadId);
}

/** `DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM`, or hex ids for unknown ones. */
export function describeSuite(suite: HpkeSuite): string {
  const hex = (n: number) => `0x${n.toString(16).padStart(4, "0")}`;
  return [
    KEMS.get(suite.kemId)?.name ?? `KEM ${hex(suite.kemId)}`,
    KDFS.get(suite.kdfId)?.name ?? `KDF ${hex(suite.kdfId)}`,
    AEADS.get(suite.aeadId)?.name ?? `AEAD ${hex(suite.aeadId)}`,
  ].join(", ");
}

const suites = new Map<string, CipherSuite>();

/** The `@hpke/core` cipher suite for supported ids (cached); `undefined` when any id is unsupported. */
export function cipherSuite(suite: HpkeSuite): CipherSuite | undefined {
  const key = `${suite.kemId}/${suite.kdfId}/${suite.aeadId}`;
  const cached = suites.get(key);
  if (cached !== undefined) return cached;
  const kem = KEMS.get(suite.kemId);
  const kdf = KDFS.get(suite.kdfId);
  const aead = AEADS.get(suite.aeadId);
  if (kem === undefined || kdf === undefined || aead === undefined) return undefined;
  const created = new CipherSuite({ kem: kem.create(), kdf: kdf.create(), aead: aead.create() });
  suites.set(key, created);
  return created;
}
