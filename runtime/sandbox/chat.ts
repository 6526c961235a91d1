/**
 * `attestctl sandbox chat TEXT`: one chat turn with the sandbox's chat model, end to end encrypted. The
 * confidential client verifies the runtime's attestation bundle, sends `POST /v1/chat/completions` with
 * `stream: true` as chunked Oblivious HTTP through the gateway, and prints each text delta as soon as its piece
 * is opened.
 */
import { isClientError, REFUSAL_CODES } from "../client/index.js";
import { sandboxClient } from "./client.js";
import { SandboxError } from "./errors.js";
import type { SandboxLayout } from "./layout.js";
import { requireRunning } from "./state.js";

/** Options of {@link sandboxChat}. */
export interface ChatOptions {
  readonly model?: string;
  readonly maxTokens?: number;
  readonly temperature?: number;
}

/**
 * Splits an event stream into the JSON values of its `data:` lines; `[DONE]` ends it. Pure and incremental:
 * call with each piece, and carry `rest` over.
 *
 * @example
 * sseValues('data: {"a":1}\n\ndata: [DONE]\n\n', "") // { values: [{ a: 1 }], rest: "", done: true }
 */
export function sseValues(piece: string, carried: string): { values: unknown[]; rest: string; done: boolean } {
  const text = carried + piece;
  const events = text.split("\n\n");
  const rest = events.pop() ?? "";
  const values: unknown[] = [];
  for (const event of events) {
    for (const line of event.split("\n")) {
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]") return { values, rest: "", done: true };
      values.push(JSON.parse(data));
    }
  }
  return { values, rest, done: false };
}

/**
 * Streams one answer to `out`; returns the finish reason. Refusals and failures -> `INFER_FAILED` naming the
 * check or the runtime's OpenAI error code.
 */
export async function sandboxChat(
  layout: SandboxLayout,
  text: string,
  out: (s: string) => void,
  o: ChatOptions = {},
): Promise<string> {
  const state = requireRunning(layout);
  const model = o.model ?? "chat";
  const { client } = sandboxClient(layout);
  const body = {
    model,
    messages: [{ role: "user", content: text }],
    stream: true,
    ...(o.maxTokens !== undefined ? { max_tokens: o.maxTokens } : {}),
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
  };
  try {
    const r = await client.stream(model, {
      method: "POST",
      path: "/v1/chat/completions",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: Buffer.from(JSON.stringify(body)),
    });
    const decoder = new TextDecoder();
    if (r.status !== 200) {
      let answer = "";
      for await (const piece of r.body) answer += decoder.decode(piece, { stream: true });
      const code = (JSON.parse(answer || "{}") as { error?: { code?: string; message?: string } }).error;
      throw new SandboxError("INFER_FAILED", `the runtime answered HTTP ${r.status}: ${code?.code}: ${code?.message}`);
    }
    let rest = "";
    let finish = "";
    for await (const piece of r.body) {
      const parsed = sseValues(decoder.decode(piece, { stream: true }), rest);
      rest = parsed.rest;
      for (const v of parsed.values as Array<{
        choices?: Array<{ delta?: { content?: string }; finish_reason?: string }>;
        error?: { code?: string };
      }>) {
        if (v.error) throw new SandboxError("INFER_FAILED", `the generation failed: ${v.error.code}`);
        const c = v.choices?.[0];
        if (c?.delta?.content) out(c.delta.content);
        if (c?.finish_reason) finish = c.finish_reason;
      }
      if (parsed.done) break;
    }
    out("\n");
    return finish;
  } catch (e) {
    if (!isClientError(e)) throw e;
    throw new SandboxError(
      "INFER_FAILED",
      REFUSAL_CODES.has(e.code)
        ? `the client refused the runtime and sent nothing: ${e.code}: ${e.message}`
        : `through the gateway at ${state.gatewayUrl}: ${e.code}: ${e.message}`,
    );
  } finally {
    client.close();
  }
}
