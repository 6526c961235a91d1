/**
 * Framing of chunked OHTTP (draft-ietf-ohai-chunked-ohttp-08 sections 4 and 5): varint-prefixed
 * non-final chunks, then a zero prefix and a final chunk that runs to the end of the stream. Also the
 * serialiser that keeps async chunk operations in order and poisons the stream after a failure.
 */
import { ByteReader, concat, encodeVarint } from "./bytes.js";
import { OhttpError } from "./errors.js";

/** Senders keep chunk plaintexts to 2^14 bytes unless the receiver is known to take more (draft section 3). */
export const DEFAULT_CHUNK_SIZE = 16384;
/** Default largest chunk plaintext a decoder accepts (bytes). */
export const DEFAULT_MAX_CHUNK_BYTES = 65536;
/** Default largest total plaintext a decoder accepts (bytes). */
export const DEFAULT_MAX_STREAM_BYTES = 16 * 1024 * 1024;

/** Limits of the chunked decoders; exceeding one raises `MESSAGE_TOO_LARGE`. */
export interface ChunkLimits {
  /** Largest plaintext of one chunk; default {@link DEFAULT_MAX_CHUNK_BYTES}. */
  readonly maxChunkBytes?: number;
  /** Largest total plaintext; default {@link DEFAULT_MAX_STREAM_BYTES}. */
  readonly maxBytes?: number;
}

/** One framed chunk, still sealed. */
export interface SealedChunk {
  readonly index: number;
  readonly final: boolean;
  readonly ciphertext: Uint8Array;
}

/** Splits an incoming byte stream into sealed chunks. */
export class ChunkReader {
  private buf: Uint8Array = new Uint8Array(0);
  private inFinal = false;
  private index = 0;

  /** `maxCiphertext` = largest plaintext + tag; `minCiphertext` = the AEAD tag length. */
  constructor(
    private readonly path: string,
    private readonly minCiphertext: number,
    private readonly maxCiphertext: number,
  ) {}

  /** Appends bytes; returns the non-final chunks they complete. */
  push(bytes: Uint8Array): SealedChunk[] {
    this.buf = this.buf.length === 0 ? bytes : concat([this.buf, bytes]);
    const out: SealedChunk[] = [];
    while (!this.inFinal && this.buf.length > 0) {
      const r = new ByteReader(this.buf);
      const length = r.varint();
      if (length === undefined) break;
      if (length === 0) {
        this.inFinal = true;
        this.buf = this.buf.subarray(r.offset);
        break;
      }
      this.check(length);
      const ciphertext = r.bytes(length);
      if (ciphertext === undefined) break;
      out.push({ index: this.index++, final: false, ciphertext });
      this.buf = this.buf.subarray(r.offset);
    }
    if (this.inFinal && this.buf.length > this.maxCiphertext) {
      throw new OhttpError(
        "MESSAGE_TOO_LARGE",
        `${this.path}[${this.index}]`,
        `final chunk exceeds ${this.maxCiphertext} bytes`,
      );
    }
    return out;
  }

  /** Ends the stream: the final chunk, or `CHUNK_TRUNCATED` / `CHUNK_FINAL_MISSING`. */
  finish(): SealedChunk {
    const path = `${this.path}[${this.index}]`;
    if (!this.inFinal && this.buf.length > 0)
      throw new OhttpError("CHUNK_TRUNCATED", path, "stream ended inside a chunk");
    if (!this.inFinal) throw new OhttpError("CHUNK_FINAL_MISSING", path, "stream ended without a final chunk");
    if (this.buf.length < this.minCiphertext)
      throw new OhttpError("CHUNK_MALFORMED", path, "final chunk is shorter than the AEAD tag");
    return { index: this.index, final: true, ciphertext: this.buf };
  }

  private check(length: number): void {
    const path = `${this.path}[${this.index}]`;
    if (length > this.maxCiphertext)
      throw new OhttpError("MESSAGE_TOO_LARGE", path, `chunk of ${length} bytes exceeds ${this.maxCiphertext}`);
    if (length < this.minCiphertext)
      throw new OhttpError("CHUNK_MALFORMED", path, `chunk of ${length} bytes is shorter than the AEAD tag`);
  }
}

/** `varint(len(ct)) || ct` for a non-final chunk, `0 || ct` for the final one. */
export function frameChunk(ciphertext: Uint8Array, final: boolean): Uint8Array {
  return concat([encodeVarint(final ? 0 : ciphertext.length), ciphertext]);
}

/** Splits a plaintext into pieces of at most `size` bytes (none for an empty input). */
export function pieces(plaintext: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < plaintext.length; i += size) out.push(plaintext.subarray(i, i + size));
  return out;
}

/** The AAD of the final chunk: ASCII "final" (draft section 6.1). */
export const FINAL_AAD = Uint8Array.from([0x66, 0x69, 0x6e, 0x61, 0x6c]);
export const EMPTY = new Uint8Array(0);

/** Runs async steps one after another; after a failure every later step rethrows it (fail closed). */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  private failure: { readonly error: unknown } | undefined;
  private closed = false;

  /** Queues `fn`; `last` marks the step that ends the stream (later calls are caller misuse). */
  run<T>(fn: () => Promise<T>, last = false): Promise<T> {
    if (this.closed) return Promise.reject(new TypeError("chunked stream: already finished"));
    this.closed = last;
    const next = this.tail.then(() => {
      if (this.failure !== undefined) throw this.failure.error;
      return fn();
    });
    this.tail = next.catch((error: unknown) => {
      this.failure ??= { error };
    });
    return next;
  }
}

/** Tracks the plaintext total against `maxBytes`. */
export function budget(limits: ChunkLimits, path: string): (n: number) => void {
  const max = limits.maxBytes ?? DEFAULT_MAX_STREAM_BYTES;
  let total = 0;
  return (n) => {
    total += n;
    if (total > max) throw new OhttpError("MESSAGE_TOO_LARGE", path, `plaintext exceeds ${max} bytes`);
  };
}
