/** The stream behind a `Generation`: chunks for one consumer, plus the result promise. */
import type { Generation, GenerationChunk, GenerationResult } from "./generation-types.js";

/** A single-consumer stream of chunks plus a result promise. */
export class Channel {
  private readonly chunks: GenerationChunk[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private error: unknown;
  private settle!: { resolve: (r: GenerationResult) => void; reject: (e: unknown) => void };
  readonly generation: Generation;

  constructor(cancel: () => void) {
    const result = new Promise<GenerationResult>((resolve, reject) => (this.settle = { resolve, reject }));
    result.catch(() => undefined); // a caller that only iterates still sees the error; no unhandled rejection
    const next = async (): Promise<IteratorResult<GenerationChunk>> => {
      for (;;) {
        if (this.chunks.length > 0) return { value: this.chunks.shift()!, done: false };
        if (this.error !== undefined) throw this.error;
        if (this.ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    };
    this.generation = {
      result,
      [Symbol.asyncIterator]: () => ({
        next,
        return: async () => {
          cancel();
          return { value: undefined, done: true };
        },
      }),
    };
  }

  push(chunk: GenerationChunk): void {
    this.chunks.push(chunk);
    this.poke();
  }

  end(result: GenerationResult): void {
    this.ended = true;
    this.settle.resolve(result);
    this.poke();
  }

  fail(error: unknown): void {
    this.error = error;
    this.settle.reject(error);
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
