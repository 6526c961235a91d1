/**
 * Drift classification: compares authenticated evidence claims with the golden manifests and the
 * host inventory, answering the runbook's first question (patch or compromise?). Pure.
 *
 * Decisions (DESIGN.md "Drift classes"; component-wise TCB order in `tcb.ts`):
 * 1. `evidenceValid` false -> `invalid-evidence`; the claims are not looked at.
 * 2. Only manifests whose `platform` equals `claims.tee` count.
 * 3. Measurement in no manifest -> `unknown-measurement`. In no active manifest: in a pending one ->
 *    `pending-release` (also when a retired one has it too); only in retired ones -> `retired-release`.
 * 4. In an active manifest: the floors are, for `claims.product`, the `tcbFloors` of **every**
 *    active manifest that contains the measurement plus `floors` from the caller; the strictest
 *    wins: below any of them (any component lower) -> `tcb-below-floor`. No floor for the product:
 *    nothing is below it.
 * 5. Otherwise `platform-updated` when the reported TCB is above every floor (no floor: above all
 *    zero) **and** the inventory has the chip, for the same product, with a reported TCB the
 *    evidence is above (no component lower, one higher). A masked chip id (all zero), a chip the
 *    inventory lacks, an inventory entry for another product, or a TCB equal to or mixed with the
 *    inventory's -> `ok`; the reason says which.
 * 6. Otherwise `ok`.
 * Policy bits, chip allowlist, host_data and id-key digests are policy checks of the verifier and
 * do not change the drift class.
 */
import { ManifestSet, type MeasurementMatch, type GoldenManifest, type TcbFloors } from "../manifest/index.js";
import { compareTcb, formatTcb, isAbove, isBelow } from "./tcb.js";
import type { DriftClass, EvidenceClaims, PlatformInventory, TcbComponents } from "./types.js";

/** Input of `classifyDrift` / `assessDrift`. */
export interface ClassifyDriftInput {
  /** What the evidence says; only read when `evidenceValid` is true. */
  readonly claims: EvidenceClaims;
  /** False when signature, chain, binding or freshness failed (the verifier's authenticity result). */
  readonly evidenceValid: boolean;
  /** Every verified manifest of the environment (any status). */
  readonly manifests: ManifestSet | readonly GoldenManifest[];
  /** Host inventory by chip id; absent: `platform-updated` is never reported. */
  readonly inventory?: PlatformInventory;
  /** Extra TCB floors per product (e.g. the stack's attestation policy), combined with the manifests'. */
  readonly floors?: TcbFloors;
}

/** A drift class with what led to it. */
export interface DriftAssessment {
  readonly driftClass: DriftClass;
  /** Manifests and shapes holding the measurement (active first); empty when unknown or invalid. */
  readonly matches: readonly MeasurementMatch[];
  /** One line for logs and runbooks (no secrets: measurements, releases, TCB values only). */
  readonly reason: string;
}

const ZERO_TCB: TcbComponents = { bootloader: 0, tee: 0, snp: 0, microcode: 0 };
const CHIP_ID = /^[0-9a-f]+$/;

function short(hex: string): string {
  return hex.length <= 12 ? hex : `${hex.slice(0, 8)}…${hex.slice(-4)}`;
}

function where(matches: readonly MeasurementMatch[]): string {
  return matches.map((m) => `${m.manifest.release} (${m.shape})`).join(", ");
}

function checkClaims(claims: EvidenceClaims): void {
  if (claims === null || typeof claims !== "object") throw new TypeError("claims must be an object");
  const tcb = claims.reportedTcb as TcbComponents | undefined;
  if (
    tcb === undefined ||
    ["bootloader", "tee", "snp", "microcode"].some((k) => !Number.isInteger(tcb[k as keyof TcbComponents]))
  ) {
    throw new TypeError("claims.reportedTcb must have integer bootloader, tee, snp and microcode");
  }
  if (typeof claims.chipId !== "string" || !CHIP_ID.test(claims.chipId))
    throw new TypeError("claims.chipId must be lower-case hex");
  if (typeof claims.product !== "string") throw new TypeError("claims.product must be a string");
}

/** Floors that apply to the evidence: those of the active manifests holding it, plus the caller's. */
function applicableFloors(
  active: readonly MeasurementMatch[],
  product: string,
  extra: TcbFloors | undefined,
): { floor: TcbComponents; from: string }[] {
  const out: { floor: TcbComponents; from: string }[] = [];
  const seen = new Set<GoldenManifest>();
  for (const m of active) {
    if (seen.has(m.manifest)) continue;
    seen.add(m.manifest);
    const floor = (m.manifest.tcbFloors as Record<string, TcbComponents | undefined>)[product];
    if (floor !== undefined) out.push({ floor, from: `release ${m.manifest.release}` });
  }
  const own = (extra as Record<string, TcbComponents | undefined> | undefined)?.[product];
  if (own !== undefined) out.push({ floor: own, from: "policy" });
  return out;
}

