/**
 * The HSM as the broker sees it: operations by key label, fail-closed availability, and automatic
 * recovery. When the device, token or session is lost, every operation fails at once with
 * HSM_UNAVAILABLE (the HTTP layer answers 503) and a background loop reconnects with backoff:
 * reload the module, find the token by label, log in, check the mechanisms and that every key the
 * broker's state names is still there. Keys are never created during recovery.
 */
import { KeyBrokerError, isKeyBrokerError } from "../errors.js";
import { checkMechanisms } from "./mechanisms.js";
import type { Pkcs11Token } from "./pkcs11.js";
import type { KeyKind } from "./pkcs11-objects.js";
import { isDeviceLost } from "./pkcs11-errors.js";

/** A key the broker's state says must exist in the token. */
export interface ExpectedKey {
  readonly kind: KeyKind;
  readonly label: string;
}

/** Events the backend reports (the broker audits them). */
export type HsmEvent =
  { readonly type: "lost"; readonly reason: string } | { readonly type: "recovered"; readonly attempts: number };

/** How the backend opens the token and learns which keys must exist. */
export interface HsmBackendOptions {
  /** Opens a logged-in session (Pkcs11Token.open with the configured module, label and PIN). */
  readonly open: () => Pkcs11Token;
  /** Keys the current state names; checked on every (re)connect. */
  readonly expectedKeys: () => readonly ExpectedKey[];
  /** First reconnect delay in ms (default 100), doubled up to `maxRetryMs` (default 2000). */
  readonly minRetryMs?: number;
  readonly maxRetryMs?: number;
  /** Called on loss and recovery (never with secrets). */
  readonly onEvent?: (event: HsmEvent) => void;
  /** Called after every operation with its duration in seconds and whether it succeeded (metrics). */
  readonly onOperation?: (seconds: number, ok: boolean) => void;
}

/** Fail-closed, self-healing access to the broker's HSM keys. */
export class HsmBackend {
  private token: Pkcs11Token | undefined;
  private readonly handles = new Map<string, Buffer>();
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;
  private lastReason = "not connected";
  private retiring: Pkcs11Token | undefined;

  constructor(private readonly options: HsmBackendOptions) {}

  /**
   * Connects for the first time. Start-up errors (module, token, PIN, mechanisms, missing keys)
   * are thrown so the broker refuses to start with a clear message.
   */
  connect(): void {
    this.token = this.openChecked();
  }

  /** True while the token is connected and usable. */
  get available(): boolean {
    return this.token !== undefined;
  }

  /** Why the HSM is unavailable (CKR code or error code only), or undefined when available. */
  get unavailableReason(): string | undefined {
    return this.token === undefined ? this.lastReason : undefined;
  }

  /** Stops the recovery loop and closes the session. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.token?.close();
    this.token = undefined;
    this.handles.clear();
  }

  /** Runs `fn` with the live token; on device loss marks the HSM unavailable and starts recovery. */
  use<T>(fn: (token: Pkcs11Token, handle: (kind: KeyKind, label: string) => Buffer) => T): T {
    const token = this.live();
    const t0 = process.hrtime.bigint();
    let ok = false;
    try {
      const out = fn(token, (kind, label) => this.handle(token, kind, label));
      ok = true;
      return out;
    } catch (e) {
      throw this.failure(token, e);
    } finally {
      this.timed(t0, ok);
    }
  }

  /** use() for operations that run on the thread pool (the token's pooled sessions). */
  async useAsync<T>(
    fn: (token: Pkcs11Token, handle: (kind: KeyKind, label: string) => Buffer) => Promise<T>,
  ): Promise<T> {
    const token = this.live();
    const t0 = process.hrtime.bigint();
    let ok = false;
    try {
      const out = await fn(token, (kind, label) => this.handle(token, kind, label));
      ok = true;
      return out;
    } catch (e) {
      throw this.failure(token, e);
    } finally {
      this.timed(t0, ok);
    }
  }

  private timed(t0: bigint, ok: boolean): void {
    if (this.options.onOperation === undefined) return;
    try {
      this.options.onOperation(Number(process.hrtime.bigint() - t0) / 1e9, ok);
    } catch {
      // metrics only
    }
  }

  private live(): Pkcs11Token {
    if (this.token === undefined)
      throw new KeyBrokerError("HSM_UNAVAILABLE", `HSM unavailable (${this.lastReason}); retrying in the background`);
    return this.token;
  }

  private failure(token: Pkcs11Token, e: unknown): unknown {
    // A key the state names going missing mid-run means the token is not the one we know: fail closed too.
    const lost =
      isKeyBrokerError(e, "HSM_UNAVAILABLE") ||
      isKeyBrokerError(e, "HSM_KEY_MISSING") ||
      (!isKeyBrokerError(e) && isDeviceLost(e));
    if (!lost || this.closed) return e;
    // An operation that started on a token since replaced reports its own failure only.
    if (this.token === token) this.markLost(e instanceof Error ? e.message : "device lost");
    return new KeyBrokerError("HSM_UNAVAILABLE", "HSM unavailable; retrying in the background", { cause: e });
  }

  /** Forgets a cached handle (after the object was destroyed). */
  forget(kind: KeyKind, label: string): void {
    this.handles.delete(`${kind}:${label}`);
  }

  private handle(token: Pkcs11Token, kind: KeyKind, label: string): Buffer {
    const key = `${kind}:${label}`;
    const cached = this.handles.get(key);
    if (cached) return cached;
    const found = token.find(kind, label);
    if (found.length !== 1 || found[0] === undefined) {
      throw new KeyBrokerError(
        "HSM_KEY_MISSING",
        `expected exactly one ${kind} key labelled "${label}" in the token, found ${found.length}`,
      );
    }
    this.handles.set(key, found[0]);
    return found[0];
  }

  private openChecked(): Pkcs11Token {
    const token = this.options.open();
    try {
      checkMechanisms(token.mechanisms());
      for (const k of this.options.expectedKeys()) this.handle(token, k.kind, k.label);
      return token;
    } catch (e) {
      token.close();
      this.handles.clear();
      throw e;
    }
  }

  private markLost(reason: string): void {
    if (this.token === undefined) return;
    // Closing waits for operations still on the thread pool; reconnect() waits for the close.
    this.retiring = this.token;
    this.token.close();
    this.token = undefined;
    this.handles.clear();
    this.lastReason = reason;
    this.attempts = 0;
    this.options.onEvent?.({ type: "lost", reason });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const min = this.options.minRetryMs ?? 100;
    const max = this.options.maxRetryMs ?? 2000;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempts, 16));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reconnect();
    }, delay);
    this.timer.unref();
  }

  private reconnect(): void {
    if (this.closed || this.token) return;
    // One initialised module per process: never open the new one before the old one is finalised.
    if (this.retiring && !this.retiring.closed) return this.schedule();
    this.retiring = undefined;
    this.attempts += 1;
    try {
      this.token = this.openChecked();
      this.options.onEvent?.({ type: "recovered", attempts: this.attempts });
    } catch (e) {
      this.lastReason = isKeyBrokerError(e) ? `${e.code}: ${e.message}` : "reconnect failed";
      this.schedule();
    }
  }
}
