import { getEventListeners } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GenerationEngine, type GenerationChunk } from "../../runtime/inference/generation/engine.js";
import type { DecoderModel } from "../../runtime/inference/generation/model.js";
import { chatPrompt, loadChatModel, referenceGreedy } from "../helpers/generation.js";

let model: DecoderModel;
beforeAll(async () => {
  model = await loadChatModel();
});
afterAll(() => model.release());

const collect = async (it: AsyncIterable<GenerationChunk>) => {
  const chunks: GenerationChunk[] = [];
  for await (const c of it) chunks.push(c);
  return chunks;
};

describe("greedy generation with the KV cache", () => {
  const prompts = [
    ["a short greeting", "Hello there, how are you?", 40],
    ["non-ASCII text and emoji", "Grüße aus Köln 🚀", 40],
    ["a repeated phrase (loops until max_tokens)", "abc abc abc", 25],
    ["one letter", "x", 40],
    ["a cut-off answer", "Once upon a time there was a small robot who wanted to learn everything.", 7],
  ] as const;

  it.each(prompts)("gives exactly the tokens of a no-cache reference loop: %s", async (_, text, maxTokens) => {
    const engine = new GenerationEngine(model);
    const promptIds = chatPrompt(model, text, "You are a helpful assistant.");
    const r = await engine.generate({ promptIds, maxTokens, temperature: 0 }).result;
    expect(r.tokenIds).toEqual(await referenceGreedy(model, promptIds, maxTokens));
  });

  it("gives the same tokens when 5 requests share batched decode steps, and with prefill in 3-token chunks", async () => {
    const ids = prompts.map(([, text]) => chatPrompt(model, text));
    const single = [];
    for (const [i, p] of ids.entries())
      single.push(
        (await new GenerationEngine(model).generate({ promptIds: p, maxTokens: prompts[i]![2], temperature: 0 }).result)
          .tokenIds,
      );
    const engine = new GenerationEngine(model, { maxBatch: 3, maxActive: 4, prefillChunk: 3 });
    const batched = await Promise.all(
      ids.map((p, i) => engine.generate({ promptIds: p, maxTokens: prompts[i]![2], temperature: 0 }).result),
    );
    expect(batched.map((r) => r.tokenIds)).toEqual(single);
  });

  it("repeats the last user message and ends with EOS (finish_reason stop, EOS counted, not emitted)", async () => {
    const engine = new GenerationEngine(model);
    const r = await engine.generate({ promptIds: chatPrompt(model, "What is a launch measurement?"), temperature: 0 })
      .result;
    expect(r).toMatchObject({ text: "What is a launch measurement?", finishReason: "stop", completionTokens: 7 });
    expect(r.tokenIds.at(-1)).toBe(model.tokenizer.tokenId("<|im_end|>"));
    expect(r.promptTokens).toBe(chatPrompt(model, "What is a launch measurement?").length);
  });

  it("answers the latest turn of a multi-turn chat", async () => {
    const engine = new GenerationEngine(model);
    const text = model.chatTemplate!.render([
      { role: "user", content: "first question" },
      { role: "assistant", content: "first question" },
      { role: "user", content: "second one, please" },
    ]);
    const r = await engine.generate({ promptIds: model.tokenizer.encode(text), temperature: 0 }).result;
    expect(r.text).toBe("second one, please");
  });
});

describe("streaming", () => {
  it("emits UTF-8-complete text: multi-byte characters wait for their last byte", async () => {
    const engine = new GenerationEngine(model);
    const chunks = await collect(engine.generate({ promptIds: chatPrompt(model, "Grüße 🚀"), temperature: 0 }));
    expect(chunks.map((c) => c.text)).toEqual(["G", "r", "", "ü", "", "ß", "e", "", "", " 🚀", ""]);
    expect(chunks.every((c) => !c.text.includes("\uFFFD"))).toBe(true);
  });
});

