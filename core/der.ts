/**
 * A tiny DER reader and writer (ITU-T X.690), enough for X.509 certificates, CRLs and AMD's VCEK
 * extensions. Only single-byte tags and definite lengths; non-minimal lengths are refused (DER).
 * Reader errors are {@link AttestationError}s with code `CERTIFICATE_MALFORMED`; callers that parse
 * something else (a CRL) re-raise them with their own code.
 */
import { AttestationError } from "../runtime/attestation/errors.js";

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

function malformed(message: string): AttestationError {
  return new AttestationError("CERTIFICATE_MALFORMED", `DER: ${message}`);
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

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one element with the given tag around the concatenated contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

/** SEQUENCE of the given encoded elements. */
export const seq = (...items: Uint8Array[]): Buffer => tlv(TAG.sequence, ...items);
/** SET of the given encoded elements (caller orders them). */
export const set = (...items: Uint8Array[]): Buffer => tlv(TAG.set, ...items);

/** INTEGER from a non-negative bigint or number. */
export function integer(n: bigint | number): Buffer {
  let v = BigInt(n);
  if (v < 0n) throw new TypeError("der.integer: negative values are not needed here");
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return tlv(TAG.integer, Buffer.from(bytes));
}

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0))
    throw new TypeError(`der.oid: bad OID ${dotted}`);
  const values = [(arcs[0] as number) * 40 + (arcs[1] as number), ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of values) {
    const chunk: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

/** BIT STRING with no unused bits. */
export const bitString = (bytes: Uint8Array): Buffer => tlv(TAG.bitString, Buffer.from([0]), bytes);
/** OCTET STRING. */
export const octetString = (bytes: Uint8Array): Buffer => tlv(TAG.octetString, bytes);
/** UTF8String. */
export const utf8 = (s: string): Buffer => tlv(TAG.utf8String, Buffer.from(s, "utf8"));
/** PrintableString. */
export const printable = (s: string): Buffer => tlv(TAG.printableString, Buffer.from(s, "latin1"));
/** IA5String. */
export const ia5 = (s: string): Buffer => tlv(TAG.ia5String, Buffer.from(s, "latin1"));
/** BOOLEAN. */
export const boolean = (b: boolean): Buffer => tlv(TAG.boolean, Buffer.from([b ? 0xff : 0]));
/** NULL. */
export const nul = (): Buffer => tlv(TAG.null);
/** Context-specific constructed tag `[n]` around the contents (EXPLICIT tagging). */
export const explicit = (n: number, ...contents: Uint8Array[]): Buffer => tlv(0xa0 | n, ...contents);

/** UTCTime for years 1950-2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
export function time(d: Date): Buffer {
  const iso = d.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(TAG.utcTime, Buffer.from(`${digits.slice(2)}Z`, "latin1"))
    : tlv(TAG.generalizedTime, Buffer.from(`${digits}Z`, "latin1"));
}
