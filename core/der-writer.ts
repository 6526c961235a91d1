/**
 * A minimal DER encoder (ITU-T X.690 section 10): exactly the types an X.509 certificate needs.
 * Pure functions over Buffers; no parsing (Node's X509Certificate and openssl check the output).
 */

/** Encodes a definite length (X.690 8.1.3: short form below 128, long form otherwise). */
function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A TLV with the given identifier octet. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SEQUENCE (0x30) of already encoded parts. */
export function seq(...parts: Uint8Array[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

/** SET (0x31) of already encoded parts (caller orders them; single-element sets in practice). */
export function set(...parts: Uint8Array[]): Buffer {
  return tlv(0x31, Buffer.concat(parts));
}

/** INTEGER from an unsigned big-endian magnitude (minimal, with a 0x00 pad when the top bit is set). */
export function uint(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i += 1;
  let body = Buffer.from(magnitude.subarray(i));
  if (body.length === 0) body = Buffer.from([0]);
  if ((body[0] as number) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}

/** INTEGER from a small non-negative number. */
export function smallInt(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`smallInt: ${n} is not a non-negative safe integer`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return uint(Buffer.from(bytes.length ? bytes : [0]));
}

/** OBJECT IDENTIFIER from dotted form (X.690 8.19). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map((a) => Number(a));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0))
    throw new TypeError(`oid: "${dotted}" is not a dotted OID`);
  const out: number[] = [(arcs[0] as number) * 40 + (arcs[1] as number)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** NULL. */
export function derNull(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

/** BOOLEAN (DER: TRUE is 0xff). */
export function bool(v: boolean): Buffer {
  return tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
}

/** UTF8String. */
export function utf8(s: string): Buffer {
  return tlv(0x0c, Buffer.from(s, "utf8"));
}

/** OCTET STRING. */
export function octets(b: Uint8Array): Buffer {
  return tlv(0x04, b);
}

/** BIT STRING with no unused bits. */
export function bits(b: Uint8Array): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
}

/** BIT STRING of named bits, DER-minimal (trailing zero bits removed, X.690 11.2.2). */
export function namedBits(bitIndexes: readonly number[]): Buffer {
  if (bitIndexes.length === 0) return tlv(0x03, Buffer.from([0]));
  const highest = Math.max(...bitIndexes);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const i of bitIndexes) bytes[Math.floor(i / 8)] = (bytes[Math.floor(i / 8)] as number) | (0x80 >> (i % 8));
  const unused = 7 - (highest % 8);
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** Time per RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Z. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = d.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, "ascii"));
  return tlv(0x18, Buffer.from(`${digits}Z`, "ascii"));
}

/** Context-specific constructed [n] EXPLICIT wrapper. */
export function explicit(n: number, content: Uint8Array): Buffer {
  return tlv(0xa0 | n, content);
}

/** Context-specific primitive [n] IMPLICIT (GeneralName dNSName, iPAddress, URI; key identifiers). */
export function implicitPrimitive(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | n, content);
}

/**
 * Ecdsa-Sig-Value (RFC 3279 2.2.3) from a raw r||s signature, as PKCS#11 CKM_ECDSA returns it.
 * X.509 and TLS carry the DER form; JWS carries the raw form.
 */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length % 2 !== 0 || raw.length === 0)
    throw new TypeError(`ecdsaRawToDer: raw signature of odd length ${raw.length}`);
  const half = raw.length / 2;
  return seq(uint(raw.subarray(0, half)), uint(raw.subarray(half)));
}
