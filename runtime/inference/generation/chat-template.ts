/**
 * A model's chat template (the Jinja `chat_template` of its `tokenizer_config.json`), rendered with
 * `@huggingface/jinja` exactly as `transformers`' `apply_chat_template` renders it.
 */
import { Template } from "@huggingface/jinja";
import { GenerationError } from "./errors.js";

/** One chat message. */
export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

/** A parsed chat template with the special tokens it may reference. */
export interface ChatTemplate {
  /**
   * Renders `messages` to the prompt text; `addGenerationPrompt` opens the assistant's turn.
   * Malformed messages or a template's `raise_exception` -> `INVALID_MESSAGES`.
   */
  render(messages: readonly ChatMessage[], addGenerationPrompt?: boolean): string;
}

const SPECIAL_KEYS = ["bos_token", "eos_token", "pad_token", "unk_token"] as const;

/** The text of a special-token entry of `tokenizer_config.json` (a string or `{ content }`). */
function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  return undefined;
}

/**
 * Parses the `chat_template` of a `tokenizer_config.json` document; undefined when it has none.
 * A template that does not parse -> `TOKENIZER_INVALID`.
 *
 * @example
 * loadChatTemplate(config)?.render([{ role: "user", content: "Hi" }], true);
 * // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
 */
export function loadChatTemplate(tokenizerConfig: unknown): ChatTemplate | undefined {
  const config = (typeof tokenizerConfig === "object" && tokenizerConfig !== null ? tokenizerConfig : {}) as Record<
    string,
    unknown
  >;
  let source = config["chat_template"];
  // Some configs hold a list of named templates; use the one named "default".
  if (Array.isArray(source))
    source = (source as Array<{ name?: unknown; template?: unknown }>).find((t) => t.name === "default")?.template;
  if (typeof source !== "string") return undefined;
  let template: Template;
  try {
    template = new Template(source);
  } catch (cause) {
    throw new GenerationError("TOKENIZER_INVALID", "loading chat template: chat_template does not parse", { cause });
  }
  const specials = Object.fromEntries(SPECIAL_KEYS.map((k) => [k, tokenText(config[k]) ?? ""]));
  return {
    render(messages, addGenerationPrompt = true) {
      const problems = validateMessages(messages);
      if (problems.length > 0)
        throw new GenerationError(
          "INVALID_MESSAGES",
          `rendering chat: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
          { problems },
        );
      try {
        return template.render({
          ...specials,
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          add_generation_prompt: addGenerationPrompt,
        });
      } catch (cause) {
        // The template's own `raise_exception` text stays in `cause` only: templates may quote message content.
        throw new GenerationError("INVALID_MESSAGES", "rendering chat: the chat template rejected these messages", {
          cause,
        });
      }
    },
  };
}

function validateMessages(messages: unknown): Array<{ path: string; message: string }> {
  if (!Array.isArray(messages) || messages.length === 0)
    return [{ path: "messages", message: "must be a non-empty list" }];
  const problems: Array<{ path: string; message: string }> = [];
  messages.forEach((m: unknown, i) => {
    const msg = (typeof m === "object" && m !== null ? m : {}) as { role?: unknown; content?: unknown };
    if (typeof msg.role !== "string" || msg.role === "")
      problems.push({ path: `messages[${i}].role`, message: "must be a non-empty string" });
    if (typeof msg.content !== "string") problems.push({ path: `messages[${i}].content`, message: "must be a string" });
  });
  return problems;
}
