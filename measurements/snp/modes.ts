/** Measurement modes and VMM types, with the spellings `sev-snp-measure` accepts. */
import { SnpMeasurementError } from "./errors.js";

/** Measurement modes, as `--mode` spells them. */
export const MEASUREMENT_MODES = ["snp", "snp:ovmf-hash", "snp:svsm", "seves", "sev"] as const;

/**
 * What to compute: `snp` (SEV-SNP MEASUREMENT, SHA-384), `snp:ovmf-hash` (the SNP digest after the
 * firmware pages only), `snp:svsm` (SNP with a Coconut-SVSM image), `seves` and `sev` (SHA-256
 * launch digests of SEV-ES and SEV guests, before the PSP's HMAC).
 */
export type MeasurementMode = (typeof MEASUREMENT_MODES)[number];

/** VMMs whose launch behaviour is modelled, as `--vmm-type` spells them (case-sensitive). */
export const VMM_TYPES = ["QEMU", "ec2", "gce"] as const;

/** A modelled VMM. */
export type VmmType = (typeof VMM_TYPES)[number];

/** The name `sev-snp-measure -v` prints for each mode (its `SevMode` enum names). */
export const MODE_LABELS: Readonly<Record<MeasurementMode, string>> = {
  snp: "SEV_SNP",
  "snp:ovmf-hash": "SEV_SNP",
  "snp:svsm": "SEV_SNP_SVSM",
  seves: "SEV_ES",
  sev: "SEV",
};

const ALIASES: Readonly<Record<string, MeasurementMode>> = {
  sev: "sev",
  SEV: "sev",
  seves: "seves",
  "sev-es": "seves",
  SEVES: "seves",
  "SEV-ES": "seves",
  snp: "snp",
  "sev-snp": "snp",
  SNP: "snp",
  "SEV-SNP": "snp",
  "snp:ovmf-hash": "snp:ovmf-hash",
};

/**
 * Parses a mode string the way the reference tool does: `sev`/`SEV`, `seves`/`sev-es`/`SEVES`/`SEV-ES`,
 * `snp`/`sev-snp`/`SNP`/`SEV-SNP`, `snp:svsm`/`sev-snp:svsm` in any case, and `snp:ovmf-hash`.
 * @throws SnpMeasurementError `MODE_UNKNOWN` for anything else.
 */
export function parseMeasurementMode(text: string): MeasurementMode {
  const direct = Object.prototype.hasOwnProperty.call(ALIASES, text) ? ALIASES[text] : undefined;
  if (direct !== undefined) return direct;
  const lower = text.toLowerCase();
  if (lower === "snp:svsm" || lower === "sev-snp:svsm") return "snp:svsm";
  throw new SnpMeasurementError(
    "MODE_UNKNOWN",
    "mode",
    `unknown mode "${text}" (expected one of: ${MEASUREMENT_MODES.join(", ")})`,
  );
}

/** True when `name` is one of {@link VMM_TYPES}. */
export function isVmmType(name: string): name is VmmType {
  return (VMM_TYPES as readonly string[]).includes(name);
}
