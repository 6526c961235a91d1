/**
 * Module face of `runtime/ohttp`: the pure codec of end-to-end encryption (issue 13). Binary HTTP
 * (RFC 9292), HPKE (RFC 9180, through `@hpke/core`), Oblivious HTTP (RFC 9458) and chunked OHTTP
 * (draft-ietf-ohai-chunked-ohttp-08). No I/O, no clock: randomness comes from WebCrypto and can be
 * fixed by the `unsafe*` options of known-answer tests. docs/ohttp.md maps each function to its RFC section.
 */
export { type BhttpDecoderOptions, BhttpDecoder, type BhttpEvent } from "./bhttp-decode.js";
export {
  type BhttpEncodeOptions,
  encodeBhttpContentChunk,
  encodeBhttpEnd,
  encodeBhttpRequest,
  encodeBhttpRequestHead,
  encodeBhttpResponse,
  encodeBhttpResponseHead,
} from "./bhttp-encode.js";
export {
  decodeBhttpRequest,
  decodeBhttpResponse,
  type DecodedBhttpRequest,
  type DecodedBhttpResponse,
} from "./bhttp-message.js";
export {
  type BhttpField,
  type BhttpFraming,
  type BhttpInformational,
  type BhttpLimits,
  type BhttpRequest,
  type BhttpRequestHead,
  type BhttpResponse,
  type BhttpResponseHead,
  DEFAULT_BHTTP_LIMITS,
  MEDIA_TYPE_BHTTP,
} from "./bhttp-types.js";
export { decodeVarint, encodeVarint } from "./bytes.js";
export { isOhttpError, OHTTP_ERROR_CODES, OHTTP_ERROR_MEANINGS, OhttpError, type OhttpErrorCode } from "./errors.js";
export {
  type CryptoKey,
  deriveHpkeKeyPair,
  generateHpkeKeyPair,
  type HpkeImplementation,
  type HpkeKeyPair,
  type HpkeRecipientContext,
  type HpkeSenderContext,
  importHpkePrivateKey,
  setupBaseRecipient,
  setupBaseSender,
  type UnsafeEphemeralKey,
} from "./hpke.js";
export {
  decodeKeyConfig,
  decodeKeyConfigs,
  DEFAULT_SYMMETRIC_ALGORITHMS,
  encodeKeyConfig,
  encodeKeyConfigs,
  generateServerKey,
  importServerKey,
  type KeyConfig,
  MEDIA_TYPE_OHTTP_KEYS,
  type OhttpServerKey,
  type ServerKeyOptions,
  type SymmetricAlgorithm,
} from "./key-config.js";
export { chooseSuite, type SuiteChoice } from "./encapsulation.js";
export { AEAD_ID, DEFAULT_SUITE, describeSuite, type HpkeSuite, KDF_ID, KEM_ID } from "./suites.js";
export { ChunkedRequestDecoder, ChunkedRequestEncoder, MEDIA_TYPE_OHTTP_CHUNKED_REQ } from "./chunked-request.js";
export {
  ChunkedResponseDecoder,
  ChunkedResponseEncoder,
  type ChunkedResponseEncoderOptions,
  MEDIA_TYPE_OHTTP_CHUNKED_RES,
} from "./chunked-response.js";
export {
  type ChunkLimits,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_CHUNK_BYTES,
  DEFAULT_MAX_STREAM_BYTES,
} from "./chunk-framing.js";
export { type ChunkOpener, type ChunkSealer, openStream, sealStream } from "./chunked-stream.js";
export {
  decapsulateRequest,
  type DecapsulateOptions,
  DEFAULT_MAX_MESSAGE_BYTES,
  encapsulateRequest,
  type EncapsulateOptions,
  MEDIA_TYPE_OHTTP_REQ,
  MEDIA_TYPE_OHTTP_RES,
  type OhttpClientRequest,
  type OhttpServerRequest,
} from "./ohttp.js";
