/**
 * Session epochs and node tracking (pure: state in, decision out, `now` injected).
 *
 * Session material (attestation tokens, runtime certificates, session keys) is stamped with the
 * epoch it was issued in. A new epoch starts when the active manifest set changes, when a known
 * node reports a different TCB (rebuilt or re-patched), or on demand. Material of an older epoch
 * stays accepted for `graceSeconds` after the epoch that superseded it began, then is refused.
 * A new chip id needs no epoch: session keys are derived per chip id, so its material is new.
 */
import type { TcbComponents } from "../../../measurements/drift/index.js";
import type { BrokerState, EpochRecord } from "../state/state.js";

/** How an epoch's material is treated at a given instant. */
export type EpochStanding = "current" | "grace" | "superseded" | "unknown";

/** The current epoch (the last one), or undefined before the first. */
export function currentEpoch(epochs: readonly EpochRecord[]): EpochRecord | undefined {
  return epochs[epochs.length - 1];
}

/** Appends a new epoch (number = last + 1) and returns it. Mutates `state`. */
export function startEpoch(state: BrokerState, reason: EpochRecord["reason"], now: Date, detail?: string): EpochRecord {
  const last = currentEpoch(state.epochs);
  const rec: EpochRecord = {
    epoch: (last?.epoch ?? 0) + 1,
    startedAt: now.toISOString(),
    reason,
    ...(detail === undefined ? {} : { detail }),
  };
  state.epochs.push(rec);
  return rec;
}

/**
 * Standing of material stamped with `epoch` at `now`: current; grace while fewer than
 * `graceSeconds` have passed since the next epoch began; superseded afterwards; unknown for an
 * epoch the broker never issued.
 *
 * @example epochStanding(epochs, 3, new Date(), 300) // "grace" within 5 min of epoch 4's start
 */
export function epochStanding(
  epochs: readonly EpochRecord[],
  epoch: number,
  now: Date,
  graceSeconds: number,
): EpochStanding {
  const idx = epochs.findIndex((e) => e.epoch === epoch);
  if (idx < 0) return "unknown";
  const next = epochs[idx + 1];
  if (next === undefined) return "current";
  const supersededAt = Date.parse(next.startedAt);
  return now.getTime() < supersededAt + graceSeconds * 1000 ? "grace" : "superseded";
}

/** What a node's latest evidence says compared with what the broker saw before. */
export type NodeObservation = "new-chip" | "same" | "tcb-changed";

/** Compares a node's reported TCB with the last one seen for its chip id (pure). */
export function observeNode(nodes: BrokerState["nodes"], chipId: string, tcb: TcbComponents): NodeObservation {
  const known = nodes[chipId];
  if (!known) return "new-chip";
  return sameTcb(known.tcb, tcb) ? "same" : "tcb-changed";
}

/** True when two TCBs have equal components (fmc absent equals absent). */
export function sameTcb(a: TcbComponents, b: TcbComponents): boolean {
  return (
    a.bootloader === b.bootloader &&
    a.tee === b.tee &&
    a.snp === b.snp &&
    a.microcode === b.microcode &&
    a.fmc === b.fmc
  );
}

/**
 * The epochs of a manifest change: returns true when the set of active manifest ids differs,
 * which starts a new epoch.
 */
export function activeSetChanged(before: readonly string[], after: readonly string[]): boolean {
  const a = [...before].sort();
  const b = [...after].sort();
  return a.length !== b.length || a.some((x, i) => x !== b[i]);
}
