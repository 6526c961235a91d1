/**
 * OpenAI's streaming format (pure): Server-Sent Events whose `data:` lines hold chunk objects, ended by
 * `data: [DONE]`.
 */
import type { GenerationResult } from "../generation/index.js";

/** Fields every chunk of one answer repeats. */
export interface ChunkHead {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

/** One SSE event carrying `value` as JSON. */
export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** The stream's last event. */
export function sseDone(): string {
  return "data: [DONE]\n\n";
}

/** OpenAI's `usage` object. */
export function usageOf(r: GenerationResult): {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
} {
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    total_tokens: r.promptTokens + r.completionTokens,
  };
}

type Piece = Record<string, string> | string | undefined;

/** One streamed chunk: `object` and the name of the choice's content field; `piece` absent gives an empty shell. */
function streamChunk(
  object: string,
  field: "delta" | "text",
  head: ChunkHead,
  piece: Piece,
  finish: "stop" | "length" | null,
): Record<string, unknown> {
  return {
    id: head.id,
    object,
    created: head.created,
    model: head.model,
    system_fingerprint: null,
    choices: piece === undefined ? [] : [{ index: 0, [field]: piece, logprobs: null, finish_reason: finish }],
  };
}

/** A `chat.completion.chunk`; `delta` absent gives the usage chunk's empty shell. */
export function chatChunk(head: ChunkHead, delta: Piece, finish: "stop" | "length" | null): Record<string, unknown> {
  return streamChunk("chat.completion.chunk", "delta", head, delta, finish);
}

/** A streamed `text_completion` chunk. */
export function completionChunk(
  head: ChunkHead,
  text: Piece,
  finish: "stop" | "length" | null,
): Record<string, unknown> {
  return streamChunk("text_completion", "text", head, text, finish);
}

/**
 * The event of one piece of text, with the constant parts serialised once per answer (the same JSON as
 * `sseData(chatChunk(head, { content }, null))` or `sseData(completionChunk(head, text, null))`).
 */
export function textEventWriter(head: ChunkHead, kind: "chat" | "text"): (text: string) => string {
  const shell =
    kind === "chat"
      ? sseData(chatChunk(head, { content: "\u0000" }, null))
      : sseData(completionChunk(head, "\u0000", null));
  const [before, after] = shell.split('"\\u0000"') as [string, string];
  return (text) => `${before}${JSON.stringify(text)}${after}`;
}
