/**
 * Oblivious HTTP encapsulation (RFC 9458 sections 4.3 and 4.4): the client seals a Binary HTTP
 * request to a key configuration and opens the response; the gateway (the attested runtime) opens
 * the request and seals the response with the context the request established.
 */
import { concat } from "./bytes.js";
import {
  chooseSuite,
  LABELS,
  parseRequestHeader,
  requestHeader,
  requestInfo,
  responseKey,
  responseNonceFor,
  responseNonceLength,
  type SuiteChoice,
  tagLength,
} from "./encapsulation.js";
import { OhttpError } from "./errors.js";
import { type HpkeSenderContext, setupBaseRecipient, setupBaseSender, type UnsafeEphemeralKey } from "./hpke.js";
import type { KeyConfig, OhttpServerKey } from "./key-config.js";
import type { HpkeSuite } from "./suites.js";

/** Media type of an encapsulated request (RFC 9458 section 4.1, 9.2). */
export const MEDIA_TYPE_OHTTP_REQ = "message/ohttp-req";
/** Media type of an encapsulated response (RFC 9458 section 4.2, 9.3). */
export const MEDIA_TYPE_OHTTP_RES = "message/ohttp-res";
/** Default bound on an encapsulated request or response (bytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Options of {@link encapsulateRequest}. */
export interface EncapsulateOptions extends SuiteChoice {
  /** Known-answer tests only: fixes the HPKE ephemeral key (see {@link UnsafeEphemeralKey}). */
  readonly unsafeEphemeralKey?: UnsafeEphemeralKey;
}

/** The client's half of one exchange: the bytes to send and the context that opens the answer. */
export interface OhttpClientRequest {
  /** `message/ohttp-req` body: hdr || enc || ct. */
  readonly encapsulatedRequest: Uint8Array;
  readonly keyId: number;
  readonly suite: HpkeSuite;
  /**
   * Opens a `message/ohttp-res` body (RFC 9458 section 4.4, client side).
   * @throws {OhttpError} `OHTTP_RESPONSE_MALFORMED`, `OHTTP_DECRYPT_FAILED`, `MESSAGE_TOO_LARGE`.
   */
  openResponse(encapsulatedResponse: Uint8Array, options?: { readonly maxBytes?: number }): Promise<Uint8Array>;
}

/** Opens the sender context for a configuration, mapping a bad public key to `KEY_CONFIG_INVALID`. */
export async function senderFor(
  config: KeyConfig,
  suite: HpkeSuite,
  label: string,
  ephemeral: UnsafeEphemeralKey | undefined,
): Promise<{ header: Uint8Array; context: HpkeSenderContext }> {
  const header = requestHeader(config.keyId, suite);
  try {
    return { header, context: await setupBaseSender(suite, config.publicKey, requestInfo(label, header), ephemeral) };
  } catch (cause) {
    throw new OhttpError("KEY_CONFIG_INVALID", "keyConfig.public_key", "cannot encapsulate to this public key", {
      cause,
    });
  }
}

/**
 * Encapsulates a Binary HTTP request to a gateway's key configuration (RFC 9458 section 4.3).
 *
 * @example
 * const req = await encapsulateRequest(config, encodeBhttpRequest(request));
 * const answer = await req.openResponse(await post(req.encapsulatedRequest));
 * @throws {OhttpError} `OHTTP_UNSUPPORTED_SUITE` (no usable KEM/KDF/AEAD), `KEY_CONFIG_INVALID` (bad public key).
 */
