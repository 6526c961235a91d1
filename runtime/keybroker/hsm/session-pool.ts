/**
 * A fixed pool of PKCS#11 sessions for operations that run on the libuv thread pool (pkcs11js
 * `C_SignAsync`, `C_DecryptAsync`): a session carries at most one active operation, so each
 * operation borrows a session for its Init + call and returns it; callers beyond the pool size
 * wait in order. Closing is deferred until every borrowed session is back, so the module is
 * never finalised under an operation still running on another thread.
 */
import { KeyBrokerError } from "../errors.js";

/** Sessions (pkcs11js handles) lent to one operation at a time. */
export class SessionPool {
  private readonly free: Buffer[];
  private readonly waiting: { resolve: (s: Buffer) => void; reject: (e: Error) => void }[] = [];
  private borrowed = 0;
  private closing = false;
  private finished = false;

  /** `onIdleAfterClose` runs once, when the pool is closed and no session is borrowed. */
  constructor(
    sessions: readonly Buffer[],
    private readonly onIdleAfterClose: () => void,
  ) {
    if (sessions.length === 0) throw new TypeError("SessionPool needs at least one session");
    this.free = [...sessions];
  }

  /** Sessions currently lent out. */
  get inUse(): number {
    return this.borrowed;
  }

  /** True once closed and every session is back (the owner may finalise the module). */
  get drained(): boolean {
    return this.finished;
  }

  /**
   * Runs `fn` with a session of its own; waits for one when all are lent. HSM_UNAVAILABLE once
   * the pool is closing.
   */
  async run<T>(fn: (session: Buffer) => Promise<T>): Promise<T> {
    const session = await this.acquire();
    try {
      return await fn(session);
    } finally {
      this.release(session);
    }
  }

  /** Refuses new work, fails the waiting callers, and finishes once every session is back. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    const err = new KeyBrokerError("HSM_UNAVAILABLE", "the HSM session pool is closing");
    for (const w of this.waiting.splice(0)) w.reject(err);
    this.finishIfIdle();
  }

  private acquire(): Promise<Buffer> {
    if (this.closing) return Promise.reject(new KeyBrokerError("HSM_UNAVAILABLE", "the HSM session pool is closing"));
    const s = this.free.pop();
    if (s !== undefined) {
      this.borrowed += 1;
      return Promise.resolve(s);
    }
    return new Promise<Buffer>((resolve, reject) =>
      this.waiting.push({ resolve: (x) => ((this.borrowed += 1), resolve(x)), reject }),
    );
  }

  private release(session: Buffer): void {
    this.borrowed -= 1;
    const next = this.closing ? undefined : this.waiting.shift();
    if (next) next.resolve(session);
    else this.free.push(session);
    this.finishIfIdle();
  }

  private finishIfIdle(): void {
    if (this.closing && this.borrowed === 0 && !this.finished) {
      this.finished = true;
      this.onIdleAfterClose();
    }
  }
}
