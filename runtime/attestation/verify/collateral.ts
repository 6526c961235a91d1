/**
 * Collateral (VCEK, cert chain, CRL) comes only through an injected {@link CollateralGetter} keyed
 * by AMD KDS paths, so the same verifier runs against AMD KDS (HTTP adapter), an offline directory
 * laid out like KDS, or a test double. A getter that cannot deliver throws `COLLATERAL_UNAVAILABLE`,
 * so callers can choose to fail open or closed.
 */
import type { TcbComponents } from "../../../measurements/drift/index.js";
import type { SnpProduct } from "../abi/product.js";
import { AttestationError } from "../errors.js";

/** Fetches one KDS resource by its path (e.g. `/vcek/v1/Milan/cert_chain`). */
export interface CollateralGetter {
  /**
   * Resolves to the bytes at `kdsPath` (path and query of the KDS URL).
   * @throws AttestationError `COLLATERAL_UNAVAILABLE` when the resource cannot be obtained.
   */
  get(kdsPath: string): Promise<Uint8Array>;
}

/** Default AMD KDS base URL. */
export const KDS_BASE_URL = "https://kdsintf.amd.com";

/** Which chain a KDS resource belongs to: `vcek` (ASK) or `vlek` (ASVK). */
export type KdsChain = "vcek" | "vlek";

/**
 * KDS path of a VCEK for a chip and reported TCB (VCEK spec 57230, "Get VCEK Certificate"):
 * Milan/Genoa use the 64-byte CHIP_ID and bl/tee/snp/ucode SPLs; Turin the first 8 bytes and fmcSPL first.
 *
 * @example kdsVcekPath("Milan", chipId, { bootloader: 2, tee: 0, snp: 5, microcode: 68 })
 * // "/vcek/v1/Milan/3ac3...6b5d?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68"
 */
export function kdsVcekPath(product: SnpProduct, chipId: Uint8Array, tcb: TcbComponents): string {
  const id = Buffer.from(product === "Turin" ? chipId.subarray(0, 8) : chipId).toString("hex");
  const spls = `blSPL=${tcb.bootloader}&teeSPL=${tcb.tee}&snpSPL=${tcb.snp}&ucodeSPL=${tcb.microcode}`;
  return `/vcek/v1/${product}/${id}?${product === "Turin" ? `fmcSPL=${tcb.fmc ?? 0}&` : ""}${spls}`;
}

/** KDS path of the intermediate + ARK bundle (`cert_chain`: intermediate first, then ARK, PEM). */
export function kdsCertChainPath(product: SnpProduct, chain: KdsChain = "vcek"): string {
  return `/${chain}/v1/${product}/cert_chain`;
}

/** KDS path of the ARK-signed CRL (DER). */
export function kdsCrlPath(product: SnpProduct, chain: KdsChain = "vcek"): string {
  return `/${chain}/v1/${product}/crl`;
}

/** The error a getter raises when it cannot deliver `kdsPath`. */
export function collateralUnavailable(kdsPath: string, reason: string, cause?: unknown): AttestationError {
  return new AttestationError("COLLATERAL_UNAVAILABLE", `fetching collateral ${kdsPath}: ${reason}`, {
    path: "collateral",
    cause,
  });
}

/** Options of {@link kdsGetter}. */
export interface KdsGetterOptions {
  /** The fetch implementation (default `globalThis.fetch`); inject for tests and proxies. */
  readonly fetch?: typeof globalThis.fetch;
  /** Base URL (default {@link KDS_BASE_URL}). */
  readonly baseUrl?: string;
  /** Per-request timeout in milliseconds (default 10 000). */
  readonly timeoutMs?: number;
}

/**
 * A getter that asks AMD KDS over HTTPS. Any network error or non-200 status is
 * `COLLATERAL_UNAVAILABLE`. KDS rate-limits identical requests: wrap it in {@link cachedGetter}.
 */
export function kdsGetter(options: KdsGetterOptions = {}): CollateralGetter {
  const doFetch = options.fetch ?? globalThis.fetch;
  const base = options.baseUrl ?? KDS_BASE_URL;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async get(kdsPath) {
      let res: Response;
      try {
        res = await doFetch(`${base}${kdsPath}`, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        throw collateralUnavailable(kdsPath, `request failed (${(e as Error).message})`, e);
      }
      if (res.status !== 200) throw collateralUnavailable(kdsPath, `HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

/** Options of {@link cachedGetter}. */
export interface CachedGetterOptions {
  /** Most entries kept (default 256). */
  readonly maxEntries?: number;
  /** How long an entry stays fresh, in milliseconds (default: forever; VCEKs never change, CRLs do). */
  readonly ttlMs?: number;
  /** Clock in milliseconds (default `Date.now`); injected for tests. */
  readonly clock?: () => number;
}

/**
 * Memoises a getter by KDS path (successes only) and coalesces concurrent requests for the same path.
 */
export function cachedGetter(
  inner: CollateralGetter,
  options: CachedGetterOptions = {},
): CollateralGetter & { readonly size: number } {
  const max = options.maxEntries ?? 256;
  const clock = options.clock ?? Date.now;
  const entries = new Map<string, { bytes: Uint8Array; at: number }>();
  const inflight = new Map<string, Promise<Uint8Array>>();
  return {
    get size() {
      return entries.size;
    },
    get(kdsPath) {
      const hit = entries.get(kdsPath);
      if (hit && (options.ttlMs === undefined || clock() - hit.at < options.ttlMs)) return Promise.resolve(hit.bytes);
      const pending = inflight.get(kdsPath);
      if (pending) return pending;
      const p = inner
        .get(kdsPath)
        .then((bytes) => {
          if (entries.size >= max) entries.delete(entries.keys().next().value as string);
          entries.set(kdsPath, { bytes, at: clock() });
          return bytes;
        })
        .finally(() => inflight.delete(kdsPath));
      inflight.set(kdsPath, p);
      return p;
    },
  };
}

/** A getter over an in-memory map of KDS paths (tests, preloaded evidence). */
export function mapGetter(
  resources: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>,
): CollateralGetter {
  const lookup =
    resources instanceof Map
      ? (p: string) => resources.get(p)
      : (p: string) => (resources as Record<string, Uint8Array>)[p];
  return {
    async get(kdsPath) {
      const bytes = lookup(kdsPath);
      if (!bytes) throw collateralUnavailable(kdsPath, "not present");
      return bytes;
    },
  };
}
