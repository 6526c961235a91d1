/**
 * Async-iterable adapters over the chunked encoders and decoders, so a body stream (an HTTP request,
 * a token stream) is sealed or opened chunk by chunk without buffering the whole message.
 */

/** What {@link sealStream} drives: a request or response encoder. */
export interface ChunkSealer {
  readonly header: Uint8Array;
  push(plaintext: Uint8Array): Promise<Uint8Array>;
  finish(plaintext?: Uint8Array): Promise<Uint8Array>;
}

/** What {@link openStream} drives: a request or response decoder. */
export interface ChunkOpener {
  push(bytes: Uint8Array): Promise<Uint8Array[]>;
  finish(): Promise<Uint8Array>;
}

/**
 * Yields the header, one sealed piece per non-empty source item, then the (empty) final chunk.
 *
 * @example for await (const bytes of sealStream(await decoder.createResponseEncoder(), tokens)) reply.raw.write(bytes);
 */
export async function* sealStream(
  sealer: ChunkSealer,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield sealer.header;
  for await (const item of source) {
    const sealed = await sealer.push(item);
    if (sealed.length > 0) yield sealed;
  }
  yield await sealer.finish();
}

/**
 * Yields each plaintext as soon as its chunk authenticated, the final chunk's last; throws (and
 * yields nothing more) on the first failure, including a stream that ends without a final chunk.
 */
export async function* openStream(
  opener: ChunkOpener,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  for await (const bytes of source) {
    for (const plaintext of await opener.push(bytes)) yield plaintext;
  }
  const last = await opener.finish();
  if (last.length > 0) yield last;
}
