/**
 * The PKCS#11 objects the broker creates and looks up: the kinds of key, the search template by
 * label, the generation templates (every key created inside the token, sensitive, never
 * extractable, referenced by label), and the decoding of the attributes read back.
 */
import * as pkcs11js from "pkcs11js";
import { KeyBrokerError } from "../errors.js";

/** DER of the P-384 named-curve OID (1.3.132.0.34), the CKA_EC_PARAMS value. */
export const P384_EC_PARAMS = Buffer.from("06052b81040022", "hex");

/** The kinds of key object the broker creates. */
export type KeyKind = "aes" | "ec-private" | "ec-public" | "hmac";

/** Search template: objects of `kind` with exactly this label. */
export function findTemplate(kind: KeyKind, label: string): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: classOf(kind) },
    { type: pkcs11js.CKA_LABEL, value: label },
  ];
}

/** Template of a token AES-256 key: sensitive, never extractable, for encrypt/decrypt and wrap/unwrap. */
export function aesKeyTemplate(label: string): pkcs11js.Template {
  return [
    ...secretBase(label),
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
  ];
}

/** Template of a token generic secret (48 bytes) for HMAC-SHA384 key derivation: sensitive, never extractable. */
export function hmacKeyTemplate(label: string): pkcs11js.Template {
  return [
    ...secretBase(label),
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: pkcs11js.CKA_VALUE_LEN, value: 48 },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_VERIFY, value: true },
  ];
}

/** Templates of a token EC P-384 key pair for signing; the private half is sensitive and never extractable. */
export function ecKeyPairTemplates(label: string): { publicKey: pkcs11js.Template; privateKey: pkcs11js.Template } {
  return {
    publicKey: [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(label, "utf8") },
      { type: pkcs11js.CKA_EC_PARAMS, value: P384_EC_PARAMS },
      { type: pkcs11js.CKA_VERIFY, value: true },
    ],
    privateKey: [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(label, "utf8") },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
    ],
  };
}

/** The uncompressed EC point (04 || X || Y, 97 bytes) from a CKA_EC_POINT value. */
export function ecPointFromAttribute(raw: unknown): Buffer {
  if (!Buffer.isBuffer(raw)) throw new KeyBrokerError("HSM_OPERATION_FAILED", "reading CKA_EC_POINT: no value");
  // CKA_EC_POINT is a DER OCTET STRING wrapping the point (04 61 04 ...); some modules return the bare point.
  if (raw.length === 99 && raw[0] === 0x04 && raw[1] === 0x61) return raw.subarray(2);
  if (raw.length === 97 && raw[0] === 0x04) return raw;
  throw new KeyBrokerError("HSM_OPERATION_FAILED", `reading CKA_EC_POINT: unexpected length ${raw.length}`);
}

/** A CK_BBOOL attribute value as read back (a one-byte buffer, or a boolean). */
export function isTrue(value: unknown): boolean {
  return Buffer.isBuffer(value) ? value[0] === 1 : value === true;
}

function classOf(kind: KeyKind): number {
  switch (kind) {
    case "aes":
    case "hmac":
      return pkcs11js.CKO_SECRET_KEY;
    case "ec-private":
      return pkcs11js.CKO_PRIVATE_KEY;
    case "ec-public":
      return pkcs11js.CKO_PUBLIC_KEY;
  }
}

function secretBase(label: string): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: Buffer.from(label, "utf8") },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  ];
}
