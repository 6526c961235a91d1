/**
 * The verifier policy a stack hands to the key broker: the attestation settings of the stack config
 * plus what the signed golden manifest pins (measurements, TCB floors, allowed policy bits, chip
 * allowlist), and the key that signs manifests. Pure and deterministic (sorted lists), so it shows
 * in the rendered state and in pull-request diffs.
 */
import type { GoldenManifest, TcbFloors } from "../../measurements/manifest/index.js";

/** Attestation settings from the stack config (`attestation.*`). */
export interface AttestationSettings {
  /** Trust roots (`amd-milan`, `amd-genoa`, `amd-turin`, `simulated`). */
  readonly allowedRoots: readonly string[];
  readonly allowDebug: boolean;
  readonly allowMigrationAgent: boolean;
  readonly requireSmtDisabled: boolean;
  /** Highest VMPL a report may come from. */
  readonly maxVmpl: number;
  readonly minGuestSvn: number;
  /** `kds` (AMD KDS with a cache) or `offline`. */
  readonly collateral: "kds" | "offline";
  readonly failOpenOnCollateral: boolean;
}

/** What the verifier enforces (schema version 1). */
export interface VerifierPolicy {
  readonly schemaVersion: 1;
  readonly release: string;
  readonly environment: string;
  readonly allowedRoots: readonly string[];
  /** Every golden measurement of the release (96 hex, sorted, unique). */
  readonly measurements: readonly string[];
  /** Minimum reported TCB per product; a product without a floor is not accepted in prod (config rule). */
  readonly tcbFloors: TcbFloors;
  /** POLICY flag bits a report may have set (from the manifest). */
  readonly allowedPolicyBits: string;
  readonly allowDebug: boolean;
  readonly allowMigrationAgent: boolean;
  readonly requireSmtDisabled: boolean;
  readonly maxVmpl: number;
  readonly minGuestSvn: number;
  /** Accepted CHIP_IDs; absent: any chip with a valid VCEK. */
  readonly chipAllowlist?: readonly string[];
  readonly collateral: "kds" | "offline";
  readonly failOpenOnCollateral: boolean;
  /** SPKI PEM of the key golden manifests must be signed with. */
  readonly manifestSigningKey: string;
}

/**
 * Builds the verifier policy of a release.
 * @example verifierPolicy(manifest, config.attestation, config.golden.publicKey).measurements // ["6a1b..."]
 */
export function verifierPolicy(
  manifest: GoldenManifest,
  settings: AttestationSettings,
  manifestSigningKey: string,
): VerifierPolicy {
  const measurements = [...new Set(Object.values(manifest.launchShapes).map((s) => s.measurement))].sort();
  return {
    schemaVersion: 1,
    release: manifest.release,
    environment: manifest.environment,
    allowedRoots: [...settings.allowedRoots].sort(),
    measurements,
    tcbFloors: manifest.tcbFloors,
    allowedPolicyBits: manifest.allowedPolicyBits,
    allowDebug: settings.allowDebug,
    allowMigrationAgent: settings.allowMigrationAgent,
    requireSmtDisabled: settings.requireSmtDisabled,
    maxVmpl: settings.maxVmpl,
    minGuestSvn: settings.minGuestSvn,
    ...(manifest.chipAllowlist === undefined ? {} : { chipAllowlist: manifest.chipAllowlist }),
    collateral: settings.collateral,
    failOpenOnCollateral: settings.failOpenOnCollateral,
    manifestSigningKey,
  };
}
