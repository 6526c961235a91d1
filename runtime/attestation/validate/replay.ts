/**
 * Replay protection: a REPORT_DATA binding (SHA-256 of it) may be used once. The guard is injected
 * so a server can share it across requests (or back it with a store); the in-memory one forgets
 * bindings after `ttlMs`, which must exceed the lifetime of the nonce the binding covers.
 */

/** Remembers consumed bindings. */
export interface ReplayGuard {
  /** Marks `key` used at `now`; false when it was already used (a replay). */
  consume(key: string, now: Date): boolean;
}

/** Options of {@link memoryReplayGuard}. */
export interface MemoryReplayGuardOptions {
  /** How long a binding is remembered, in milliseconds (at least the nonce lifetime). */
  readonly ttlMs: number;
  /** Most bindings remembered; beyond it the oldest are forgotten (default 100 000). */
  readonly maxEntries?: number;
}

/**
 * An in-memory replay guard for one process.
 * @example const replay = memoryReplayGuard({ ttlMs: 120_000 }); replay.consume(key, now) // true, then false
 */
export function memoryReplayGuard(options: MemoryReplayGuardOptions): ReplayGuard {
  if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0)
    throw new TypeError("memoryReplayGuard: ttlMs must be a positive number");
  const max = options.maxEntries ?? 100_000;
  const seen = new Map<string, number>();
  return {
    consume(key, now) {
      const t = now.getTime();
      for (const [k, at] of seen) {
        if (t - at < options.ttlMs && seen.size < max) break;
        seen.delete(k);
      }
      const at = seen.get(key);
      if (at !== undefined && t - at < options.ttlMs) return false;
      seen.set(key, t);
      return true;
    },
  };
}
