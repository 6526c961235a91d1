/**
 * The project's one X.509 writer (RFC 5280): certificates and v2 CRLs in DER, signed through a
 * pluggable {@link CertificateSigner}, synchronous or asynchronous:
 *
 * - {@link rsaPssSha384Signer}: RSASSA-PSS SHA-384 with AMD's explicit parameters (the simulated SNP
 *   platform's ARK/ASK/VCEK and CRLs, and tests that need certificates with chosen defects);
 * - {@link ecdsaSha384Signer}: ECDSA P-384 with a node:crypto key (the sandbox's software CAs);
 * - {@link ecdsaSha384RawSigner}: ECDSA P-384 where the key stays in an HSM: the signer hashes and
 *   signs with PKCS#11 `CKM_ECDSA` and returns raw r||s, sync or as a promise (pooled sessions).
 *
 * Pure: serial, times and keys come from the caller. Never used to verify anything (the strict
 * parser in `certificate.ts` reads untrusted certificates).
 */
import { constants, sign as cryptoSign, type KeyObject } from "node:crypto";
import {
  ecdsaRawToDer,
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOid,
  encodePrintableString,
  encodeSequence,
  encodeSet,
  encodeTime,
  encodeUtf8String,
} from "../der.js";
import { OID } from "./oid.js";

/** One name attribute: OID, value and string type (UTF8String unless `printable`). */
export interface NameSpec {
  readonly oid: string;
  readonly value: string;
  readonly type?: "utf8" | "printable";
}

/** One extension to encode. */
export interface ExtensionSpec {
  readonly oid: string;
  readonly critical?: boolean;
  /** The bytes inside the extension's OCTET STRING (see `extensions.ts` for the standard ones). */
  readonly value: Uint8Array;
}

/** Everything a certificate holds besides the issuer's signature. */
export interface CertificateSpec {
  /** Serial number: a non-negative bigint, or an unsigned big-endian magnitude of 1 to 20 bytes (RFC 5280 4.1.2.2). */
  readonly serial: bigint | Uint8Array;
  /** Issuer name, one RDN per attribute, in the given order. */
  readonly issuer: readonly NameSpec[];
  readonly subject: readonly NameSpec[];
  readonly notBefore: Date;
  /** Must be after `notBefore`. */
  readonly notAfter: Date;
  /** The subject's public key: a KeyObject or its DER SubjectPublicKeyInfo. */
  readonly publicKey: KeyObject | Uint8Array;
  /** Extensions in encoding order; none gives a certificate without the `[3]` field. */
  readonly extensions: readonly ExtensionSpec[];
}

/** Signs TBS bytes for a certificate or CRL; `R` is `Buffer` for a synchronous signer, `Promise<Buffer>` otherwise. */
export interface CertificateSigner<R extends Buffer | Promise<Buffer> = Buffer> {
  /** DER AlgorithmIdentifier, written both in the TBS and beside the signature. */
  readonly algorithm: Buffer;
  /** The signature over the DER TBS, as the signature BIT STRING holds it (ECDSA: a DER Ecdsa-Sig-Value). */
  sign(tbs: Buffer): R;
}

/** AlgorithmIdentifier for RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48 (RFC 4055 3.1), as AMD writes it. */
const RSA_PSS_SHA384 = (() => {
  const sha384 = encodeSequence(encodeOid(OID.sha384), encodeNull());
  return encodeSequence(
    encodeOid(OID.rsassaPss),
    encodeSequence(
      encodeExplicit(0, sha384),
      encodeExplicit(1, encodeSequence(encodeOid(OID.mgf1), sha384)),
      encodeExplicit(2, encodeInteger(48)),
    ),
  );
})();

/** AlgorithmIdentifier for ecdsa-with-SHA384 (RFC 5758 3.2): parameters absent. */
const ECDSA_SHA384 = encodeSequence(encodeOid(OID.ecdsaWithSha384));

/** AlgorithmIdentifier for ecdsa-with-SHA256 (RFC 5758 3.2): parameters absent (Intel's PCK and TCB Signing chains). */
const ECDSA_SHA256 = encodeSequence(encodeOid(OID.ecdsaWithSha256));

/** ECDSA with SHA-256 with a P-256 private KeyObject (Intel's SGX/TDX certificate shape; the simulated TDX platform). */
export function ecdsaSha256Signer(key: KeyObject): CertificateSigner {
  return { algorithm: ECDSA_SHA256, sign: (tbs) => cryptoSign("sha256", tbs, { key, dsaEncoding: "der" }) };
}

/** RSASSA-PSS SHA-384, salt 48, with an RSA private KeyObject (AMD's KDS shape). */
export function rsaPssSha384Signer(key: KeyObject): CertificateSigner {
  return {
    algorithm: RSA_PSS_SHA384,
    sign: (tbs) => cryptoSign("sha384", tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }),
  };
}

/** ECDSA with SHA-384 with a P-384 private KeyObject (software keys). */
export function ecdsaSha384Signer(key: KeyObject): CertificateSigner {
  return { algorithm: ECDSA_SHA384, sign: (tbs) => cryptoSign("sha384", tbs, { key, dsaEncoding: "der" }) };
}

