/**
 * Chunked OHTTP requests (draft-ietf-ohai-chunked-ohttp-08 sections 4 and 6.1): the RFC 9458 header
 * and `enc`, then chunks sealed by the HPKE context in order, the last one with the AAD "final".
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
import {
  ChunkedResponseDecoder,
  ChunkedResponseEncoder,
  type ChunkedResponseEncoderOptions,
} from "./chunked-response.js";
import { chooseSuite, LABELS, parseRequestHeader, requestInfo, tagLength } from "./encapsulation.js";
import { OhttpError } from "./errors.js";
import { type HpkeRecipientContext, type HpkeSenderContext, setupBaseRecipient } from "./hpke.js";
import type { KeyConfig, OhttpServerKey } from "./key-config.js";
import { type EncapsulateOptions, senderFor } from "./ohttp.js";
import type { HpkeSuite } from "./suites.js";

/** Media type of a chunked encapsulated request (draft section 9.1). */
export const MEDIA_TYPE_OHTTP_CHUNKED_REQ = "message/ohttp-chunked-req";

/** The client's streaming request sealer. */
export class ChunkedRequestEncoder {
  private readonly serial = new Serial();

  private constructor(
    /** `hdr || enc`: send it before any chunk. */
    readonly header: Uint8Array,
    readonly keyId: number,
    readonly suite: HpkeSuite,
    private readonly context: HpkeSenderContext,
    private readonly chunkSize: number,
  ) {}

  /**
   * Starts a chunked request to a key configuration (draft section 6.1).
   * @throws {OhttpError} `OHTTP_UNSUPPORTED_SUITE`, `KEY_CONFIG_INVALID`.
   */
  static async create(
    config: KeyConfig,
    options: EncapsulateOptions & { readonly chunkSize?: number } = {},
  ): Promise<ChunkedRequestEncoder> {
    const suite = chooseSuite(config, options);
    const { header, context } = await senderFor(config, suite, LABELS.chunked.request, options.unsafeEphemeralKey);
    return new ChunkedRequestEncoder(
      concat([header, context.enc]),
      config.keyId,
      suite,
      context,
      options.chunkSize ?? DEFAULT_CHUNK_SIZE,
    );
  }

  /** Seals `plaintext` as non-final chunks of at most `chunkSize` bytes; empty input gives empty output. */
  push(plaintext: Uint8Array): Promise<Uint8Array> {
    return this.serial.run(async () => {
      const out: Uint8Array[] = [];
      for (const p of pieces(plaintext, this.chunkSize)) out.push(frameChunk(await this.context.seal(p, EMPTY), false));
      return concat(out);
    });
  }

  /** Seals the final chunk (possibly empty); nothing may follow. */
  finish(plaintext: Uint8Array = EMPTY): Promise<Uint8Array> {
    return this.serial.run(async () => {
      const parts = pieces(plaintext, this.chunkSize);
      const last = parts.pop() ?? EMPTY;
      const out: Uint8Array[] = [];
      for (const p of parts) out.push(frameChunk(await this.context.seal(p, EMPTY), false));
      out.push(frameChunk(await this.context.seal(last, FINAL_AAD), true));
      return concat(out);
    }, true);
  }

  /** The opener of this request's `message/ohttp-chunked-res` answer. */
  createResponseDecoder(limits: ChunkLimits = {}): ChunkedResponseDecoder {
    return new ChunkedResponseDecoder(this.context, this.suite, limits);
  }
}

/** The gateway's streaming request opener. */
export class ChunkedRequestDecoder {
  private readonly serial = new Serial();
  private readonly keys: readonly OhttpServerKey[];
  private headerBuf: Uint8Array = new Uint8Array(0);
  private opened: { readonly context: HpkeRecipientContext; readonly reader: ChunkReader } | undefined;
  private readonly spend: (n: number) => void;
  /** Known once the header arrived (after the first successful `push`). */
  keyId: number | undefined;
  suite: HpkeSuite | undefined;
  /** The request's `enc`: the key of a replay cache (RFC 9458 section 6.5). */
  enc: Uint8Array | undefined;

