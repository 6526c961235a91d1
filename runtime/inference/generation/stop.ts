/**
 * Stop sequences on decoded text. Text is released only when no stop sequence can still start inside it, so a stop
 * that spans several tokens is found and none of its text is ever emitted.
 */

/** The result of feeding text to a {@link StopMatcher}. */
export interface StopStep {
  /** Text that is safe to emit now (may be empty). */
  readonly emit: string;
  /** True when a stop sequence was found; `emit` then holds the text before it and the generation ends. */
  readonly stopped: boolean;
}

/** Holds back text that could be the beginning of a stop sequence. */
export class StopMatcher {
  private pending = "";

  /** @param stops non-empty strings; an empty list makes the matcher pass text straight through. */
  constructor(private readonly stops: readonly string[]) {}

  /** Adds newly decoded text. */
  push(text: string): StopStep {
    if (this.stops.length === 0) return { emit: text, stopped: false };
    this.pending += text;
    let at = -1;
    for (const stop of this.stops) {
      const i = this.pending.indexOf(stop);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      const emit = this.pending.slice(0, at);
      this.pending = "";
      return { emit, stopped: true };
    }
    const hold = this.heldSuffix();
    const emit = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { emit, stopped: false };
  }

  /** Releases the held-back text at the end of a generation (no stop can complete any more). */
  flush(): string {
    const rest = this.pending;
    this.pending = "";
    return rest;
  }

  /** Length of the longest suffix of `pending` that is a proper prefix of some stop sequence. */
  private heldSuffix(): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.pending.length); n > best; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
