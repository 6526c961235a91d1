/**
 * The project's one DER codec (ITU-T X.690): a strict reader for untrusted bytes (AMD certificates,
 * CRLs, VCEK extensions) and a writer with exactly the types X.509 certificates and CRLs need. Only
 * single-byte tags and definite lengths; the reader refuses non-minimal lengths and integers (DER).
 * Reader errors are {@link CoreError}s with code `DER_MALFORMED`; callers that parse a certificate,
 * a CRL or an extension re-raise them with their own code. Writer misuse (a negative integer, a
 * malformed OID string) raises `TypeError`.
 */
import { CoreError } from "./errors.js";

/** Universal tags used here (X.690 §8). */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One decoded tag-length-value element; `value` and `raw` are views into the input. */
export interface Tlv {
  readonly tag: number;
  /** Content octets. */
  readonly value: Buffer;
  /** The whole element (header and content). */
  readonly raw: Buffer;
  /** Offset just past the element in the buffer it was read from. */
  readonly end: number;
}

function malformed(message: string): CoreError {
  return new CoreError("DER_MALFORMED", `DER: ${message}`);
}

/** Reads the element at `offset` of `buf`. */
export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw malformed(`truncated header at ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw malformed(`multi-byte tag at ${offset}`);
  let length = buf[offset + 1] as number;
  let header = 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0) throw malformed(`indefinite length at ${offset}`);
    if (n > 4) throw malformed(`length of ${n} bytes at ${offset}`);
    if (offset + 2 + n > buf.length) throw malformed(`truncated length at ${offset}`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    if (length < 0x80 || (n > 1 && buf[offset + 2] === 0)) throw malformed(`non-minimal length at ${offset}`);
    header += n;
  }
  const end = offset + header + length;
  if (end > buf.length) throw malformed(`element at ${offset} runs past the end (${end} > ${buf.length})`);
  return { tag, value: buf.subarray(offset + header, end), raw: buf.subarray(offset, end), end };
}

/** Reads `buf` as exactly one element (no trailing bytes). */
export function readOne(buf: Buffer, expectedTag?: number): Tlv {
  const t = readTlv(buf, 0);
  if (t.end !== buf.length) throw malformed(`${buf.length - t.end} trailing bytes`);
  if (expectedTag !== undefined) expectTag(t, expectedTag);
  return t;
}

/** The elements inside a constructed element. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < t.value.length) {
    const c = readTlv(t.value, off);
    out.push(c);
    off = c.end;
  }
  return out;
}

/** Throws unless `t` has tag `tag`. */
export function expectTag(t: Tlv, tag: number, what = "element"): Tlv {
  if (t.tag !== tag) throw malformed(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** Decodes an OBJECT IDENTIFIER to dotted form. */
export function decodeOid(t: Tlv): string {
  expectTag(t, TAG.oid, "OID");
  const v = t.value;
  if (v.length === 0) throw malformed("empty OID");
  const parts: number[] = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    const b = v[i] as number;
    if (acc === 0 && b === 0x80) throw malformed("non-minimal OID arc");
    acc = acc * 128 + (b & 0x7f);
    if (acc > Number.MAX_SAFE_INTEGER / 128) throw malformed("OID arc too large");
    if (!(b & 0x80)) {
      parts.push(acc);
      acc = 0;
    } else if (i === v.length - 1) throw malformed("truncated OID");
  }
  const first = parts[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join(".");
}

/** Decodes an INTEGER as a bigint (two's complement). */
export function decodeInteger(t: Tlv): bigint {
  expectTag(t, TAG.integer, "INTEGER");
  const v = t.value;
  if (v.length === 0) throw malformed("empty INTEGER");
  if (v.length > 1 && ((v[0] === 0 && !((v[1] as number) & 0x80)) || (v[0] === 0xff && (v[1] as number) & 0x80))) {
    throw malformed("non-minimal INTEGER");
  }
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if ((v[0] as number) & 0x80) n -= 1n << BigInt(8 * v.length);
  return n;
}

/** Decodes a BIT STRING with no unused bits. */
export function decodeBitString(t: Tlv): Buffer {
  expectTag(t, TAG.bitString, "BIT STRING");
  if (t.value.length === 0) throw malformed("empty BIT STRING");
  if (t.value[0] !== 0) throw malformed("BIT STRING with unused bits");
  return t.value.subarray(1);
}

/** Decodes a string type (UTF8String, PrintableString, IA5String) to text. */
export function decodeString(t: Tlv): string {
  if (t.tag !== TAG.utf8String && t.tag !== TAG.printableString && t.tag !== TAG.ia5String) {
    throw malformed(`expected a string, got tag 0x${t.tag.toString(16)}`);
  }
  return t.value.toString(t.tag === TAG.utf8String ? "utf8" : "latin1");
}

/** Decodes UTCTime (YYMMDDHHMMSSZ, RFC 5280 §4.1.2.5.1) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
export function decodeTime(t: Tlv): Date {
  const s = t.value.toString("latin1");
  const m =
    t.tag === TAG.utcTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : t.tag === TAG.generalizedTime
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
        : null;
  if (!m) throw malformed(`bad time "${s}"`);
  let year = Number(m[1]);
  if (t.tag === TAG.utcTime) year += year < 50 ? 2000 : 1900;
  const d = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  if (Number.isNaN(d.getTime()) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3]))
    throw malformed(`bad time "${s}"`);
  return d;
}

// ---- writer ----

/** Definite length (X.690 8.1.3: short form below 128, long form otherwise). */
function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element with the given identifier octet around the concatenated contents. */
export function encodeTlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

/** SEQUENCE of already encoded elements. */
export const encodeSequence = (...items: Uint8Array[]): Buffer => encodeTlv(TAG.sequence, ...items);
/** SET of already encoded elements (the caller orders them; single-element sets in practice). */
export const encodeSet = (...items: Uint8Array[]): Buffer => encodeTlv(TAG.set, ...items);

/**
 * INTEGER, minimal (X.690 8.3.2), from a non-negative bigint or safe integer, or from an unsigned
 * big-endian magnitude (leading zero bytes dropped, a 0x00 pad added when the top bit is set).
 * @example encodeInteger(128) // 02 02 00 80
 */
export function encodeInteger(n: bigint | number | Uint8Array): Buffer {
  let v: bigint;
  if (n instanceof Uint8Array) v = n.length === 0 ? 0n : BigInt(`0x${Buffer.from(n).toString("hex")}`);
  else if (typeof n === "number" && !Number.isSafeInteger(n))
    throw new TypeError(`encodeInteger: ${n} is not a safe integer`);
  else v = BigInt(n);
  if (v < 0n) throw new TypeError("encodeInteger: negative values are not needed here");
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return encodeTlv(TAG.integer, Buffer.from(bytes));
}

/** OBJECT IDENTIFIER from dotted form (X.690 8.19). */
export function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0))
    throw new TypeError(`encodeOid: "${dotted}" is not a dotted OID`);
  const values = [(arcs[0] as number) * 40 + (arcs[1] as number), ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of values) {
    const chunk: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return encodeTlv(TAG.oid, Buffer.from(out));
}

/** BIT STRING with no unused bits. */
export const encodeBitString = (bytes: Uint8Array): Buffer => encodeTlv(TAG.bitString, Buffer.from([0]), bytes);

/** BIT STRING of named bits (bit 0 is the most significant), DER-minimal: trailing zero bits removed (X.690 11.2.2). */
export function encodeNamedBits(bitIndexes: readonly number[]): Buffer {
  if (bitIndexes.length === 0) return encodeTlv(TAG.bitString, Buffer.from([0]));
  const highest = Math.max(...bitIndexes);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const i of bitIndexes) bytes[Math.floor(i / 8)] = (bytes[Math.floor(i / 8)] as number) | (0x80 >> (i % 8));
  return encodeTlv(TAG.bitString, Buffer.from([7 - (highest % 8)]), bytes);
}

/** OCTET STRING. */
export const encodeOctetString = (bytes: Uint8Array): Buffer => encodeTlv(TAG.octetString, bytes);
/** UTF8String. */
export const encodeUtf8String = (s: string): Buffer => encodeTlv(TAG.utf8String, Buffer.from(s, "utf8"));
/** PrintableString (the caller keeps to its character set). */
export const encodePrintableString = (s: string): Buffer => encodeTlv(TAG.printableString, Buffer.from(s, "latin1"));
/** IA5String. */
export const encodeIa5String = (s: string): Buffer => encodeTlv(TAG.ia5String, Buffer.from(s, "latin1"));
/** BOOLEAN (DER: TRUE is 0xff). */
export const encodeBoolean = (b: boolean): Buffer => encodeTlv(TAG.boolean, Buffer.from([b ? 0xff : 0]));
/** NULL. */
export const encodeNull = (): Buffer => encodeTlv(TAG.null);
/** Context-specific constructed `[n]` around the contents (EXPLICIT tagging). */
export const encodeExplicit = (n: number, ...contents: Uint8Array[]): Buffer => encodeTlv(0xa0 | n, ...contents);
/** Context-specific primitive `[n]` IMPLICIT (GeneralName dNSName, iPAddress, URI; key identifiers). */
export const encodeImplicit = (n: number, content: Uint8Array): Buffer => encodeTlv(0x80 | n, content);

/** UTCTime for years 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5); whole seconds, Z. */
export function encodeTime(d: Date): Buffer {
  const digits = d.toISOString().slice(0, 19).replace(/[-T:]/g, "");
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? encodeTlv(TAG.utcTime, Buffer.from(`${digits.slice(2)}Z`, "latin1"))
    : encodeTlv(TAG.generalizedTime, Buffer.from(`${digits}Z`, "latin1"));
}

/**
 * Ecdsa-Sig-Value (RFC 3279 2.2.3) from a raw r||s signature, as PKCS#11 CKM_ECDSA returns it.
 * X.509 and TLS carry the DER form; JWS carries the raw form.
 */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length % 2 !== 0 || raw.length === 0)
    throw new TypeError(`ecdsaRawToDer: raw signature of odd length ${raw.length}`);
  const half = raw.length / 2;
  return encodeSequence(encodeInteger(raw.subarray(0, half)), encodeInteger(raw.subarray(half)));
}
