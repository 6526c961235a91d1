/** Whole-message Binary HTTP decoding (RFC 9292) on top of the incremental {@link BhttpDecoder}. */
import { concat } from "./bytes.js";
import { type BhttpDecoderOptions, BhttpDecoder, type BhttpEvent } from "./bhttp-decode.js";
import type {
  BhttpField,
  BhttpFraming,
  BhttpInformational,
  BhttpLimits,
  BhttpRequest,
  BhttpResponse,
} from "./bhttp-types.js";

/** A decoded request and the framing it used. */
export interface DecodedBhttpRequest extends BhttpRequest {
  readonly framing: BhttpFraming;
}

/** A decoded response and the framing it used. */
export interface DecodedBhttpResponse extends BhttpResponse {
  readonly framing: BhttpFraming;
  readonly informational: readonly BhttpInformational[];
}

function run(bytes: Uint8Array, options: BhttpDecoderOptions): BhttpEvent[] {
  const decoder = new BhttpDecoder(options);
  return [...decoder.push(bytes), ...decoder.end()];
}

function collect(events: readonly BhttpEvent[]): { content: Uint8Array; trailers: readonly BhttpField[] } {
  const parts: Uint8Array[] = [];
  let trailers: readonly BhttpField[] = [];
  for (const e of events) {
    if (e.type === "content") parts.push(e.data);
    else if (e.type === "trailers") trailers = e.trailers;
  }
  return { content: concat(parts), trailers };
}

/**
 * Decodes a complete Binary HTTP request (framing indicator 0 or 2), padding and allowed truncation included.
 *
 * @throws {OhttpError} `BHTTP_MALFORMED` naming the field, or `MESSAGE_TOO_LARGE` past a limit.
 * @example decodeBhttpRequest(bytes).path // "/hello.txt"
 */
export function decodeBhttpRequest(bytes: Uint8Array, limits?: Partial<BhttpLimits>): DecodedBhttpRequest {
  const events = run(bytes, { expect: "request", ...(limits === undefined ? {} : { limits }) });
  const head = events.find((e) => e.type === "request-head");
  if (head?.type !== "request-head") throw new TypeError("bhttp: decoder ended without a request head");
  return { ...head.head, framing: head.framing, ...collect(events) };
}

/**
 * Decodes a complete Binary HTTP response (framing indicator 1 or 3), informational responses included.
 *
 * @throws {OhttpError} `BHTTP_MALFORMED` naming the field, or `MESSAGE_TOO_LARGE` past a limit.
 */
export function decodeBhttpResponse(bytes: Uint8Array, limits?: Partial<BhttpLimits>): DecodedBhttpResponse {
  const events = run(bytes, { expect: "response", ...(limits === undefined ? {} : { limits }) });
  const informational: BhttpInformational[] = [];
  let final: Extract<BhttpEvent, { type: "response-head" }> | undefined;
  for (const e of events) {
    if (e.type === "informational") informational.push(e.informational);
    else if (e.type === "response-head") final = e;
  }
  if (final === undefined) throw new TypeError("bhttp: decoder ended without a response head");
  return { informational, status: final.status, headers: final.headers, framing: final.framing, ...collect(events) };
}
