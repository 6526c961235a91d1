/**
 * Builds X.509 certificates and CRLs in the shapes AMD's KDS issues (RFC 5280; RSASSA-PSS SHA-384,
 * MGF1-SHA-384, salt 48, explicit parameters). Used by the simulated SNP signer and by tests that
 * need certificates with chosen defects. Never used to verify anything.
 */
import { constants, createHash, sign as cryptoSign, type KeyObject } from "node:crypto";
import { OID } from "./certificate.js";
import * as der from "../der.js";

/** One name attribute to encode: OID, value and string type. */
export interface NameSpec {
  readonly oid: string;
  readonly value: string;
  readonly type?: "utf8" | "printable";
}

/** One extension to encode. */
export interface ExtensionSpec {
  readonly oid: string;
  readonly critical?: boolean;
  /** The bytes inside the extension's OCTET STRING. */
  readonly value: Uint8Array;
}

/** Everything a certificate needs besides the issuer's key. */
export interface CertificateSpec {
  readonly serial: bigint;
  readonly issuer: readonly NameSpec[];
  readonly subject: readonly NameSpec[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The subject's public key. */
  readonly publicKey: KeyObject;
  readonly extensions: readonly ExtensionSpec[];
}

/** AlgorithmIdentifier for RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48 (RFC 4055), as AMD writes it. */
export function rsaPssSha384AlgorithmId(): Buffer {
  const sha384 = der.seq(der.oid(OID.sha384), der.nul());
  return der.seq(
    der.oid(OID.rsassaPss),
    der.seq(
      der.explicit(0, sha384),
      der.explicit(1, der.seq(der.oid(OID.mgf1), sha384)),
      der.explicit(2, der.integer(48)),
    ),
  );
}

/** Encodes a Name: one RDN per attribute, in the given order. */
export function encodeName(name: readonly NameSpec[]): Buffer {
  return der.seq(
    ...name.map((a) =>
      der.set(der.seq(der.oid(a.oid), a.type === "printable" ? der.printable(a.value) : der.utf8(a.value))),
    ),
  );
}

/** Signs `data` with RSASSA-PSS SHA-384 salt 48. */
export function signPss384(data: Uint8Array, key: KeyObject): Buffer {
  return cryptoSign("sha384", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
}

/** Encodes and signs a certificate with `issuerKey` (RSA). Returns DER. */
export function buildCertificate(spec: CertificateSpec, issuerKey: KeyObject): Buffer {
  const alg = rsaPssSha384AlgorithmId();
  const spki = spec.publicKey.export({ type: "spki", format: "der" });
  const exts = spec.extensions.map((e) =>
    der.seq(der.oid(e.oid), ...(e.critical ? [der.boolean(true)] : []), der.octetString(e.value)),
  );
  const tbs = der.seq(
    der.explicit(0, der.integer(2)),
    der.integer(spec.serial),
    alg,
    encodeName(spec.issuer),
    der.seq(der.time(spec.notBefore), der.time(spec.notAfter)),
    encodeName(spec.subject),
    spki,
    ...(exts.length > 0 ? [der.explicit(3, der.seq(...exts))] : []),
  );
  return der.seq(tbs, alg, der.bitString(signPss384(tbs, issuerKey)));
}

/** Everything a CRL needs besides the issuer's key. */
export interface CrlSpec {
  readonly issuer: readonly NameSpec[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revoked: readonly { readonly serial: bigint; readonly date: Date }[];
}

/** Encodes and signs a v2 CRL with `issuerKey` (RSA). Returns DER. */
export function buildCrl(spec: CrlSpec, issuerKey: KeyObject): Buffer {
  const alg = rsaPssSha384AlgorithmId();
  const revoked = spec.revoked.map((r) => der.seq(der.integer(r.serial), der.time(r.date)));
  const tbs = der.seq(
    der.integer(1),
    alg,
    encodeName(spec.issuer),
    der.time(spec.thisUpdate),
    der.time(spec.nextUpdate),
    ...(revoked.length > 0 ? [der.seq(...revoked)] : []),
  );
  return der.seq(tbs, alg, der.bitString(signPss384(tbs, issuerKey)));
}

// ---- standard extension values ----

/** basicConstraints: CA flag and optional path length. */
export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  return der.seq(...(ca ? [der.boolean(true)] : []), ...(pathLen === undefined ? [] : [der.integer(pathLen)]));
}

/** keyUsage with keyCertSign (bit 5) and optionally cRLSign (bit 6). */
export function keyUsageCertSign(crlSign: boolean): Buffer {
  return crlSign
    ? der.tlv(der.TAG.bitString, Buffer.from([1, 0x06]))
    : der.tlv(der.TAG.bitString, Buffer.from([2, 0x04]));
}

/** cRLDistributionPoints with one URI. */
export function crlDistributionPoint(uri: string): Buffer {
  return der.seq(der.seq(der.tlv(0xa0, der.tlv(0xa0, der.tlv(0x86, Buffer.from(uri, "latin1"))))));
}

/** subjectKeyIdentifier: SHA-1 of the subject public key bits (RFC 5280 §4.2.1.2 method 1). */
export function subjectKeyIdentifier(key: KeyObject): Buffer {
  return der.octetString(keyId(key));
}

/** authorityKeyIdentifier with the issuer's key identifier. */
export function authorityKeyIdentifier(issuerKey: KeyObject): Buffer {
  return der.seq(der.tlv(0x80, keyId(issuerKey)));
}

function keyId(key: KeyObject): Buffer {
  const spki = der.readOne(key.export({ type: "spki", format: "der" }));
  const bits = der.children(spki)[1];
  return createHash("sha1")
    .update(bits ? der.decodeBitString(bits) : Buffer.alloc(0))
    .digest();
}
