/**
 * X.509 v3 certificates (RFC 5280) built in DER and signed through an injected signer, so the CA
 * key stays in the HSM: the broker builds the TBSCertificate, the HSM signs SHA-384(TBS) with
 * CKM_ECDSA, and the raw r||s becomes an Ecdsa-Sig-Value. Pure: time and serial come from the caller.
 */
import { createHash } from "node:crypto";
import { isIP, isIPv4 } from "node:net";
import {
  bits,
  bool,
  ecdsaRawToDer,
  explicit,
  implicitPrimitive,
  namedBits,
  octets,
  oid,
  seq,
  set,
  smallInt,
  time,
  uint,
  utf8,
} from "../der-writer.js";
import { spkiFromPoint } from "../ec-jwk.js";

/** ecdsa-with-SHA384 (RFC 5758 3.2): parameters absent. */
const OID_ECDSA_SHA384 = "1.2.840.10045.4.3.3";
const OID_CN = "2.5.4.3";
const OID_O = "2.5.4.10";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_KEY_USAGE = "2.5.29.15";
const OID_EXT_KEY_USAGE = "2.5.29.37";
const OID_SAN = "2.5.29.17";
const OID_SKI = "2.5.29.14";
const OID_AKI = "2.5.29.35";
const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** A distinguished name as common name plus optional organisation. */
export interface DistinguishedName {
  readonly commonName: string;
  readonly organization?: string;
}

/** Subject alternative names. */
export interface AltNames {
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
  readonly uri?: readonly string[];
}

/** Signs SHA-384 of the given bytes with the CA key; returns raw r||s (96 bytes). */
export type RawEs384Signer = (tbs: Buffer) => Buffer;

/** What goes into a certificate. */
export interface CertificateSpec {
  /** Serial number magnitude (1 to 20 bytes, RFC 5280 4.1.2.2). */
  readonly serial: Buffer;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Uncompressed P-384 point of the subject key. */
  readonly subjectPoint: Uint8Array;
  /** Uncompressed P-384 point of the issuer key (for the authority key identifier). */
  readonly issuerPoint: Uint8Array;
  /** A CA certificate (basicConstraints cA, keyCertSign) or an end-entity TLS certificate. */
  readonly profile: "ca" | "tls";
  readonly altNames?: AltNames;
}

function name(dn: DistinguishedName): Buffer {
  const rdns = [];
  if (dn.organization !== undefined) rdns.push(set(seq(oid(OID_O), utf8(dn.organization))));
  rdns.push(set(seq(oid(OID_CN), utf8(dn.commonName))));
  return seq(...rdns);
}

/** Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1). */
export function keyIdentifier(point: Uint8Array): Buffer {
  return createHash("sha1").update(point).digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function altNames(names: AltNames): Buffer {
  const general: Buffer[] = [];
  for (const d of names.dns ?? []) general.push(implicitPrimitive(2, Buffer.from(d, "ascii")));
  for (const u of names.uri ?? []) general.push(implicitPrimitive(6, Buffer.from(u, "ascii")));
  for (const a of names.ip ?? []) {
    if (isIP(a) === 0) throw new TypeError(`altNames: "${a}" is not an IP address`);
    general.push(implicitPrimitive(7, ipBytes(a)));
  }
  return seq(...general);
}

function ipBytes(a: string): Buffer {
  if (isIPv4(a)) return Buffer.from(a.split(".").map((x) => Number(x)));
  // IPv6: expand "::" and write 8 groups of 16 bits.
  const [head = "", tail] = a.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function extensions(spec: CertificateSpec): Buffer {
  const list: Buffer[] = [];
  if (spec.profile === "ca") {
    list.push(extension(OID_BASIC_CONSTRAINTS, true, seq(bool(true), smallInt(0))));
    list.push(extension(OID_KEY_USAGE, true, namedBits([0, 5, 6]))); // digitalSignature, keyCertSign, cRLSign
  } else {
    list.push(extension(OID_BASIC_CONSTRAINTS, true, seq()));
    list.push(extension(OID_KEY_USAGE, true, namedBits([0]))); // digitalSignature (ECDHE_ECDSA in TLS)
    list.push(extension(OID_EXT_KEY_USAGE, false, seq(oid(OID_SERVER_AUTH), oid(OID_CLIENT_AUTH))));
  }
  if (spec.altNames) list.push(extension(OID_SAN, false, altNames(spec.altNames)));
  list.push(extension(OID_SKI, false, octets(keyIdentifier(spec.subjectPoint))));
  list.push(extension(OID_AKI, false, seq(implicitPrimitive(0, keyIdentifier(spec.issuerPoint)))));
  return explicit(3, seq(...list));
}

/** DER TBSCertificate (RFC 5280 4.1). */
export function tbsCertificate(spec: CertificateSpec): Buffer {
  if (spec.serial.length < 1 || spec.serial.length > 20)
    throw new TypeError(`tbsCertificate: serial must be 1..20 bytes, got ${spec.serial.length}`);
  if (spec.notAfter.getTime() <= spec.notBefore.getTime())
    throw new TypeError("tbsCertificate: notAfter must be after notBefore");
  return seq(
    explicit(0, smallInt(2)), // v3
    uint(spec.serial),
    seq(oid(OID_ECDSA_SHA384)),
    name(spec.issuer),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spkiFromPoint(spec.subjectPoint),
    extensions(spec),
  );
}

/** Builds and signs a certificate; returns DER. */
export function buildCertificate(spec: CertificateSpec, sign: RawEs384Signer): Buffer {
  const tbs = tbsCertificate(spec);
  return signedCertificate(tbs, sign(tbs));
}

/** buildCertificate with a signer that runs off the event loop (the HSM's pooled sessions). */
export async function buildCertificateAsync(
  spec: CertificateSpec,
  sign: (tbs: Buffer) => Promise<Buffer>,
): Promise<Buffer> {
  const tbs = tbsCertificate(spec);
  return signedCertificate(tbs, await sign(tbs));
}

function signedCertificate(tbs: Buffer, rawSignature: Buffer): Buffer {
  return seq(tbs, seq(oid(OID_ECDSA_SHA384)), bits(ecdsaRawToDer(rawSignature)));
}

/** PEM armour for a DER certificate. */
export function toPem(der: Buffer): string {
  const b64 = der.toString("base64").replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
}
