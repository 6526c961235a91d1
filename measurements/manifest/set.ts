/**
 * A set of golden manifests (typically every signed manifest of one environment) indexed by
 * measurement, for the verifier (drift class), the key broker (active set) and runbooks.
 */
import type { GoldenManifest, ManifestStatus } from "./types.js";

/** Where a measurement was found. */
export interface MeasurementMatch {
  readonly manifest: GoldenManifest;
  /** Name of the launch shape whose expected measurement it is. */
  readonly shape: string;
  readonly status: ManifestStatus;
}

/** Precedence when a measurement is in several manifests: active, then pending, then retired. */
export const STATUS_PRECEDENCE: readonly ManifestStatus[] = ["active", "pending", "retired"];

const MEASUREMENT = /^[0-9a-f]{96}$/;

function normalise(measurement: string): string {
  if (typeof measurement !== "string") throw new TypeError("measurement must be a hex string");
  const m = measurement.toLowerCase();
  if (!MEASUREMENT.test(m)) throw new TypeError("measurement must be 96 hex characters (SHA-384)");
  return m;
}

/**
 * Manifests indexed by measurement. Manifests are taken as given: verify signatures first
 * (`verifySignedManifest`).
 * @example
 * const set = new ManifestSet([active, pending]);
 * set.statusOf(report.measurement) // "active" | "pending" | "retired" | undefined
 */
export class ManifestSet {
  /** The manifests, in the order given. */
  readonly manifests: readonly GoldenManifest[];
  readonly #index = new Map<string, MeasurementMatch[]>();

  constructor(manifests: readonly GoldenManifest[]) {
    if (!Array.isArray(manifests)) throw new TypeError("ManifestSet expects an array of manifests");
    this.manifests = [...manifests];
    for (const manifest of this.manifests) {
      for (const [shape, { measurement }] of Object.entries(manifest.launchShapes)) {
        const list = this.#index.get(measurement) ?? [];
        list.push({ manifest, shape, status: manifest.status });
        this.#index.set(measurement, list);
      }
    }
    for (const list of this.#index.values())
      list.sort((a, b) => STATUS_PRECEDENCE.indexOf(a.status) - STATUS_PRECEDENCE.indexOf(b.status));
  }

  /** Every manifest with this status, in the order given. */
  withStatus(status: ManifestStatus): GoldenManifest[] {
    return this.manifests.filter((m) => m.status === status);
  }

  /**
   * Every (manifest, shape) whose expected measurement equals `measurement` (hex, any case),
   * active first, then pending, then retired; empty when unknown.
   * @throws TypeError when `measurement` is not 96 hex characters.
   */
  lookup(measurement: string): readonly MeasurementMatch[] {
    return this.#index.get(normalise(measurement)) ?? [];
  }

  /** The best status of a measurement (active > pending > retired); undefined when in no manifest. */
  statusOf(measurement: string): ManifestStatus | undefined {
    return this.lookup(measurement)[0]?.status;
  }

  /** Sorted, de-duplicated measurements of the manifests with `status` (default `active`): the release set. */
  measurements(status: ManifestStatus = "active"): string[] {
    const out = new Set<string>();
    for (const m of this.withStatus(status)) for (const s of Object.values(m.launchShapes)) out.add(s.measurement);
    return [...out].sort();
  }
}
