/**
 * Strict X.509 v3 certificate parser (RFC 5280 §4.1) over the DER reader, plus signature checks
 * through node:crypto. It keeps the raw TBSCertificate bytes for signature verification and exposes
 * what the AMD chain rules need: names, validity, key, signature algorithm, extensions. Untrusted
 * input that is not a certificate raises {@link CoreError} `CERTIFICATE_MALFORMED` (DER errors
 * included, as its cause); the verifier re-raises it as its own `CERTIFICATE_MALFORMED`.
 */
import { createPublicKey, constants, verify as cryptoVerify, type KeyObject } from "node:crypto";
import {
  children,
  decodeBitString,
  decodeInteger,
  decodeOid,
  decodeString,
  decodeTime,
  expectTag,
  readOne,
  TAG,
  type Tlv,
} from "../der.js";
import { CoreError, isCoreError } from "../errors.js";
import { OID } from "./oid.js";

const HASH_NAMES: Readonly<Record<string, string>> = { [OID.sha256]: "sha256", [OID.sha384]: "sha384" };

/** A signature algorithm as declared in a certificate or CRL. */
export type SignatureAlgorithm =
  | { readonly kind: "rsa-pss"; readonly hash: string; readonly mgf1Hash: string; readonly saltLength: number }
  | { readonly kind: "ecdsa"; readonly hash: string }
  | { readonly kind: "unsupported"; readonly oid: string };

/** One attribute of a distinguished name, in encoding order. */
export interface NameAttribute {
  readonly oid: string;
  readonly value: string;
}

/** One extension; `value` is the content of its OCTET STRING. */
export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Buffer;
}

/** A parsed certificate. Buffers are views into `der`. */
export interface Certificate {
  readonly der: Buffer;
  readonly tbs: Buffer;
  readonly version: number;
  readonly serial: bigint;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly issuer: readonly NameAttribute[];
  readonly issuerRaw: Buffer;
  readonly subject: readonly NameAttribute[];
  readonly subjectRaw: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Buffer;
  readonly publicKey: KeyObject;
  readonly extensions: readonly Extension[];
  readonly signature: Buffer;
}

function malformed(message: string, cause?: unknown): CoreError {
  return new CoreError("CERTIFICATE_MALFORMED", message, { cause });
}

/**
 * Parses an AlgorithmIdentifier (RFC 5280 §4.1.1.2; RSASSA-PSS params per RFC 4055 §3.1). Throws
 * `CERTIFICATE_MALFORMED` for a malformed one, `DER_MALFORMED` for bytes that are not DER.
 */
export function parseSignatureAlgorithm(t: Tlv): SignatureAlgorithm {
  const [idT, params, ...rest] = children(expectTag(t, TAG.sequence, "AlgorithmIdentifier"));
  if (!idT || rest.length > 0) throw malformed("AlgorithmIdentifier: wrong shape");
  const id = decodeOid(idT);
  if (id === OID.ecdsaWithSha384 || id === OID.ecdsaWithSha256) {
    const hash = id === OID.ecdsaWithSha384 ? "sha384" : "sha256";
    if (params) throw malformed(`ecdsa-with-${hash.toUpperCase()} must have absent parameters`);
    return { kind: "ecdsa", hash };
  }
  if (id !== OID.rsassaPss) return { kind: "unsupported", oid: id };
  if (!params) throw malformed("RSASSA-PSS without parameters");
  // Defaults (RFC 4055): SHA-1, MGF1-SHA-1, salt 20, trailer 1; AMD states every value explicitly.
  let hash = "sha1";
  let mgf1Hash = "sha1";
  let saltLength = 20;
  for (const field of children(expectTag(params, TAG.sequence, "RSASSA-PSS-params"))) {
    const [inner] = children(field);
    if (!inner) throw malformed("RSASSA-PSS-params: empty field");
    if (field.tag === 0xa0) hash = hashName(inner);
    else if (field.tag === 0xa1) {
      const [mgfId, mgfHash] = children(expectTag(inner, TAG.sequence, "maskGenAlgorithm"));
      if (!mgfId || !mgfHash || decodeOid(mgfId) !== OID.mgf1)
        throw malformed("RSASSA-PSS-params: mask generation is not MGF1");
      mgf1Hash = hashName(mgfHash);
    } else if (field.tag === 0xa2) saltLength = Number(decodeInteger(inner));
    else if (field.tag === 0xa3) {
      if (decodeInteger(inner) !== 1n) throw malformed("RSASSA-PSS-params: trailer field is not 1");
    } else throw malformed(`RSASSA-PSS-params: unknown field tag 0x${field.tag.toString(16)}`);
  }
  return { kind: "rsa-pss", hash, mgf1Hash, saltLength };
}

function hashName(t: Tlv): string {
  const [idT, params] = children(expectTag(t, TAG.sequence, "hash AlgorithmIdentifier"));
  if (!idT) throw malformed("hash AlgorithmIdentifier: empty");
  if (params && params.tag !== TAG.null) throw malformed("hash AlgorithmIdentifier: unexpected parameters");
  const id = decodeOid(idT);
  return HASH_NAMES[id] ?? `oid:${id}`;
}

function parseName(t: Tlv): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of children(expectTag(t, TAG.sequence, "Name"))) {
    for (const atv of children(expectTag(rdn, TAG.set, "RelativeDistinguishedName"))) {
      const [typeT, valueT, ...rest] = children(expectTag(atv, TAG.sequence, "AttributeTypeAndValue"));
      if (!typeT || !valueT || rest.length > 0) throw malformed("AttributeTypeAndValue: wrong shape");
      out.push({ oid: decodeOid(typeT), value: decodeString(valueT) });
    }
  }
  return out;
}

