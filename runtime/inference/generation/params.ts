/**
 * Validation of a generation request's parameters (ranges as in the OpenAI API), reporting every bad field at once.
 */
import { randomInt } from "node:crypto";
import type { Problem } from "../../../core/index.js";
import { GenerationError } from "./errors.js";
import type { SamplingParams } from "./sampling.js";

/** What a caller asks for; absent fields take the documented defaults. */
export interface GenerationParams {
  /** Most tokens to generate (>= 1); absent means up to the context length. */
  readonly maxTokens?: number;
  /** 0 to 2; 0 is greedy. Default 1. */
  readonly temperature?: number;
  /** (0, 1]. Default 1 (off). */
  readonly topP?: number;
  /** Integer >= 0. Default 0 (off). */
  readonly topK?: number;
  /** -2 to 2. Default 0. */
  readonly presencePenalty?: number;
  /** -2 to 2. Default 0. */
  readonly frequencyPenalty?: number;
  /** Integer; the same seed, prompt and parameters give the same tokens. Absent means a random seed. */
  readonly seed?: number;
  /** Up to 4 non-empty strings; generation ends before the first one and never emits it. */
  readonly stop?: string | readonly string[];
}

/** Parameters after defaults and checks. */
export interface ResolvedParams extends SamplingParams {
  readonly maxTokens: number;
  readonly stop: readonly string[];
}

const MAX_STOPS = 4;

/**
 * Checks `params` for a prompt of `promptTokens` tokens and a model context of `contextLength` tokens.
 * Out-of-range fields -> `INVALID_PARAMETER` (every field in `problems`); prompt plus `maxTokens` longer than the
 * context -> `CONTEXT_LENGTH_EXCEEDED`.
 *
 * @example resolveParams({ maxTokens: 16, temperature: 0 }, 12, 512).maxTokens; // 16
 */
export function resolveParams(params: GenerationParams, promptTokens: number, contextLength: number): ResolvedParams {
  const problems: Problem[] = [];
  const num = (name: string, v: unknown, lo: number, hi: number, integer = false) => {
    if (v === undefined) return;
    if (typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v)))
      problems.push({ path: name, message: `must be ${integer ? "an integer" : "a number"} from ${lo} to ${hi}` });
  };
  num("max_tokens", params.maxTokens, 1, Number.MAX_SAFE_INTEGER, true);
  num("temperature", params.temperature, 0, 2);
  num("top_k", params.topK, 0, Number.MAX_SAFE_INTEGER, true);
  num("presence_penalty", params.presencePenalty, -2, 2);
  num("frequency_penalty", params.frequencyPenalty, -2, 2);
  num("seed", params.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true);
  if (params.topP !== undefined && (typeof params.topP !== "number" || !(params.topP > 0 && params.topP <= 1)))
    problems.push({ path: "top_p", message: "must be a number greater than 0 and at most 1" });
  const stops = params.stop === undefined ? [] : typeof params.stop === "string" ? [params.stop] : params.stop;
  if (!Array.isArray(stops) || stops.length > MAX_STOPS)
    problems.push({ path: "stop", message: `must be a string or a list of at most ${MAX_STOPS} strings` });
  else
    stops.forEach((s: unknown, i) => {
      if (typeof s !== "string" || s.length === 0)
        problems.push({
          path: typeof params.stop === "string" ? "stop" : `stop[${i}]`,
          message: "must be a non-empty string",
        });
    });
  if (problems.length > 0)
    throw new GenerationError(
      "INVALID_PARAMETER",
      `checking generation parameters: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      { problems },
    );
  if (promptTokens < 1)
    throw new GenerationError(
      "INVALID_PARAMETER",
      "checking generation parameters: prompt: must have at least one token",
      {
        problems: [{ path: "prompt", message: "must have at least one token" }],
      },
    );
  const room = contextLength - promptTokens;
  const maxTokens = params.maxTokens ?? room;
  if (room < 1 || maxTokens > room)
    throw new GenerationError(
      "CONTEXT_LENGTH_EXCEEDED",
      `checking context length: the model's context is ${contextLength} tokens; the prompt has ${promptTokens} and ` +
        `${params.maxTokens === undefined ? "leaves no room for a completion" : `max_tokens asks for ${maxTokens} more`}`,
    );
  return {
    maxTokens,
    temperature: params.temperature ?? 1,
    topP: params.topP ?? 1,
    topK: params.topK ?? 0,
    presencePenalty: params.presencePenalty ?? 0,
    frequencyPenalty: params.frequencyPenalty ?? 0,
    seed: params.seed === undefined ? randomInt(2 ** 32) : Number(BigInt.asUintN(32, BigInt(params.seed))),
    stop: stops as readonly string[],
  };
}
