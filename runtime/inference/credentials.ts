/**
 * Keeps the runtime's TLS certificate fresh. Broker-issued certificates are short-lived (the session key
 * lifetime, minutes), so the runtime attests again before expiry and installs the new certificate without a
 * restart. Failures are retried; once the certificate has expired the runtime reports not ready.
 */
import { X509Certificate } from "node:crypto";
import type { Logger } from "pino";
import type { Timers } from "./batching/batcher.js";
import type { KeyRelease, ReleasedCredentials } from "./boot.js";
import { InferenceError } from "./errors.js";

/** Validity window of a PEM certificate (the first one of a chain), in ms since the epoch. */
export function certificateWindow(pem: string): { notBefore: number; notAfter: number } {
  const cert = new X509Certificate(pem);
  return { notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

/**
 * When to renew, in ms from `nowMs`: at `fraction` of the validity window (default 2/3), never sooner than
 * `minMs`. Pure.
 *
 * @example
 * refreshDelayMs({ notBefore: 0, notAfter: 900_000 }, 0); // 600000
 */
export function refreshDelayMs(
  window: { notBefore: number; notAfter: number },
  nowMs: number,
  fraction = 2 / 3,
  minMs = 1000,
): number {
  const at = window.notBefore + fraction * (window.notAfter - window.notBefore);
  return Math.max(minMs, Math.round(at - nowMs));
}

/** Options of `CredentialRefresher`. */
export interface RefresherOptions {
  readonly keyRelease: KeyRelease;
  /** Installs new credentials (checks them first; throws on a bad certificate). */
  readonly apply: (c: ReleasedCredentials) => void;
  readonly logger: Logger;
  /** Delay before retrying a failed renewal, in ms; default 5000. */
  readonly retryMs?: number;
  readonly timers?: Timers;
  /** Clock in ms; absent means `Date.now`. */
  readonly now?: () => number;
}

/** Renews the server certificate before it expires. */
export class CredentialRefresher {
  private timer: unknown = undefined;
  private window: { notBefore: number; notAfter: number };
  private stopped = false;
  private readonly timers: Timers;
  private readonly now: () => number;

  constructor(
    current: ReleasedCredentials,
    private readonly opts: RefresherOptions,
  ) {
    this.window = certificateWindow(current.serverCertificate);
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    this.now = opts.now ?? Date.now;
  }

  /** True while the installed certificate is within its validity window. */
  valid(): boolean {
    const t = this.now();
    return t >= this.window.notBefore && t < this.window.notAfter;
  }

  /** Schedules the next renewal. */
  start(): void {
    this.schedule(refreshDelayMs(this.window, this.now()));
  }

  /** Cancels any pending renewal. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => void this.renew(), ms);
  }

  private async renew(): Promise<void> {
    this.timer = undefined;
    try {
      // Model keys are already used; only a fresh certificate (and its key) is needed.
      const next = await this.opts.keyRelease.release({ keyIds: [] });
      if (this.stopped) return;
      this.opts.apply(next);
      this.window = certificateWindow(next.serverCertificate);
      this.opts.logger.info(
        { event: "credentials-renewed", notAfter: new Date(this.window.notAfter).toISOString() },
        "TLS certificate renewed",
      );
      this.schedule(refreshDelayMs(this.window, this.now()));
    } catch (e) {
      const code = e instanceof InferenceError ? e.code : "KEY_RELEASE_FAILED";
      this.opts.logger.warn(
        { event: "credentials-renewal-failed", code, expiresInMs: this.window.notAfter - this.now() },
        "TLS certificate renewal failed; retrying",
      );
      this.schedule(this.opts.retryMs ?? 5000);
    }
  }
}
