/**
 * Ephemeral EC key pairs for the broker's JWE key agreements (ECDH-ES, on the recipient's curve:
 * P-384 for our runtimes, P-256 or P-521 for Trustee's clients), generated ahead of need on the
 * libuv thread pool, one small pool per curve in use: key generation is about a third of a JWE's cost, and made while
 * the broker is idle it is off every response's path. Each pair is handed out once and never
 * reused (RFC 7518 4.6: a new ephemeral key per key agreement); the pool only holds a few, only in
 * memory, and refills one pair at a time, so under sustained load it costs exactly what generating
 * on demand would.
 *
 * @example
 * const keys = new EphemeralKeys({ target: 8 });
 * const eph = await keys.take(); // one use only
 * keys.close();
 */
import { generateKeyPair, type KeyObject } from "node:crypto";

/** One ephemeral key pair. */
export interface EphemeralKeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

/** Curves of ephemeral keys (JWK `crv` names). */
export type EphemeralCurve = "P-256" | "P-384" | "P-521";

const OPENSSL_CURVE: Readonly<Record<EphemeralCurve, string>> = {
  "P-256": "prime256v1",
  "P-384": "secp384r1",
  "P-521": "secp521r1",
};

/** A fresh key pair on `curve` (default P-384) from the thread pool. */
export function generateEphemeral(curve: EphemeralCurve = "P-384"): Promise<EphemeralKeyPair> {
  return new Promise((resolve, reject) =>
    generateKeyPair("ec", { namedCurve: OPENSSL_CURVE[curve] }, (e, publicKey, privateKey) =>
      e ? reject(e) : resolve({ publicKey, privateKey }),
    ),
  );
}

class Pool {
  readonly ready: EphemeralKeyPair[] = [];
  refilling = false;
  constructor(readonly curve: EphemeralCurve) {}
}

/** Small pools of pre-generated ephemeral key pairs, one per curve (created on first use; P-384 at once). */
export class EphemeralKeys {
  private readonly pools = new Map<EphemeralCurve, Pool>();
  private closed = false;
  private readonly target: number;

  /** `target`: pairs kept ready per curve (default 8; 0 turns the pools off, every take generates). */
  constructor(options: { readonly target?: number } = {}) {
    this.target = options.target ?? 8;
    this.refill(this.pool("P-384"));
  }

  /** P-384 pairs ready now. */
  get size(): number {
    return this.pool("P-384").ready.length;
  }

  /** A pair on `curve` nobody else gets: a ready one, or a new one when the pool is empty. */
  take(curve: EphemeralCurve = "P-384"): Promise<EphemeralKeyPair> {
    const pool = this.pool(curve);
    const pair = pool.ready.shift();
    this.refill(pool);
    return pair ? Promise.resolve(pair) : generateEphemeral(curve);
  }

  /** Stops refilling and drops the ready pairs. */
  close(): void {
    this.closed = true;
    for (const p of this.pools.values()) p.ready.length = 0;
  }

  private pool(curve: EphemeralCurve): Pool {
    let p = this.pools.get(curve);
    if (!p) {
      p = new Pool(curve);
      this.pools.set(curve, p);
    }
    return p;
  }

  private refill(pool: Pool): void {
    if (pool.refilling || this.closed || pool.ready.length >= this.target) return;
    pool.refilling = true;
    generateEphemeral(pool.curve).then(
      (pair) => {
        pool.refilling = false;
        if (this.closed) return;
        pool.ready.push(pair);
        this.refill(pool);
      },
      () => {
        // A failed generation leaves the pool short; take() generates on demand and reports errors.
        pool.refilling = false;
      },
    );
  }
}
