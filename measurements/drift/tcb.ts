/**
 * Component-wise comparison of TCB versions. SVNs of different components are incomparable, so
 * "below" and "above" are defined per component:
 * - `reported` is **below** `reference` when any component is lower;
 * - `reported` is **above** `reference` when no component is lower and at least one is higher;
 * - otherwise they are equal, or mixed (some higher, some lower: also "below").
 * An absent `fmc` (Milan, Genoa; or a floor without an FMC minimum) counts as 0.
 */
import type { TcbComponents } from "./types.js";

/** The components compared, in REPORTED_TCB order (FMC is Turin only). */
export const TCB_COMPONENTS = ["bootloader", "tee", "snp", "microcode", "fmc"] as const;
/** One TCB component name. */
export type TcbComponent = (typeof TCB_COMPONENTS)[number];

/** How one TCB compares with another. */
export interface TcbComparison {
  /** Components where the reported SVN is lower than the reference. */
  readonly lower: readonly TcbComponent[];
  /** Components where the reported SVN is higher than the reference. */
  readonly higher: readonly TcbComponent[];
}

/** Compares `reported` with `reference` component by component. */
export function compareTcb(reported: TcbComponents, reference: TcbComponents): TcbComparison {
  const lower: TcbComponent[] = [];
  const higher: TcbComponent[] = [];
  for (const c of TCB_COMPONENTS) {
    const r = reported[c] ?? 0;
    const f = reference[c] ?? 0;
    if (r < f) lower.push(c);
    else if (r > f) higher.push(c);
  }
  return { lower, higher };
}

/** True when any component of `reported` is below `floor`. */
export function isBelow(reported: TcbComponents, floor: TcbComponents): boolean {
  return compareTcb(reported, floor).lower.length > 0;
}

/** True when no component of `reported` is below `reference` and at least one is above it. */
export function isAbove(reported: TcbComponents, reference: TcbComponents): boolean {
  const c = compareTcb(reported, reference);
  return c.lower.length === 0 && c.higher.length > 0;
}

/** Formats a TCB as `bl=4 tee=0 snp=24 ucode=219` (plus ` fmc=N` when present). */
export function formatTcb(tcb: TcbComponents): string {
  return `bl=${tcb.bootloader} tee=${tcb.tee} snp=${tcb.snp} ucode=${tcb.microcode}${tcb.fmc === undefined ? "" : ` fmc=${tcb.fmc}`}`;
}
