/**
 * Byte helpers shared by the codecs: QUIC variable-length integers (RFC 9000 section 16), a
 * bounds-checked reader that reports "need more bytes" as `undefined` (so incremental parsers can
 * retry after the next push), and a writer.
 */

/** Largest value a QUIC varint holds (2^62 - 1); values above 2^53 - 1 decode as `Infinity`. */
const VARINT_MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Encodes `value` as a QUIC varint on the fewest bytes (RFC 9000 section 16). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`varint: ${value} is not a non-negative integer`);
  if (value < 0x40) return Uint8Array.of(value);
  if (value < 0x4000) return Uint8Array.of(0x40 | (value >> 8), value & 0xff);
  if (value < 0x40000000) {
    return Uint8Array.of(0x80 | (value >>> 24), (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
  }
  const out = new Uint8Array(8);
  const hi = Math.floor(value / 0x100000000);
  const view = new DataView(out.buffer);
  view.setUint32(0, hi | 0xc0000000);
  view.setUint32(4, value >>> 0);
  return out;
}

/** Concatenates byte arrays into a new one. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Views any buffer-ish value returned by WebCrypto or the HPKE library as a `Uint8Array`. */
export function toBytes(b: ArrayBuffer | ArrayBufferView): Uint8Array {
  return b instanceof Uint8Array
    ? b
    : ArrayBuffer.isView(b)
      ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
      : new Uint8Array(b);
}

/** Reads from `buf` starting at `offset`; every read returns `undefined` when the bytes are not there yet. */
export class ByteReader {
  offset: number;

  constructor(
    readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.offset = offset;
  }

  /** Bytes left after the current offset. */
  get remaining(): number {
    return this.buf.length - this.offset;
  }

  u8(): number | undefined {
    if (this.remaining < 1) return undefined;
    return this.buf[this.offset++];
  }

  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const v = (this.buf[this.offset]! << 8) | this.buf[this.offset + 1]!;
    this.offset += 2;
    return v;
  }

  /** A QUIC varint; non-minimal encodings are accepted (RFC 9292 section 3). */
  varint(): number | undefined {
    if (this.remaining < 1) return undefined;
    const first = this.buf[this.offset]!;
    const len = 1 << (first >> 6);
    if (this.remaining < len) return undefined;
    let value = first & 0x3f;
    for (let i = 1; i < len; i++) value = value * 256 + this.buf[this.offset + i]!;
    this.offset += len;
    return value > VARINT_MAX_SAFE ? Number.POSITIVE_INFINITY : value;
  }

  /** `n` bytes as a view into the buffer (not a copy). */
  bytes(n: number): Uint8Array | undefined {
    if (this.remaining < n) return undefined;
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** Everything after the current offset. */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.offset);
    this.offset = this.buf.length;
    return out;
  }
}

/** Accumulates parts and concatenates them once. */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];

  u8(v: number): this {
    this.parts.push(Uint8Array.of(v & 0xff));
    return this;
  }

  u16(v: number): this {
    this.parts.push(Uint8Array.of((v >> 8) & 0xff, v & 0xff));
    return this;
  }

  varint(v: number): this {
    this.parts.push(encodeVarint(v));
    return this;
  }

  bytes(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }

  /** A varint length prefix followed by the bytes. */
  prefixed(b: Uint8Array): this {
    return this.varint(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return concat(this.parts);
  }
}

/** Latin-1 bytes of a string whose code points are all below 256 (HTTP field octets). */
export function latin1Bytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, "latin1"));
}

/** The string whose code points are the bytes (byte-preserving, like Node's HTTP parser). */
export function latin1String(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}

/** Decodes one QUIC varint at the start of `bytes`: its value and encoded length; `undefined` when incomplete. */
export function decodeVarint(bytes: Uint8Array): { readonly value: number; readonly length: number } | undefined {
  const r = new ByteReader(bytes);
  const value = r.varint();
  return value === undefined ? undefined : { value, length: r.offset };
}
