/**
 * The runtime's OHTTP keys and their attestation bundles. Each generation is a fresh HPKE key pair
 * (DHKEM(X25519, HKDF-SHA256); HKDF-SHA256 with AES-256-GCM first) made inside the runtime process,
 * and SNP evidence whose REPORT_DATA binds its key configuration and validity window
 * (runtime/attestation-bundle, binding v1). The private key never leaves this object: no method
 * returns it except as the `OhttpServerKey` the gateway resource decapsulates with.
 *
 * A new generation is made at 2/3 of the current one's lifetime; the previous one keeps opening
 * requests until its own `notAfter`, so clients holding its bundle are not cut off. A client may
 * ask for a bundle bound to its own nonce: fresh evidence for the current key and window.
 */
import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import {
  bundleReportData,
  formatAttestationBundle,
  type AttestationBundleJson,
} from "../../attestation-bundle/index.js";
import type { EvidenceProvider } from "../../attester/index.js";
import { encodeKeyConfig, generateServerKey, type OhttpServerKey } from "../../ohttp/index.js";
import type { Timers } from "../batching/batcher.js";
import { refreshDelayMs } from "../credentials.js";
import { ConfidentialError } from "./errors.js";

/** Allowance for clients whose clock is behind: a bundle's `notBefore` is this far in the past. */
export const CLOCK_SKEW_MS = 60_000;

/** Options of {@link KeyRing.start}. */
export interface KeyRingOptions {
  readonly evidence: EvidenceProvider;
  /** Lifetime of a key and its bundle, in ms (whole seconds). */
  readonly lifetimeMs: number;
  /** The signed golden manifest (compact JWS) to publish; absent: clients need their own. */
  readonly manifest?: string;
  readonly launch?: { readonly release?: string; readonly launchShape?: string };
  /** Sandbox only: bind another key's configuration, or publish an already expired window. */
  readonly simulate?: { readonly unboundKeyConfig: boolean; readonly expired: boolean };
  readonly logger: Logger;
  readonly now?: () => number;
  readonly timers?: Timers;
  /** Delay before retrying a failed refresh, in ms; default 5000. */
  readonly retryMs?: number;
  /**
   * Key id of the first generation (0..255); default random, so a restarted runtime's key ids
   * differ from its predecessor's and clients holding an old bundle get `OHTTP_KEY_ID_UNKNOWN`.
   */
  readonly firstKeyId?: number;
}

/** One key and its bundle. */
interface Generation {
  readonly key: OhttpServerKey;
  readonly keyConfig: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly bundle: AttestationBundleJson;
}

/** Holds the current and the previous generation, refreshing before expiry. */
export class KeyRing {
  private generations: Generation[] = [];
  private timer: unknown = undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly timers: Timers;

  private constructor(private readonly o: KeyRingOptions) {
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
  }

  /**
   * Makes the first generation and schedules refreshes.
   * @throws ConfidentialError `ATTESTATION_UNAVAILABLE` when the platform gives no evidence.
   */
  static async start(o: KeyRingOptions): Promise<KeyRing> {
    const ring = new KeyRing(o);
    ring.generations = [await ring.generate(o.firstKeyId ?? randomInt(256))];
    ring.schedule();
    return ring;
  }

  /** The current generation's bundle. */
  bundle(): AttestationBundleJson {
    return this.current().bundle;
  }

  /** Keys that may open requests now: every generation whose window has not ended. */
  keys(): OhttpServerKey[] {
    const t = this.now();
    const live = this.generations.filter((g) => g.notAfter.getTime() > t || this.o.simulate?.expired);
    return live.map((g) => g.key);
  }

  /** When the key with `keyId` stops opening requests (ms since the epoch; replay entries live until then). */
  expiryOf(keyId: number): number | undefined {
    return this.generations.find((g) => g.key.config.keyId === keyId)?.notAfter.getTime();
  }

  /**
   * A bundle for the current key and window, bound to the client's nonce (fresh evidence).
   * @throws ConfidentialError `ATTESTATION_UNAVAILABLE`.
   */
  async bundleForNonce(nonce: Uint8Array): Promise<AttestationBundleJson> {
    const g = this.current();
    return this.bundleFor(g.key, g.keyConfig, g.notBefore, g.notAfter, nonce);
  }

  /** Stops refreshing (the keys stay usable until the process ends). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private current(): Generation {
    return this.generations[this.generations.length - 1]!;
  }

  private async generate(keyId: number): Promise<Generation> {
    const key = await generateServerKey({ keyId });
    const keyConfig = encodeKeyConfig(key.config);
    const lifetime = this.o.lifetimeMs;
    const start = Math.floor((this.now() - CLOCK_SKEW_MS) / 1000) * 1000;
    const notBefore = new Date(this.o.simulate?.expired ? start - 2 * lifetime : start);
    const notAfter = new Date(notBefore.getTime() + lifetime);
    const bundle = await this.bundleFor(key, keyConfig, notBefore, notAfter);
    return { key, keyConfig, notBefore, notAfter, bundle };
  }

  private async bundleFor(
    key: OhttpServerKey,
    keyConfig: Uint8Array,
    notBefore: Date,
    notAfter: Date,
    nonce?: Uint8Array,
  ): Promise<AttestationBundleJson> {
    // Sandbox only: the evidence binds a throwaway key's configuration, as a relay substituting keys would.
    const bound = this.o.simulate?.unboundKeyConfig
      ? encodeKeyConfig((await generateServerKey({ keyId: key.config.keyId })).config)
      : keyConfig;
    const reportData = bundleReportData({ keyConfig: bound, notBefore, notAfter, ...(nonce ? { nonce } : {}) });
    let evidence;
    try {
      evidence = await this.o.evidence.getEvidence({ reportData });
    } catch (cause) {
      throw new ConfidentialError(
        "ATTESTATION_UNAVAILABLE",
        `obtaining evidence for a bundle from ${this.o.evidence.name}`,
        {
          cause,
        },
      );
    }
    return formatAttestationBundle({
      keyConfig,
      notBefore,
      notAfter,
      ...(nonce ? { nonce } : {}),
      report: evidence.report,
      ...(evidence.certTable ? { certTable: evidence.certTable } : {}),
      ...(this.o.manifest !== undefined ? { manifest: this.o.manifest } : {}),
      ...(this.o.launch !== undefined ? { launch: this.o.launch } : {}),
    });
  }

  private schedule(ms?: number): void {
    if (this.stopped) return;
    const g = this.current();
    const delay =
      ms ?? refreshDelayMs({ notBefore: g.notBefore.getTime(), notAfter: g.notAfter.getTime() }, this.now());
    this.timer = this.timers.setTimeout(() => void this.refresh(), delay);
  }

  private async refresh(): Promise<void> {
    this.timer = undefined;
    const previous = this.current();
    try {
      const next = await this.generate((previous.key.config.keyId + 1) % 256);
      if (this.stopped) return;
      this.generations = [previous, next];
      this.o.logger.info(
        { event: "ohttp-key-rotated", keyId: next.key.config.keyId, notAfter: next.notAfter.toISOString() },
        "OHTTP key and attestation bundle refreshed",
      );
      this.schedule();
    } catch (e) {
      const code = e instanceof ConfidentialError ? e.code : "ATTESTATION_UNAVAILABLE";
      this.o.logger.warn(
        { event: "ohttp-key-refresh-failed", code, expiresInMs: previous.notAfter.getTime() - this.now() },
        "OHTTP key refresh failed; retrying",
      );
      this.schedule(this.o.retryMs ?? 5000);
    }
  }
}