function platformUpdate(
  input: ClassifyDriftInput,
  floors: readonly { floor: TcbComponents }[],
): { updated: boolean; why: string } {
  const { claims, inventory } = input;
  const reported = claims.reportedTcb;
  const floorList = floors.length === 0 ? [ZERO_TCB] : floors.map((f) => f.floor);
  if (!floorList.every((f) => isAbove(reported, f))) return { updated: false, why: "reported TCB equals a floor" };
  if (inventory === undefined) return { updated: false, why: "no inventory to compare with" };
  if (/^0+$/.test(claims.chipId)) return { updated: false, why: "chip id is masked" };
  const entry = Object.hasOwn(inventory, claims.chipId) ? inventory[claims.chipId] : undefined;
  if (entry === undefined) return { updated: false, why: "chip is not in the inventory" };
  const host = entry.host === undefined ? "" : ` (host ${entry.host})`;
  if (entry.product !== claims.product)
    return {
      updated: false,
      why: `inventory lists the chip as ${entry.product}${host}, evidence says ${claims.product}`,
    };
  if (!isAbove(reported, entry.reportedTcb)) {
    const c = compareTcb(reported, entry.reportedTcb);
    return {
      updated: false,
      why:
        c.lower.length > 0
          ? `reported TCB is below the inventoried ${formatTcb(entry.reportedTcb)}${host} in ${c.lower.join(", ")}`
          : `reported TCB equals the inventoried one${host}`,
    };
  }
  return {
    updated: true,
    why: `reported TCB ${formatTcb(reported)} is above the floor and above the inventoried ${formatTcb(entry.reportedTcb)}${host}`,
  };
}

/**
 * Classifies evidence into a drift class and says why. See the module comment for every rule.
 * @throws TypeError when valid evidence carries malformed claims (a measurement that is not 96 hex, ...).
 * @example
 * assessDrift({ claims, evidenceValid: true, manifests: [active], inventory }).driftClass // "ok"
 */
export function assessDrift(input: ClassifyDriftInput): DriftAssessment {
  if (!input.evidenceValid)
    return {
      driftClass: "invalid-evidence",
      matches: [],
      reason: "evidence failed verification (signature, chain, binding or freshness)",
    };
  const { claims } = input;
  checkClaims(claims);
  const set = input.manifests instanceof ManifestSet ? input.manifests : new ManifestSet(input.manifests);
  const matches = set.lookup(claims.measurement).filter((m) => m.manifest.platform === claims.tee);
  const m = short(claims.measurement.toLowerCase());
  if (matches.length === 0)
    return { driftClass: "unknown-measurement", matches, reason: `measurement ${m} is in no golden manifest` };
  const active = matches.filter((x) => x.status === "active");
  if (active.length === 0) {
    const pending = matches.filter((x) => x.status === "pending");
    if (pending.length > 0)
      return {
        driftClass: "pending-release",
        matches,
        reason: `measurement ${m} is only in pending manifests: ${where(pending)}`,
      };
    return {
      driftClass: "retired-release",
      matches,
      reason: `measurement ${m} is only in retired manifests: ${where(matches)}`,
    };
  }
  const floors = applicableFloors(active, claims.product, input.floors);
  const below = floors.filter((f) => isBelow(claims.reportedTcb, f.floor));
  if (below.length > 0) {
    const detail = below
      .map((f) => `${formatTcb(f.floor)} (${f.from}; low: ${compareTcb(claims.reportedTcb, f.floor).lower.join(", ")})`)
      .join("; ");
    return {
      driftClass: "tcb-below-floor",
      matches,
      reason: `reported TCB ${formatTcb(claims.reportedTcb)} is below the ${claims.product} floor ${detail}`,
    };
  }
  const update = platformUpdate(input, floors);
  if (update.updated)
    return { driftClass: "platform-updated", matches, reason: `measurement in ${where(active)}; ${update.why}` };
  return { driftClass: "ok", matches, reason: `measurement in ${where(active)}; TCB meets the floor (${update.why})` };
}

/**
 * The drift class of evidence (`assessDrift(input).driftClass`).
 * @example classifyDrift({ claims, evidenceValid: true, manifests }) // "pending-release"
 */
export function classifyDrift(input: ClassifyDriftInput): DriftClass {
  return assessDrift(input).driftClass;
}
