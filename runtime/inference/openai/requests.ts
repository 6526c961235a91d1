/**
 * OpenAI request bodies, checked field by field (pure). Every problem is reported at once with the field's name
 * (`INVALID_PARAMETER`, the first field as OpenAI's `param`). Fields that would change the answer and that we do
 * not implement (tools, logprobs, n > 1, JSON mode, ...) are refused, not ignored; fields that only label a
 * request (user, metadata) are accepted; anything unknown is refused, as OpenAI does.
 */
import type { Problem } from "../../../core/index.js";
import { InferenceError } from "../errors.js";
import type { ChatMessage } from "../generation/index.js";
import type { GenerationParams } from "../generation/index.js";

/** A checked chat or text completion request. */
export interface CompletionRequest {
  readonly model: string;
  readonly params: GenerationParams;
  readonly stream: boolean;
  /** `stream_options.include_usage`: a last chunk with `usage` before `[DONE]`. */
  readonly includeUsage: boolean;
}

/** `POST /v1/chat/completions`. */
export interface ChatCompletionRequest extends CompletionRequest {
  readonly messages: readonly ChatMessage[];
}

/** `POST /v1/completions`: the prompt is text, or token ids. */
export interface TextCompletionRequest extends CompletionRequest {
  readonly prompt: string | readonly number[];
}

/** `POST /v1/embeddings`. */
export interface EmbeddingsRequest {
  readonly model: string;
  readonly input: readonly string[];
  readonly encodingFormat: "float" | "base64";
  /** Asked vector size; the route refuses any other than the model's own. */
  readonly dimensions: number | undefined;
}

type Body = Record<string, unknown>;

/** Fields accepted and ignored: they label the request, they do not change the answer. */
const LABELS = ["user", "metadata", "store", "service_tier"];
const SAMPLING = [
  "temperature",
  "top_p",
  "top_k",
  "presence_penalty",
  "frequency_penalty",
  "seed",
  "stop",
  "max_tokens",
  "stream",
  "stream_options",
  "n",
  "logprobs",
  "logit_bias",
];
const CHAT_FIELDS = new Set([
  "model",
  "messages",
  "max_completion_tokens",
  "top_logprobs",
  "response_format",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  ...SAMPLING,
  ...LABELS,
]);
const COMPLETION_FIELDS = new Set(["model", "prompt", "echo", "suffix", "best_of", ...SAMPLING, ...LABELS]);
const EMBEDDING_FIELDS = new Set(["model", "input", "encoding_format", "dimensions", "user"]);
/** Longest list of texts in one embeddings request (OpenAI's limit). */
export const MAX_EMBEDDING_INPUTS = 2048;
const MAX_MESSAGES = 1024;

