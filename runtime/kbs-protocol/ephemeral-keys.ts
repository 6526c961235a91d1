/**
 * Ephemeral P-384 key pairs for the broker's JWE key agreements (ECDH-ES), generated ahead of
 * need on the libuv thread pool: key generation is about a third of a JWE's cost, and made while
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

/** A fresh P-384 key pair from the thread pool. */
export function generateEphemeral(): Promise<EphemeralKeyPair> {
  return new Promise((resolve, reject) =>
    generateKeyPair("ec", { namedCurve: "P-384" }, (e, publicKey, privateKey) =>
      e ? reject(e) : resolve({ publicKey, privateKey }),
    ),
  );
}

/** A small pool of pre-generated ephemeral P-384 key pairs. */
export class EphemeralKeys {
  private readonly ready: EphemeralKeyPair[] = [];
  private refilling = false;
  private closed = false;
  private readonly target: number;

  /** `target`: pairs kept ready (default 8; 0 turns the pool off, every take generates). */
  constructor(options: { readonly target?: number } = {}) {
    this.target = options.target ?? 8;
    this.refill();
  }

  /** Pairs ready now. */
  get size(): number {
    return this.ready.length;
  }

  /** A pair nobody else gets: a ready one, or a new one when the pool is empty. */
  take(): Promise<EphemeralKeyPair> {
    const pair = this.ready.shift();
    this.refill();
    return pair ? Promise.resolve(pair) : generateEphemeral();
  }

  /** Stops refilling and drops the ready pairs. */
  close(): void {
    this.closed = true;
    this.ready.length = 0;
  }

  private refill(): void {
    if (this.refilling || this.closed || this.ready.length >= this.target) return;
    this.refilling = true;
    generateEphemeral().then(
      (pair) => {
        this.refilling = false;
        if (this.closed) return;
        this.ready.push(pair);
        this.refill();
      },
      () => {
        // A failed generation leaves the pool short; take() generates on demand and reports errors.
        this.refilling = false;
      },
    );
  }
}
