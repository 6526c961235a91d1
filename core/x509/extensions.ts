/**
 * Values of the standard X.509 v3 extensions (RFC 5280 4.2.1), as the bytes inside an extension's
 * OCTET STRING (`ExtensionSpec.value`), plus RFC 5280's key identifier.
 */
import { createHash, type KeyObject } from "node:crypto";
import { isIP, isIPv4 } from "node:net";
import {
  children,
  decodeBitString,
  encodeBoolean,
  encodeImplicit,
  encodeInteger,
  encodeNamedBits,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeTlv,
  readOne,
} from "../der.js";

/** basicConstraints (4.2.1.9): the CA flag and an optional path length. */
export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  return encodeSequence(
    ...(ca ? [encodeBoolean(true)] : []),
    ...(pathLen === undefined ? [] : [encodeInteger(pathLen)]),
  );
}

/** The named bits of keyUsage (4.2.1.3). */
export const KEY_USAGE = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** keyUsage (4.2.1.3) with the given bits, DER-minimal. */
export function keyUsage(usages: readonly (keyof typeof KEY_USAGE)[]): Buffer {
  return encodeNamedBits(usages.map((u) => KEY_USAGE[u]));
}

/** extKeyUsage (4.2.1.12) with the given purpose OIDs (`OID.serverAuth`, `OID.clientAuth`). */
export function extendedKeyUsage(purposes: readonly string[]): Buffer {
  return encodeSequence(...purposes.map(encodeOid));
}

/** Subject alternative names: DNS names, IP addresses (v4 or v6 text) and URIs. */
export interface AltNames {
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
  readonly uri?: readonly string[];
}

/** subjectAltName (4.2.1.6): dNSName, then uniformResourceIdentifier, then iPAddress entries. */
export function subjectAltName(names: AltNames): Buffer {
  const general: Buffer[] = [];
  for (const d of names.dns ?? []) general.push(encodeImplicit(2, Buffer.from(d, "ascii")));
  for (const u of names.uri ?? []) general.push(encodeImplicit(6, Buffer.from(u, "ascii")));
  for (const a of names.ip ?? []) {
    if (isIP(a) === 0) throw new TypeError(`subjectAltName: "${a}" is not an IP address`);
    general.push(encodeImplicit(7, ipBytes(a)));
  }
  return encodeSequence(...general);
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

/** cRLDistributionPoints (4.2.1.13) with one fullName URI. */
export function crlDistributionPoint(uri: string): Buffer {
  return encodeSequence(
    encodeSequence(encodeTlv(0xa0, encodeTlv(0xa0, encodeImplicit(6, Buffer.from(uri, "latin1"))))),
  );
}

/**
 * Key identifier: SHA-1 of the subjectPublicKey bits (4.2.1.2 method 1) of a KeyObject or a DER
 * SubjectPublicKeyInfo. For an EC key that is SHA-1 of the uncompressed point.
 */
export function keyIdentifier(publicKey: KeyObject | Uint8Array): Buffer {
  const spki =
    publicKey instanceof Uint8Array ? Buffer.from(publicKey) : publicKey.export({ type: "spki", format: "der" });
  const bits = children(readOne(spki))[1];
  return createHash("sha1")
    .update(bits ? decodeBitString(bits) : Buffer.alloc(0))
    .digest();
}

/** subjectKeyIdentifier (4.2.1.2) of the subject's public key. */
export function subjectKeyIdentifier(publicKey: KeyObject | Uint8Array): Buffer {
  return encodeOctetString(keyIdentifier(publicKey));
}

/** authorityKeyIdentifier (4.2.1.1) with the issuer's key identifier only. */
export function authorityKeyIdentifier(issuerPublicKey: KeyObject | Uint8Array): Buffer {
  return encodeSequence(encodeImplicit(0, keyIdentifier(issuerPublicKey)));
}