/**
 * ECDSA with SHA-384 through a function that signs SHA-384 of the TBS and returns raw r||s (96 bytes),
 * as PKCS#11 `CKM_ECDSA` does: the CA key never leaves the HSM. Asynchronous when `signRaw` is.
 * @example buildCertificate(spec, ecdsaSha384RawSigner((tbs) => keyring.signEs384("ca", tbs).signature))
 */
export function ecdsaSha384RawSigner(signRaw: (tbs: Buffer) => Buffer): CertificateSigner;
export function ecdsaSha384RawSigner(signRaw: (tbs: Buffer) => Promise<Buffer>): CertificateSigner<Promise<Buffer>>;
export function ecdsaSha384RawSigner(
  signRaw: (tbs: Buffer) => Buffer | Promise<Buffer>,
): CertificateSigner<Buffer | Promise<Buffer>> {
  return {
    algorithm: ECDSA_SHA384,
    sign: (tbs) => {
      const raw = signRaw(tbs);
      return raw instanceof Promise ? raw.then(ecdsaRawToDer) : ecdsaRawToDer(raw);
    },
  };
}

/** Encodes a Name: one RDN per attribute, in the given order. */
export function encodeName(name: readonly NameSpec[]): Buffer {
  return encodeSequence(
    ...name.map((a) =>
      encodeSet(
        encodeSequence(
          encodeOid(a.oid),
          a.type === "printable" ? encodePrintableString(a.value) : encodeUtf8String(a.value),
        ),
      ),
    ),
  );
}

/** DER TBSCertificate (RFC 5280 4.1) for `spec`, declaring `algorithm`. Caller misuse raises `TypeError`. */
export function tbsCertificate(spec: CertificateSpec, algorithm: Buffer): Buffer {
  if (spec.serial instanceof Uint8Array && (spec.serial.length < 1 || spec.serial.length > 20))
    throw new TypeError(`tbsCertificate: serial must be 1..20 bytes, got ${spec.serial.length}`);
  if (spec.notAfter.getTime() <= spec.notBefore.getTime())
    throw new TypeError("tbsCertificate: notAfter must be after notBefore");
  const spki =
    spec.publicKey instanceof Uint8Array ? spec.publicKey : spec.publicKey.export({ type: "spki", format: "der" });
  const extensions = spec.extensions.map((e) =>
    encodeSequence(encodeOid(e.oid), ...(e.critical ? [encodeBoolean(true)] : []), encodeOctetString(e.value)),
  );
  return encodeSequence(
    encodeExplicit(0, encodeInteger(2)), // v3
    encodeInteger(spec.serial),
    algorithm,
    encodeName(spec.issuer),
    encodeSequence(encodeTime(spec.notBefore), encodeTime(spec.notAfter)),
    encodeName(spec.subject),
    spki,
    ...(extensions.length > 0 ? [encodeExplicit(3, encodeSequence(...extensions))] : []),
  );
}

const signed = (tbs: Buffer, algorithm: Buffer, signature: Uint8Array): Buffer =>
  encodeSequence(tbs, algorithm, encodeBitString(signature));

/**
 * Encodes and signs a certificate; returns DER.
 * @example buildCertificate(spec, rsaPssSha384Signer(askPrivateKey))
 */
export function buildCertificate(spec: CertificateSpec, signer: CertificateSigner): Buffer {
  const tbs = tbsCertificate(spec, signer.algorithm);
  return signed(tbs, signer.algorithm, signer.sign(tbs));
}

/** {@link buildCertificate} with a signer that may run off the event loop (the HSM's pooled sessions). */
export async function buildCertificateAsync(
  spec: CertificateSpec,
  signer: CertificateSigner<Buffer | Promise<Buffer>>,
): Promise<Buffer> {
  const tbs = tbsCertificate(spec, signer.algorithm);
  return signed(tbs, signer.algorithm, await signer.sign(tbs));
}

/** Everything a CRL holds besides the issuer's signature. */
export interface CrlSpec {
  readonly issuer: readonly NameSpec[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Revoked serials with their revocation dates; empty gives a CRL without the list. */
  readonly revoked: readonly { readonly serial: bigint; readonly date: Date }[];
}

/** Encodes and signs a v2 CRL (RFC 5280 5.1); returns DER. */
export function buildCrl(spec: CrlSpec, signer: CertificateSigner): Buffer {
  const revoked = spec.revoked.map((r) => encodeSequence(encodeInteger(r.serial), encodeTime(r.date)));
  const tbs = encodeSequence(
    encodeInteger(1), // v2
    signer.algorithm,
    encodeName(spec.issuer),
    encodeTime(spec.thisUpdate),
    encodeTime(spec.nextUpdate),
    ...(revoked.length > 0 ? [encodeSequence(...revoked)] : []),
  );
  return signed(tbs, signer.algorithm, signer.sign(tbs));
}

/** PEM armour (RFC 7468) for DER bytes: base64 in lines of 64, with a final newline. */
export function toPem(der: Uint8Array, label = "CERTIFICATE"): string {
  const b64 = Buffer.from(der)
    .toString("base64")
    .replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}