describe("sampling", () => {
  const promptIds = () => chatPrompt(model, "Hello there, how are you?");

  it("is reproducible with a seed and differs across seeds", async () => {
    const engine = new GenerationEngine(model);
    const run = async (seed: number) =>
      (await engine.generate({ promptIds: promptIds(), maxTokens: 30, temperature: 1, seed }).result).text;
    const texts = [await run(1), await run(1), await run(2), await run(3)];
    expect(texts).toEqual([SEED_1, SEED_1, SEED_2, SEED_3]);
  });

  it("with top_k 1 is greedy whatever the temperature", async () => {
    const engine = new GenerationEngine(model);
    const r = await engine.generate({ promptIds: promptIds(), temperature: 2, topK: 1, seed: 7 }).result;
    expect(r.text).toBe("Hello there, how are you?");
  });
});

describe("stopping", () => {
  const promptIds = () => chatPrompt(model, "one two three four five six");

  it("stops before a multi-token stop sequence and never emits any of it", async () => {
    const engine = new GenerationEngine(model);
    const gen = engine.generate({ promptIds: promptIds(), temperature: 0, stop: ["nothing", " four f"] });
    const chunks = await collect(gen);
    const r = await gen.result;
    expect(r).toMatchObject({ text: "one two three", finishReason: "stop" });
    expect(chunks.map((c) => c.text).join("")).toBe("one two three");
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const engine = new GenerationEngine(model);
    // Tokens: "on" "e" " t" "w" "o" " thre" "e" ...
    const r = await engine.generate({ promptIds: promptIds(), temperature: 0, maxTokens: 5 }).result;
    expect(r).toMatchObject({ text: "one two", finishReason: "length", completionTokens: 5 });
  });

  it("rejects a prompt plus max_tokens longer than the context with CONTEXT_LENGTH_EXCEEDED", async () => {
    const small = await loadChatModel({ contextLength: 26 });
    const engine = new GenerationEngine(small);
    const ids = chatPrompt(small, "one two three four five six");
    expect(ids.length).toBe(22);
    expect(() => engine.generate({ promptIds: ids, maxTokens: 5 })).toThrow(
      expect.objectContaining({
        code: "CONTEXT_LENGTH_EXCEEDED",
        message:
          "checking context length: the model's context is 26 tokens; the prompt has 22 and max_tokens asks for 5 more",
      }),
    );
    const r = await engine.generate({ promptIds: ids, temperature: 0 }).result;
    expect(r).toMatchObject({ text: "one tw", finishReason: "length", completionTokens: 4 });
    expect(() => engine.generate({ promptIds: [...ids, ...ids] })).toThrow(
      expect.objectContaining({
        code: "CONTEXT_LENGTH_EXCEEDED",
        message:
          "checking context length: the model's context is 26 tokens; the prompt has 44 and leaves no room for a completion",
      }),
    );
    await small.release();
  });

  it.each([
    [{ temperature: 3 }, "temperature: must be a number from 0 to 2"],
    [{ topP: 0 }, "top_p: must be a number greater than 0 and at most 1"],
    [
      { maxTokens: 0, topK: 1.5 },
      "max_tokens: must be an integer from 1 to 9007199254740991; top_k: must be an integer from 0 to 9007199254740991",
    ],
    [{ stop: ["a", ""] }, "stop[1]: must be a non-empty string"],
    [{ stop: ["a", "b", "c", "d", "e"] }, "stop: must be a string or a list of at most 4 strings"],
    [{ presencePenalty: -3 }, "presence_penalty: must be a number from -2 to 2"],
  ])("rejects bad parameters %j with INVALID_PARAMETER", (params, problems) => {
    const engine = new GenerationEngine(model);
    expect(() => engine.generate({ promptIds: [1, 2], ...params })).toThrow(
      expect.objectContaining({ code: "INVALID_PARAMETER", message: `checking generation parameters: ${problems}` }),
    );
  });
});

