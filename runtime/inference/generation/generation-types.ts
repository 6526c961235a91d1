/** What a running generation yields: shared by the engine and its output channel. */

/** Newly generated text and the tokens that produced it. */
export interface GenerationChunk {
  /** Text safe to show (UTF-8 complete, no part of a stop sequence); may be "". */
  readonly text: string;
  readonly tokenIds: readonly number[];
}

/** Why a generation ended: a stop sequence or EOS, `maxTokens` or the context, or the caller's abort. */
export type FinishReason = "stop" | "length" | "cancelled";

/** The outcome of a generation. */
export interface GenerationResult {
  /** All emitted text (the concatenation of the chunks). */
  readonly text: string;
  /** Generated token ids, including a final EOS token when there is one. */
  readonly tokenIds: readonly number[];
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Milliseconds from `generate` to the first generated token; undefined when none was generated. */
  readonly timeToFirstTokenMs: number | undefined;
}

/** A running generation: iterate it for chunks (breaking out cancels it), or await `result`. */
export interface Generation extends AsyncIterable<GenerationChunk> {
  /** Resolves when the generation ends (also when cancelled); rejects with `GENERATION_FAILED` or `ENGINE_CLOSED`. */
  readonly result: Promise<GenerationResult>;
}
