/**
 * Per-client token buckets. Pure: the caller passes `nowMs`. A client gets `burst` requests at once and
 * `perSecond` more each second; an empty bucket answers with the seconds until the next token.
 */

/** A client's limit. */
export interface RateLimit {
  /** Sustained requests per second (> 0). */
  readonly perSecond: number;
  /** Bucket size: requests allowed at once (>= 1). */
  readonly burst: number;
}

/** Result of `RateLimiter.take`. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/** Token buckets by client name. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes one token for `client` at `nowMs`. */
  take(client: string, limit: RateLimit, nowMs: number): RateDecision {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1))
      throw new TypeError("rate limit needs perSecond > 0 and burst >= 1");
    const b = this.buckets.get(client) ?? { tokens: limit.burst, at: nowMs };
    b.tokens = Math.min(limit.burst, b.tokens + (Math.max(0, nowMs - b.at) / 1000) * limit.perSecond);
    b.at = nowMs;
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond)) };
  }
}
