/**
 * Opening a chunked OHTTP answer as it arrives: each chunk is authenticated before its plaintext is
 * handed on, the Binary HTTP head is read first (status and fields), then content pieces stream.
 * A tampered, reordered or truncated stream ends the iteration with `RESPONSE_INVALID`.
 */
import {
  BhttpDecoder,
  isOhttpError,
  openStream,
  type BhttpEvent,
  type BhttpField,
  type ChunkedResponseDecoder,
} from "../ohttp/index.js";
import { ClientError } from "./errors.js";

/** The stable code of an error body (the gateway's OIP JSON or the runtime's problem JSON), if any. */
export function codeOf(body: Buffer): string | undefined {
  try {
    const code = (JSON.parse(body.toString("utf8")) as { code?: unknown }).code;
    return typeof code === "string" && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** The error for an answer in clear (the gateway's or the runtime's refusal). */
export function relayFailure(status: number, body: Buffer): ClientError {
  const upstreamCode = codeOf(body);
  return new ClientError(
    "RELAY_FAILED",
    `the gateway answered HTTP ${status}${upstreamCode ? ` ${upstreamCode}` : ""} instead of an encapsulated answer`,
    { details: { status, ...(upstreamCode ? { upstreamCode } : {}) } },
  );
}

function invalid(e: unknown): unknown {
  return isOhttpError(e)
    ? new ClientError("RESPONSE_INVALID", `opening the streamed answer: ${e.code}`, { cause: e })
    : e;
}

/** Bhttp events of the opened stream, one at a time. */
async function* events(
  decoder: ChunkedResponseDecoder,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<BhttpEvent> {
  const bhttp = new BhttpDecoder({ expect: "response" });
  try {
    for await (const plaintext of openStream(decoder, body)) yield* bhttp.push(plaintext);
    yield* bhttp.end();
  } catch (e) {
    throw invalid(e);
  }
}

/**
 * Reads the answer's head, then returns the content as a stream.
 * @throws ClientError `RESPONSE_INVALID` when the stream ends or fails before the head.
 */
export async function openChunkedAnswer(
  decoder: ChunkedResponseDecoder,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{
  readonly status: number;
  readonly headers: readonly BhttpField[];
  readonly body: AsyncIterable<Uint8Array>;
}> {
  const it = events(decoder, body);
  for (;;) {
    const next = await it.next();
    if (next.done) throw new ClientError("RESPONSE_INVALID", "the streamed answer ended before its head");
    const e = next.value;
    if (e.type !== "response-head") continue;
    async function* content(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          if (n.value.type === "content") yield n.value.data;
        }
      } finally {
        // A reader that stops early closes the answer's connection too, so the runtime stops producing it.
        await it.return(undefined);
      }
    }
    return { status: e.status, headers: e.headers, body: content() };
  }
}