export async function encapsulateRequest(
  config: KeyConfig,
  request: Uint8Array,
  options: EncapsulateOptions = {},
): Promise<OhttpClientRequest> {
  const suite = chooseSuite(config, options);
  const { header, context } = await senderFor(config, suite, LABELS.plain.request, options.unsafeEphemeralKey);
  const ct = await context.seal(request);
  return {
    encapsulatedRequest: concat([header, context.enc, ct]),
    keyId: config.keyId,
    suite,
    async openResponse(encapsulatedResponse, opts = {}) {
      checkSize(encapsulatedResponse, opts.maxBytes, "response");
      const n = responseNonceLength(suite);
      if (encapsulatedResponse.length < n + tagLength(suite)) {
        throw new OhttpError(
          "OHTTP_RESPONSE_MALFORMED",
          "response",
          `${encapsulatedResponse.length} bytes, shorter than nonce and tag`,
        );
      }
      const nonce = encapsulatedResponse.subarray(0, n);
      const aead = await responseKey(context, suite, LABELS.plain.response, context.enc, nonce);
      try {
        return await aead.key.open(aead.nonce, new Uint8Array(0), encapsulatedResponse.subarray(n));
      } catch (cause) {
        throw new OhttpError("OHTTP_DECRYPT_FAILED", "response.ciphertext", "authentication failed", { cause });
      }
    },
  };
}

function checkSize(bytes: Uint8Array, maxBytes: number | undefined, path: string): void {
  const max = maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (bytes.length > max) throw new OhttpError("MESSAGE_TOO_LARGE", path, `${bytes.length} bytes exceed ${max}`);
}

/** Options of {@link decapsulateRequest}. */
export interface DecapsulateOptions {
  /** Bound on the encapsulated request; default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  readonly maxBytes?: number;
}

/** The gateway's half of one exchange. */
export interface OhttpServerRequest {
  /** The Binary HTTP request. */
  readonly request: Uint8Array;
  readonly keyId: number;
  readonly suite: HpkeSuite;
  /** The request's `enc` (Nenc bytes): the key of a replay cache (RFC 9458 section 6.5). */
  readonly enc: Uint8Array;
  /**
   * Seals a Binary HTTP response into a `message/ohttp-res` body (RFC 9458 section 4.4).
   * `unsafeResponseNonce` fixes the nonce for known-answer tests; otherwise it is random.
   */
  sealResponse(response: Uint8Array, options?: { readonly unsafeResponseNonce?: Uint8Array }): Promise<Uint8Array>;
}

/**
 * Decapsulates a `message/ohttp-req` body with one of the gateway's keys (RFC 9458 section 4.3).
 *
 * @throws {OhttpError} `OHTTP_REQUEST_MALFORMED`, `OHTTP_KEY_ID_UNKNOWN`, `OHTTP_UNSUPPORTED_SUITE`,
 *   `OHTTP_DECRYPT_FAILED`, `MESSAGE_TOO_LARGE`.
 */
export async function decapsulateRequest(
  keys: OhttpServerKey | readonly OhttpServerKey[],
  encapsulatedRequest: Uint8Array,
  options: DecapsulateOptions = {},
): Promise<OhttpServerRequest> {
  checkSize(encapsulatedRequest, options.maxBytes, "request");
  const parsed = parseRequestHeader(
    encapsulatedRequest,
    Array.isArray(keys) ? keys : [keys as OhttpServerKey],
    "request",
  );
  if (parsed === undefined)
    throw new OhttpError("OHTTP_REQUEST_MALFORMED", "request", "shorter than its header and enc");
  const { key, suite, header, enc } = parsed;
  const context = await setupBaseRecipient(suite, key.privateKey, enc, requestInfo(LABELS.plain.request, header)).catch(
    (cause: unknown) => {
      throw new OhttpError("OHTTP_DECRYPT_FAILED", "request.enc", "cannot decapsulate", { cause });
    },
  );
  const ct = encapsulatedRequest.subarray(parsed.end);
  if (ct.length < tagLength(suite))
    throw new OhttpError("OHTTP_REQUEST_MALFORMED", "request.ciphertext", "shorter than the AEAD tag");
  const request = await context.open(ct).catch((cause: unknown) => {
    throw new OhttpError("OHTTP_DECRYPT_FAILED", "request.ciphertext", "authentication failed", { cause });
  });
  return {
    request,
    keyId: key.config.keyId,
    suite,
    enc,
    async sealResponse(response, opts = {}) {
      const nonce = responseNonceFor(suite, opts.unsafeResponseNonce);
      const aead = await responseKey(context, suite, LABELS.plain.response, enc, nonce);
      return concat([nonce, await aead.key.seal(aead.nonce, new Uint8Array(0), response)]);
    },
  };
}