function parseExtensions(t: Tlv): Extension[] {
  const [list, ...rest] = children(t);
  if (!list || rest.length > 0) throw malformed("extensions: wrong shape");
  return children(expectTag(list, TAG.sequence, "Extensions")).map((ext) => {
    const parts = children(expectTag(ext, TAG.sequence, "Extension"));
    const [idT] = parts;
    if (!idT || parts.length < 2 || parts.length > 3) throw malformed("Extension: wrong shape");
    let critical = false;
    let valueT = parts[1] as Tlv;
    if (parts.length === 3) {
      const b = expectTag(parts[1] as Tlv, TAG.boolean, "Extension.critical");
      if (b.value.length !== 1 || (b.value[0] !== 0xff && b.value[0] !== 0))
        throw malformed("Extension.critical: bad BOOLEAN");
      critical = b.value[0] === 0xff;
      valueT = parts[2] as Tlv;
    }
    return { oid: decodeOid(idT), critical, value: expectTag(valueT, TAG.octetString, "Extension.extnValue").value };
  });
}

/** Parses one DER certificate; throws `CERTIFICATE_MALFORMED` on anything that is not a well-formed X.509 v3 certificate. */
export function parseCertificate(der: Uint8Array): Certificate {
  const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const [tbsT, algT, sigT, ...extra] = children(readOne(buf, TAG.sequence));
    if (!tbsT || !algT || !sigT || extra.length > 0) throw malformed("Certificate: expected 3 elements");
    const fields = children(expectTag(tbsT, TAG.sequence, "TBSCertificate"));
    let i = 0;
    let version = 1;
    if (fields[0]?.tag === 0xa0) {
      const [v] = children(fields[0]);
      if (!v) throw malformed("version: empty");
      version = Number(decodeInteger(v)) + 1;
      i = 1;
    }
    const [serialT, innerAlgT, issuerT, validityT, subjectT, spkiT, ...optional] = fields.slice(i);
    if (!serialT || !innerAlgT || !issuerT || !validityT || !subjectT || !spkiT)
      throw malformed("TBSCertificate: missing fields");
    if (!innerAlgT.raw.equals(algT.raw))
      throw malformed("TBSCertificate.signature differs from Certificate.signatureAlgorithm");
    const [nbT, naT, ...vrest] = children(expectTag(validityT, TAG.sequence, "Validity"));
    if (!nbT || !naT || vrest.length > 0) throw malformed("Validity: wrong shape");
    const extT = optional.find((o) => o.tag === 0xa3);
    if (optional.some((o) => o.tag !== 0xa3 && o.tag !== 0x81 && o.tag !== 0x82))
      throw malformed("TBSCertificate: unexpected trailing field");
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: spkiT.raw, format: "der", type: "spki" });
    } catch (e) {
      throw malformed("subjectPublicKeyInfo: not a usable public key", e);
    }
    return {
      der: buf,
      tbs: tbsT.raw,
      version,
      serial: decodeInteger(serialT),
      signatureAlgorithm: parseSignatureAlgorithm(algT),
      issuer: parseName(issuerT),
      issuerRaw: issuerT.raw,
      subject: parseName(subjectT),
      subjectRaw: subjectT.raw,
      notBefore: decodeTime(nbT),
      notAfter: decodeTime(naT),
      spki: spkiT.raw,
      publicKey,
      extensions: extT ? parseExtensions(extT) : [],
      signature: decodeBitString(sigT),
    };
  } catch (e) {
    if (isCoreError(e, "CERTIFICATE_MALFORMED")) throw e;
    if (isCoreError(e, "DER_MALFORMED")) throw malformed(e.message, e);
    throw malformed("certificate: cannot parse", e);
  }
}

/** Parses PEM text (one or more `CERTIFICATE` blocks) or a single DER certificate. */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  const text = typeof input === "string" ? input : Buffer.from(input).toString("latin1");
  if (!text.includes("-----BEGIN"))
    return [parseCertificate(typeof input === "string" ? Buffer.from(input, "latin1") : input)];
  const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g)];
  if (blocks.length === 0) throw malformed("PEM: no CERTIFICATE block");
  return blocks.map((m) => parseCertificate(Buffer.from((m[1] as string).replace(/\s+/g, ""), "base64")));
}

/** The first value of a name attribute (`OID.commonName`, ...), or undefined. */
export function nameValue(name: readonly NameAttribute[], oid: string): string | undefined {
  return name.find((a) => a.oid === oid)?.value;
}

/** The extension with `oid`, or undefined. */
export function findExtension(cert: Certificate, oid: string): Extension | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}

/** True when `signature` over `data` verifies with `key` under `alg`; unsupported algorithms never verify. */
export function verifySignature(
  alg: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
  key: KeyObject,
): boolean {
  try {
    if (alg.kind === "rsa-pss") {
      if (alg.hash !== alg.mgf1Hash) return false;
      return cryptoVerify(
        alg.hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength },
        signature,
      );
    }
    if (alg.kind === "ecdsa") return cryptoVerify(alg.hash, data, key, signature);
    return false;
  } catch {
    return false;
  }
}

/** True when `cert` carries a valid signature by `issuerKey`. */
export function isSignedBy(cert: Certificate, issuerKey: KeyObject): boolean {
  return verifySignature(cert.signatureAlgorithm, cert.tbs, cert.signature, issuerKey);
}