function invalid(problems: Problem[]): InferenceError {
  return new InferenceError(
    "INVALID_PARAMETER",
    `invalid request: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
    { problems },
  );
}

class Checker {
  readonly problems: Problem[] = [];
  constructor(readonly body: Body) {}
  bad(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  unknown(allowed: ReadonlySet<string>): void {
    for (const k of Object.keys(this.body)) if (!allowed.has(k)) this.bad(k, "unrecognized request argument");
  }
  /** A field that must be absent, null or equal to `ok` (a value we do not implement otherwise). */
  only(name: string, ok: (v: unknown) => boolean, message: string): void {
    const v = this.body[name];
    if (v !== undefined && v !== null && !ok(v)) this.bad(name, message);
  }
  model(): string {
    const m = this.body["model"];
    if (typeof m !== "string" || m.length === 0 || m.length > 128) {
      this.bad("model", "must be a non-empty string (a name from GET /v1/models)");
      return "";
    }
    return m;
  }
  optionalNumber(name: string): number | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.bad(name, "must be a number");
      return undefined;
    }
    return v;
  }
  bool(name: string): boolean {
    const v = this.body[name];
    if (v === undefined || v === null) return false;
    if (typeof v !== "boolean") this.bad(name, "must be a boolean");
    return v === true;
  }
  done(): void {
    if (this.problems.length > 0) throw invalid(this.problems);
  }
}

function asBody(body: unknown): Body {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw invalid([{ path: "body", message: "must be a JSON object" }]);
  return body as Body;
}

/** Sampling, stopping and streaming fields shared by both completion endpoints. */
function common(c: Checker, maxTokensDefault?: number): Omit<CompletionRequest, "model"> {
  c.only("n", (v) => v === 1, "only 1 is supported");
  c.only("logprobs", (v) => v === false, "log probabilities are not supported");
  c.only(
    "logit_bias",
    (v) => typeof v === "object" && v !== null && Object.keys(v).length === 0,
    "logit bias is not supported",
  );
  const stream = c.bool("stream");
  const options = c.body["stream_options"];
  let includeUsage = false;
  if (options !== undefined && options !== null) {
    if (!stream) c.bad("stream_options", "only allowed with stream: true");
    else if (typeof options !== "object" || Array.isArray(options)) c.bad("stream_options", "must be an object");
    else {
      const u = (options as Body)["include_usage"];
      if (u !== undefined && typeof u !== "boolean") c.bad("stream_options.include_usage", "must be a boolean");
      includeUsage = u === true;
    }
  }
  const stop = c.body["stop"];
  const maxTokens = c.optionalNumber("max_tokens") ?? maxTokensDefault;
  const params: GenerationParams = {
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...opt("temperature", c.optionalNumber("temperature")),
    ...opt("topP", c.optionalNumber("top_p")),
    ...opt("topK", c.optionalNumber("top_k")),
    ...opt("presencePenalty", c.optionalNumber("presence_penalty")),
    ...opt("frequencyPenalty", c.optionalNumber("frequency_penalty")),
    ...opt("seed", c.optionalNumber("seed")),
    ...(stop !== undefined && stop !== null ? { stop: stop as string | string[] } : {}),
  };
  return { params, stream, includeUsage };
}

function opt<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}

/** Message content: a string, or a list of `{ type: "text", text }` parts (joined). */
function content(c: Checker, v: unknown, path: string): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    const texts: string[] = [];
    v.forEach((part: unknown, i) => {
      const p = (typeof part === "object" && part !== null ? part : {}) as Body;
      if (p["type"] !== "text" || typeof p["text"] !== "string")
        c.bad(`${path}[${i}]`, "only text parts ({ type: 'text', text }) are supported");
      else texts.push(p["text"]);
    });
    return texts.join("");
  }
  c.bad(path, "must be a string or a list of text parts");
  return "";
}

/**
 * Checks a chat completion body.
 *
 * @example
 * parseChatCompletion({ model: "chat", messages: [{ role: "user", content: "Hi" }], stream: true });
 */
export function parseChatCompletion(body: unknown): ChatCompletionRequest {
  const c = new Checker(asBody(body));
  c.unknown(CHAT_FIELDS);
  const model = c.model();
  c.only("tools", (v) => Array.isArray(v) && v.length === 0, "tool calls are not supported");
  c.only("tool_choice", (v) => v === "none", "tool calls are not supported");
  c.only("top_logprobs", () => false, "log probabilities are not supported");
  c.only(
    "response_format",
    (v) => typeof v === "object" && (v as Body)["type"] === "text",
    "only { type: 'text' } is supported",
  );
  const budget = c.optionalNumber("max_completion_tokens");
  const shared = common(c, budget);
  const raw = c.body["messages"];
  const messages: ChatMessage[] = [];
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_MESSAGES)
    c.bad("messages", `must be a list of 1 to ${MAX_MESSAGES} messages`);
  else
    raw.forEach((m: unknown, i) => {
      const msg = (typeof m === "object" && m !== null ? m : {}) as Body;
      const role = msg["role"];
      if (typeof role !== "string" || role.length === 0) c.bad(`messages[${i}].role`, "must be a non-empty string");
      messages.push({ role: String(role), content: content(c, msg["content"], `messages[${i}].content`) });
    });
  c.done();
  return { model, messages, ...shared };
}

/**
 * Checks a (legacy) text completion body. `max_tokens` defaults to 16, as OpenAI's does.
 *
 * @example
 * parseTextCompletion({ model: "chat", prompt: "Once upon a time", max_tokens: 32 });
 */
export function parseTextCompletion(body: unknown): TextCompletionRequest {
  const c = new Checker(asBody(body));
  c.unknown(COMPLETION_FIELDS);
  const model = c.model();
  c.only("echo", (v) => v === false, "echo is not supported");
  c.only("suffix", () => false, "suffix (insertion) is not supported");
  c.only("best_of", (v) => v === 1, "only 1 is supported");
  const shared = common(c, 16);
  let prompt: string | number[] = "";
  const raw = c.body["prompt"];
  const one = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (typeof one === "string" && one.length > 0) prompt = one;
  else if (Array.isArray(one) && one.length > 0 && one.every((t) => Number.isInteger(t) && t >= 0))
    prompt = one as number[];
  else c.bad("prompt", "must be one non-empty string or one list of token ids");
  c.done();
  return { model, prompt, ...shared };
}

/**
 * Checks an embeddings body (texts only; `encoding_format` float or base64, the official client's default).
 *
 * @example
 * parseEmbeddings({ model: "encoder", input: ["a", "b"] }).input; // ["a", "b"]
 */
export function parseEmbeddings(body: unknown): EmbeddingsRequest {
  const c = new Checker(asBody(body));
  c.unknown(EMBEDDING_FIELDS);
  const model = c.model();
  const raw = c.body["input"];
  const input = typeof raw === "string" ? [raw] : raw;
  if (
    !Array.isArray(input) ||
    input.length === 0 ||
    input.length > MAX_EMBEDDING_INPUTS ||
    !input.every((t) => typeof t === "string" && t.length > 0)
  )
    c.bad("input", `must be a non-empty string or a list of 1 to ${MAX_EMBEDDING_INPUTS} non-empty strings`);
  const format = c.body["encoding_format"] ?? "float";
  if (format !== "float" && format !== "base64") c.bad("encoding_format", "must be float or base64");
  const dimensions = c.body["dimensions"];
  if (dimensions !== undefined && dimensions !== null && !(Number.isInteger(dimensions) && (dimensions as number) > 0))
    c.bad("dimensions", "must be a positive integer");
  c.done();
  return {
    model,
    input: input as string[],
    encodingFormat: format as "float" | "base64",
    dimensions: typeof dimensions === "number" ? dimensions : undefined,
  };
}
