/**
 * Shared vocabulary of drift classification (../../docs and DESIGN.md "Drift classes"): the
 * verifier computes a class for every verdict, the key broker releases only on `ok` and
 * `platform-updated`, and the runbooks start from it. TEE-neutral where it can be: SNP fills
 * `tcb` with its SVN components; a TDX verifier would use its own component names.
 */
import type { TcbComponents } from "../manifest/index.js";

export type { TcbComponents };

/** Every drift class, in the order the runbook lists them. */
export const DRIFT_CLASSES = [
  "ok",
  "platform-updated",
  "pending-release",
  "retired-release",
  "tcb-below-floor",
  "unknown-measurement",
  "invalid-evidence",
] as const;

/** The runbook's first question: patch or compromise? */
export type DriftClass = (typeof DRIFT_CLASSES)[number];

/** Drift classes for which a relying party may release secrets. */
export const RELEASABLE_DRIFT_CLASSES: readonly DriftClass[] = ["ok", "platform-updated"];

/** What authenticated evidence says, as needed to classify drift (verifier output, TEE-neutral). */
export interface EvidenceClaims {
  /** `sev-snp` today; `tdx` later. */
  readonly tee: "sev-snp";
  /** Launch measurement, lower-case hex (SNP: 96 hex characters). */
  readonly measurement: string;
  /** Product line the evidence was signed for (SNP: Milan, Genoa, Turin). */
  readonly product: string;
  /** Reported TCB (the TCB the VCEK was derived for). */
  readonly reportedTcb: TcbComponents;
  /** Chip identifier, lower-case hex (SNP: CHIP_ID, 128 hex; all zero when masked or VLEK-signed). */
  readonly chipId: string;
}

/** What a host inventory (SevSnpHost) recorded about one chip. */
export interface InventoryEntry {
  /** Product line of the chip (Milan, Genoa, Turin). */
  readonly product: string;
  /** The REPORTED_TCB the host's firmware reported when it was inventoried. */
  readonly reportedTcb: TcbComponents;
  /** Host name, for messages; absent: not recorded. */
  readonly host?: string;
}

/**
 * The fleet as inventoried: chip id (lower-case hex, as `EvidenceClaims.chipId`) to what the
 * inventory saw. A chip absent from the map was not inventoried.
 */
export type PlatformInventory = Readonly<Record<string, InventoryEntry>>;
