/**
 * The gateway resource's replay cache (RFC 9458 section 6.5): the `enc` of every request opened,
 * per key, kept until that key stops opening requests. A replayed encapsulated request carries the
 * same `enc`, so it is refused before it reaches an API; once the key expires the request cannot be
 * opened at all, so the entries go with it. The cache is bounded: when full it refuses new requests
 * (`REPLAY_CACHE_FULL`, fail closed) rather than forget entries that still matter.
 */
import { ConfidentialError } from "./errors.js";

/** Remembers the `enc` of opened requests per key until the key's expiry. */
export class ReplayCache {
  private readonly byKey = new Map<string, { readonly expiresAt: number; readonly seen: Set<string> }>();
  private size = 0;

  constructor(
    /** Most entries held at once. */
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Entries held now. */
  get entries(): number {
    return this.size;
  }

  /**
   * Records `enc` for the key (`keyId` opening requests until `expiresAt`, ms since the epoch).
   * @returns false when this `enc` was already recorded for the key (a replay).
   * @throws ConfidentialError `REPLAY_CACHE_FULL`.
   */
  record(keyId: number, expiresAt: number, enc: Uint8Array): boolean {
    const t = this.now();
    for (const [k, v] of this.byKey)
      if (v.expiresAt <= t) {
        this.size -= v.seen.size;
        this.byKey.delete(k);
      }
    const id = `${keyId}:${expiresAt}`;
    let entry = this.byKey.get(id);
    if (entry === undefined) {
      entry = { expiresAt, seen: new Set() };
      this.byKey.set(id, entry);
    }
    const key = Buffer.from(enc).toString("base64");
    if (entry.seen.has(key)) return false;
    if (this.size >= this.maxEntries)
      throw new ConfidentialError("REPLAY_CACHE_FULL", `the replay cache holds ${this.maxEntries} entries`);
    entry.seen.add(key);
    this.size++;
    return true;
  }
}