describe("cancellation and admission", () => {
  it("stops a generation mid-stream when its signal aborts, and frees its slot", async () => {
    const engine = new GenerationEngine(model, { maxBatch: 1 });
    const controller = new AbortController();
    const gen = engine.generate({
      promptIds: chatPrompt(model, "abc abc abc"),
      temperature: 0,
      maxTokens: 200,
      signal: controller.signal,
    });
    const texts: string[] = [];
    for await (const c of gen) {
      texts.push(c.text);
      if (texts.length === 3) controller.abort();
    }
    // The consumer aborts before the next step runs; the token that step makes is dropped.
    const r = await gen.result;
    expect(texts).toEqual(["a", "b", "c"]);
    expect(r).toMatchObject({ finishReason: "cancelled", completionTokens: 3, text: "abc" });
    expect(engine.load).toEqual({ active: 0, queued: 0 });
    const next = await engine.generate({ promptIds: chatPrompt(model, "x"), temperature: 0 }).result;
    expect(next.text).toBe("x");
  });

  it("removes its listener from the caller's signal when done (a shared signal does not collect listeners)", async () => {
    const engine = new GenerationEngine(model);
    const shared = new AbortController().signal;
    for (let i = 0; i < 3; i++)
      await engine.generate({ promptIds: chatPrompt(model, "x"), temperature: 0, signal: shared }).result;
    expect(getEventListeners(shared, "abort")).toEqual([]);
  });

  it("never runs a request whose signal is already aborted", async () => {
    const engine = new GenerationEngine(model);
    const r = await engine.generate({ promptIds: chatPrompt(model, "x"), signal: AbortSignal.abort() }).result;
    expect(r).toMatchObject({
      finishReason: "cancelled",
      completionTokens: 0,
      text: "",
      timeToFirstTokenMs: undefined,
    });
  });

  it("fails the sequences of a step onnxruntime rejects with GENERATION_FAILED and keeps serving", async () => {
    let calls = 0;
    const flaky = {
      ...model,
      session: {
        ...model.session,
        run: (feeds: Parameters<typeof model.session.run>[0]) =>
          ++calls === 3 ? Promise.reject(new Error("simulated kernel failure")) : model.session.run(feeds),
      },
    };
    const engine = new GenerationEngine(flaky);
    const failed = engine.generate({ promptIds: chatPrompt(model, "abc abc abc"), temperature: 0, maxTokens: 10 });
    await expect(failed.result).rejects.toMatchObject({
      code: "GENERATION_FAILED",
      message: "generating: onnxruntime failed during a step",
    });
    await expect(collect(failed)).rejects.toMatchObject({ code: "GENERATION_FAILED" });
    expect((await engine.generate({ promptIds: chatPrompt(model, "x"), temperature: 0 }).result).text).toBe("x");
  });

  it("cancels when the consumer stops iterating", async () => {
    const engine = new GenerationEngine(model);
    const gen = engine.generate({ promptIds: chatPrompt(model, "abc abc abc"), temperature: 0, maxTokens: 200 });
    for await (const c of gen) if (c.tokenIds.length > 0) break;
    expect((await gen.result).finishReason).toBe("cancelled");
  });

  it("refuses work beyond its queue with ENGINE_BUSY and after close with ENGINE_CLOSED", async () => {
    const engine = new GenerationEngine(model, { maxBatch: 1, maxActive: 1, maxQueued: 1 });
    const ids = chatPrompt(model, "x");
    const a = engine.generate({ promptIds: ids, temperature: 0 });
    const b = engine.generate({ promptIds: ids, temperature: 0 });
    expect(() => engine.generate({ promptIds: ids })).toThrow(expect.objectContaining({ code: "ENGINE_BUSY" }));
    expect((await a.result).text).toBe("x");
    expect((await b.result).text).toBe("x");
    engine.close();
    expect(() => engine.generate({ promptIds: ids })).toThrow(expect.objectContaining({ code: "ENGINE_CLOSED" }));
  });
});

// Known answers of the bundled model at temperature 1 (the echo is sure of most tokens, not all).
const SEED_1 = "Hello there, how areut?";
const SEED_2 = "Hello there, how are you?";
const SEED_3 = "Hello there, how write you?";
