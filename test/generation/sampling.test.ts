import { describe, expect, it } from "vitest";
import {
  argmax,
  seededUniform,
  TokenSampler,
  type SamplingParams,
} from "../../runtime/inference/generation/sampling.js";
import { StopMatcher } from "../../runtime/inference/generation/stop.js";
import { StreamDetokenizer, type GenerationTokenizer } from "../../runtime/inference/generation/tokenizer.js";

const base: SamplingParams = { temperature: 1, topP: 1, topK: 0, presencePenalty: 0, frequencyPenalty: 0, seed: 42 };
// Probabilities exp(x) / sum: ids 0..4 with logits log(0.4), log(0.3), log(0.2), log(0.06), log(0.04).
const row = Float32Array.from([0.4, 0.3, 0.2, 0.06, 0.04].map(Math.log));
const histogram = (params: Partial<SamplingParams>, n = 4000) => {
  const s = new TokenSampler({ ...base, ...params });
  const h = [0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) h[s.next(row, new Map())]!++;
  return h.map((c) => Math.round((c / n) * 100));
};

describe("TokenSampler", () => {
  it("is greedy at temperature 0 (first maximum on ties)", () => {
    expect(new TokenSampler({ ...base, temperature: 0 }).next(Float32Array.from([1, 3, 3, 2]), new Map())).toBe(1);
    expect(argmax(Float32Array.from([-1, -0.5, -2]))).toBe(1);
  });

  it.each([
    ["no filter", {}, [40, 31, 20, 5, 4]],
    ["top_k 2", { topK: 2 }, [57, 43, 0, 0, 0]],
    ["top_p 0.75 (0.4 + 0.3 < 0.75, so 3 tokens)", { topP: 0.75 }, [44, 34, 22, 0, 0]],
    ["top_p 0.7 (exactly reached by 2 tokens)", { topP: 0.7 }, [57, 43, 0, 0, 0]],
    ["top_k 3 then top_p 0.5 of the renormalised 3", { topK: 3, topP: 0.5 }, [57, 43, 0, 0, 0]],
    // 4000 seeded draws: within 1 point of the exact renormalised probabilities (e.g. 4/7 = 57%, 3/7 = 43%).
  ])("samples the expected distribution (percent, seeded): %s", (_, params, expected) => {
    expect(histogram(params)).toEqual(expected);
  });

  it("applies presence and frequency penalties to generated tokens before choosing", () => {
    const s = new TokenSampler({ ...base, temperature: 0, presencePenalty: 0.5, frequencyPenalty: 0.2 });
    // id 0 penalised by 0.5 + 2 * 0.2 = 0.9 (logit -1.82), id 1 by 0.7 (-1.90): id 2 (-1.61) wins.
    expect(
      s.next(
        row,
        new Map([
          [0, 2],
          [1, 1],
        ]),
      ),
    ).toBe(2);
  });

  it("draws the same numbers for the same seed (known answer)", () => {
    const r = seededUniform(1);
    expect([r(), r(), r()].map((x) => x.toFixed(6))).toEqual(KNOWN_UNIFORM);
  });
});

describe("StopMatcher", () => {
  it.each([
    ["no stops: passes through", [], ["ab", "cd"], ["ab", "cd"], "", false],
    ["holds a possible start, then releases it", ["xyz"], ["ab x", "y!", "z"], ["ab ", "xy!", "z"], "", false],
    ["finds a stop split across pushes and drops it", ["END"], ["one E", "N", "D two"], ["one ", "", ""], "", true],
    ["stops at the earliest of several stops", ["cd", "b"], ["abcd"], ["a"], "", true],
    ["flushes a held prefix at the end", ["stop"], ["go st"], ["go "], "st", false],
  ])("%s", (_, stops, pushes, emits, flushed, stopped) => {
    const m = new StopMatcher(stops);
    const steps = pushes.map((p) => m.push(p));
    expect(steps.map((s) => s.emit)).toEqual(emits);
    expect(steps.some((s) => s.stopped)).toBe(stopped);
    if (!stopped) expect(m.flush()).toBe(flushed);
  });
});

describe("StreamDetokenizer", () => {
  // A byte tokenizer: id = byte value; decode is lossy UTF-8 (U+FFFD for a cut sequence), like ByteLevel.
  const bytes: GenerationTokenizer = {
    encode: (t) => [...new TextEncoder().encode(t)],
    decode: (ids) => new TextDecoder().decode(Uint8Array.from(ids)),
    tokenId: () => undefined,
  };

  it("never emits half a character: a 4-byte emoji comes out whole with its last byte", () => {
    const d = new StreamDetokenizer(bytes);
    const out = bytes.encode("a🙂é").map((id) => d.push(id));
    expect(out).toEqual(["a", "", "", "", "🙂", "", "é"]);
    expect(d.flush()).toBe("");
  });

  it("flushes an incomplete character at the end as U+FFFD", () => {
    const d = new StreamDetokenizer(bytes);
    expect([0xf0, 0x9f].map((id) => d.push(id))).toEqual(["", ""]);
    expect(d.flush()).toBe("\uFFFD");
  });
});

const KNOWN_UNIFORM = ["0.136891", "0.861191", "0.587778"];
