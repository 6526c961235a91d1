/**
 * Chunked OHTTP responses (draft-ietf-ohai-chunked-ohttp-08 sections 5 and 6.2): the response
 * nonce, then chunks sealed with the RFC 9458 response key under `aead_nonce XOR counter`, the last
 * one with the AAD "final".
 */
import { concat } from "./bytes.js";
import {
  budget,
  ChunkReader,
  type ChunkLimits,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_CHUNK_BYTES,
  EMPTY,
  FINAL_AAD,
  frameChunk,
  pieces,
  Serial,
} from "./chunk-framing.js";
import { LABELS, responseKey, responseNonceFor, responseNonceLength, tagLength } from "./encapsulation.js";
import { OhttpError } from "./errors.js";
import type { AeadKey, HpkeRecipientContext, HpkeSenderContext } from "./hpke.js";
import type { HpkeSuite } from "./suites.js";

/** Media type of a chunked encapsulated response (draft section 9.2). */
export const MEDIA_TYPE_OHTTP_CHUNKED_RES = "message/ohttp-chunked-res";

/** `aead_nonce XOR encode(Nn, counter)` (draft section 6.2). */
function chunkNonce(base: Uint8Array, counter: number): Uint8Array {
  const out = Uint8Array.from(base);
  let c = counter;
  for (let i = out.length - 1; i >= 0 && c > 0; i--) {
    out[i]! ^= c % 256;
    c = Math.floor(c / 256);
  }
  return out;
}

/** The gateway's streaming response sealer. */
export class ChunkedResponseEncoder {
  private readonly serial = new Serial();
  private counter = 0;

  private constructor(
    /** The response nonce: send it before any chunk. */
    readonly header: Uint8Array,
    private readonly key: AeadKey,
    private readonly baseNonce: Uint8Array,
    private readonly chunkSize: number,
  ) {}

  /** @internal Created by `ChunkedRequestDecoder.createResponseEncoder`. */
  static async create(
    context: HpkeRecipientContext,
    suite: HpkeSuite,
    enc: Uint8Array,
    options: ChunkedResponseEncoderOptions,
  ): Promise<ChunkedResponseEncoder> {
    const nonce = responseNonceFor(suite, options.unsafeResponseNonce);
    const aead = await responseKey(context, suite, LABELS.chunked.response, enc, nonce);
    return new ChunkedResponseEncoder(nonce, aead.key, aead.nonce, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  }

  /** Seals `plaintext` as non-final chunks of at most `chunkSize` bytes; empty input gives empty output. */
  push(plaintext: Uint8Array): Promise<Uint8Array> {
    return this.serial.run(async () => concat(await this.sealAll(pieces(plaintext, this.chunkSize))));
  }

  /** Seals the final chunk (possibly empty); nothing may follow. */
  finish(plaintext: Uint8Array = EMPTY): Promise<Uint8Array> {
    return this.serial.run(async () => {
      const parts = pieces(plaintext, this.chunkSize);
      const last = parts.pop() ?? EMPTY;
      const sealed = await this.sealAll(parts);
      const ct = await this.key.seal(chunkNonce(this.baseNonce, this.counter++), FINAL_AAD, last);
      return concat([...sealed, frameChunk(ct, true)]);
    }, true);
  }

  private async sealAll(parts: readonly Uint8Array[]): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const p of parts)
      out.push(frameChunk(await this.key.seal(chunkNonce(this.baseNonce, this.counter++), EMPTY, p), false));
    return out;
  }
}

/** Options of the response encoder. */
export interface ChunkedResponseEncoderOptions {
  /** Largest plaintext per chunk; default 16384. */
  readonly chunkSize?: number;
  /** Known-answer tests only: fixes the response nonce (max(Nn, Nk) bytes). */
  readonly unsafeResponseNonce?: Uint8Array;
}

/** The client's streaming response opener. */
export class ChunkedResponseDecoder {
  private readonly serial = new Serial();
  private nonceBuf: Uint8Array = new Uint8Array(0);
  private aead: { readonly key: AeadKey; readonly nonce: Uint8Array } | undefined;
  private readonly reader: ChunkReader;
  private readonly spend: (n: number) => void;

  /** @internal Created by `ChunkedRequestEncoder.createResponseDecoder`. */
  constructor(
    private readonly context: HpkeSenderContext,
    private readonly suite: HpkeSuite,
    limits: ChunkLimits = {},
  ) {
    const tag = tagLength(suite);
    this.reader = new ChunkReader("response.chunk", tag, (limits.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES) + tag);
    this.spend = budget(limits, "response");
  }

  /** Feeds response bytes; returns the plaintexts of the non-final chunks they complete. */
  push(bytes: Uint8Array): Promise<Uint8Array[]> {
    return this.serial.run(async () => {
      let rest = bytes;
      if (this.aead === undefined) {
        const need = responseNonceLength(this.suite) - this.nonceBuf.length;
        this.nonceBuf = concat([this.nonceBuf, rest.subarray(0, need)]);
        rest = rest.subarray(need);
        if (this.nonceBuf.length < responseNonceLength(this.suite)) return [];
        this.aead = await responseKey(
          this.context,
          this.suite,
          LABELS.chunked.response,
          this.context.enc,
          this.nonceBuf,
        );
      }
      const out: Uint8Array[] = [];
      for (const chunk of this.reader.push(rest)) out.push(await this.open(chunk.index, chunk.ciphertext, false));
      return out;
    });
  }

  /** Ends the stream: the final chunk's plaintext, once it authenticated with the "final" AAD. */
  finish(): Promise<Uint8Array> {
    return this.serial.run(async () => {
      if (this.aead === undefined)
        throw new OhttpError("CHUNK_TRUNCATED", "response.nonce", "stream ended inside the response nonce");
      const chunk = this.reader.finish();
      return this.open(chunk.index, chunk.ciphertext, true);
    }, true);
  }

  private async open(index: number, ciphertext: Uint8Array, final: boolean): Promise<Uint8Array> {
    const aead = this.aead!;
    const pt = await aead.key
      .open(chunkNonce(aead.nonce, index), final ? FINAL_AAD : EMPTY, ciphertext)
      .catch((cause: unknown) => {
        throw new OhttpError(
          "OHTTP_DECRYPT_FAILED",
          `response.chunk[${index}]`,
          "authentication failed (tampered, reordered or misplaced)",
          {
            cause,
          },
        );
      });
    if (!final && pt.length === 0) {
      throw new OhttpError(
        "OHTTP_DECRYPT_FAILED",
        `response.chunk[${index}]`,
        "empty non-final chunk (draft section 6)",
      );
    }
    this.spend(pt.length);
    return pt;
  }
}