  /** Accepts requests for any of `keys`; `limits` bound chunk and total plaintext sizes. */
  constructor(
    keys: OhttpServerKey | readonly OhttpServerKey[],
    private readonly limits: ChunkLimits = {},
  ) {
    this.keys = Array.isArray(keys) ? keys : [keys as OhttpServerKey];
    this.spend = budget(limits, "request");
  }

  /**
   * Feeds request bytes; returns the plaintexts of the non-final chunks they complete.
   * @throws {OhttpError} `OHTTP_KEY_ID_UNKNOWN`, `OHTTP_UNSUPPORTED_SUITE`, `OHTTP_DECRYPT_FAILED`, `CHUNK_MALFORMED`, `MESSAGE_TOO_LARGE`.
   */
  push(bytes: Uint8Array): Promise<Uint8Array[]> {
    return this.serial.run(async () => {
      let rest = bytes;
      if (this.opened === undefined) {
        this.headerBuf = concat([this.headerBuf, rest]);
        const parsed = parseRequestHeader(this.headerBuf, this.keys, "request");
        if (parsed === undefined) return [];
        const info = requestInfo(LABELS.chunked.request, parsed.header);
        const context = await setupBaseRecipient(parsed.suite, parsed.key.privateKey, parsed.enc, info).catch(
          (cause: unknown) => {
            throw new OhttpError("OHTTP_DECRYPT_FAILED", "request.enc", "cannot decapsulate", { cause });
          },
        );
        const tag = tagLength(parsed.suite);
        this.opened = {
          context,
          reader: new ChunkReader("request.chunk", tag, (this.limits.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES) + tag),
        };
        [this.keyId, this.suite, this.enc] = [parsed.key.config.keyId, parsed.suite, parsed.enc];
        rest = this.headerBuf.subarray(parsed.end);
        this.headerBuf = new Uint8Array(0);
      }
      const out: Uint8Array[] = [];
      for (const chunk of this.opened.reader.push(rest))
        out.push(await this.open(chunk.index, chunk.ciphertext, false));
      return out;
    });
  }

  /** Ends the stream: the final chunk's plaintext, once it authenticated with the "final" AAD. */
  finish(): Promise<Uint8Array> {
    return this.serial.run(async () => {
      if (this.opened === undefined)
        throw new OhttpError("CHUNK_TRUNCATED", "request", "stream ended inside the header");
      const chunk = this.opened.reader.finish();
      return this.open(chunk.index, chunk.ciphertext, true);
    }, true);
  }

  /** Starts the response (allowed as soon as the header arrived, before the request ends). */
  createResponseEncoder(options: ChunkedResponseEncoderOptions = {}): Promise<ChunkedResponseEncoder> {
    if (this.opened === undefined || this.suite === undefined || this.enc === undefined) {
      return Promise.reject(new TypeError("chunked request: no header yet"));
    }
    return ChunkedResponseEncoder.create(this.opened.context, this.suite, this.enc, options);
  }

  private async open(index: number, ciphertext: Uint8Array, final: boolean): Promise<Uint8Array> {
    const pt = await this.opened!.context.open(ciphertext, final ? FINAL_AAD : EMPTY).catch((cause: unknown) => {
      throw new OhttpError(
        "OHTTP_DECRYPT_FAILED",
        `request.chunk[${index}]`,
        "authentication failed (tampered, reordered or misplaced)",
        {
          cause,
        },
      );
    });
    if (!final && pt.length === 0)
      throw new OhttpError(
        "OHTTP_DECRYPT_FAILED",
        `request.chunk[${index}]`,
        "empty non-final chunk (draft section 6)",
      );
    this.spend(pt.length);
    return pt;
  }
}
