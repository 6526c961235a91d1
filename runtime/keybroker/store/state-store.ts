/**
 * Where the broker's durable state lives, behind one interface so a single dev replica keeps its file
 * and a fleet shares PostgreSQL (pg-state-store.ts):
 *
 * - the **document** (`BrokerState` without the nodes: key versions, wrapped data keys, manifests,
 *   epochs, the pending rotation) is read as a snapshot with a version number and changed only by
 *   {@link StateStore.update}: the change is a function applied to a private copy of the latest
 *   document under the store's write lock, so concurrent writers (replicas) serialise and none
 *   overwrites another's change; a rotation's pending marker, written this way, is the lease that
 *   keeps two replicas from rotating at once;
 * - **node observations** (`observeNode`): one row per chip, a TCB change starting an epoch in the
 *   same locked write, so two replicas seeing the same rebuilt node start one epoch, not two;
 * - the **audit index** (`recordAuditSegment`): which replica's rotated audit file holds what.
 *
 * `FileStateStore` is today's single-replica state (`<stateDir>/state.json`, written atomically);
 * its nodes live in the document.
 */
import type { TcbComponents } from "../../../measurements/drift/index.js";
import { KeyBrokerError } from "../errors.js";
import { observeNode, sameTcb, startEpoch } from "../session/epochs.js";
import { loadState, saveState, type BrokerState, type EpochRecord, type NodeRecord } from "../state/state.js";

/** A document as read: the state and the version it had. */
export interface StateSnapshot {
  readonly state: BrokerState;
  readonly version: number;
}

/** What observing a node did. */
export interface NodeObservationResult {
  readonly seen: "new-chip" | "same" | "tcb-changed";
  /** The epoch a TCB change started (by this observation; another replica's start is not repeated). */
  readonly epoch?: EpochRecord;
}

/** A rotated audit file, as the index records it. */
export interface AuditSegment {
  readonly replica: string;
  readonly sequence: number;
  readonly path: string;
  readonly bytes: number;
  readonly rotatedAt: Date;
}

/** The broker's durable state (see the file comment). */
export interface StateStore {
  readonly kind: "file" | "postgres";
  /** The latest document (PostgreSQL: read from the store). */
  load(): Promise<StateSnapshot>;
  /** The latest document's version only: the freshness probe before every release (STORE_UNAVAILABLE when unreachable). */
  version(): Promise<number>;
  /**
   * Applies `fn` to a private copy of the latest document under the write lock and stores the result
   * (nothing is stored when `fn` throws; the error passes through). Returns `fn`'s result and the
   * new snapshot.
   */
  update<T>(fn: (draft: BrokerState) => T | Promise<T>): Promise<{ result: T; snapshot: StateSnapshot }>;
  /** Every node seen (PostgreSQL: read from the store). */
  nodes(): Promise<Record<string, NodeRecord>>;
  /**
   * Records a node in accepted evidence; a known chip with another TCB starts an epoch (`reason`
   * node-rebuilt) in the same write. `lastSeen` of a known node is refreshed at most every `touchMs`.
   */
  observeNode(
    chipId: string,
    product: string,
    tcb: TcbComponents,
    now: Date,
    touchMs: number,
  ): Promise<NodeObservationResult>;
  /** Indexes a rotated audit file (best effort for the file store: its folder is the index). */
  recordAuditSegment(segment: AuditSegment): Promise<void>;
  close(): Promise<void>;
}

/** The file store: `state.json` in the state folder, one replica (nodes inside the document). */
export class FileStateStore implements StateStore {
  readonly kind = "file" as const;
  private state: BrokerState;
  private v = 1;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string) {
    this.state = loadState(path);
  }

  async load(): Promise<StateSnapshot> {
    return { state: this.state, version: this.v };
  }

  async version(): Promise<number> {
    return this.v;
  }

  update<T>(fn: (draft: BrokerState) => T | Promise<T>): Promise<{ result: T; snapshot: StateSnapshot }> {
    const run = this.lock.then(async () => {
      const draft = structuredClone(this.state);
      const result = await fn(draft);
      saveState(this.path, draft);
      this.state = draft;
      this.v += 1;
      return { result, snapshot: { state: draft, version: this.v } };
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  async nodes(): Promise<Record<string, NodeRecord>> {
    return this.state.nodes;
  }

  async observeNode(chipId: string, product: string, tcb: TcbComponents, now: Date): Promise<NodeObservationResult> {
    const known = this.state.nodes[chipId];
    if (known && sameTcb(known.tcb, tcb)) {
      // Memory only, as before: a lastSeen is not worth a durable write per handshake.
      known.lastSeen = now.toISOString();
      return { seen: "same" };
    }
    const { result } = await this.update((draft) => applyObservation(draft, chipId, product, tcb, now));
    return result;
  }

  async recordAuditSegment(): Promise<void> {
    // The state folder itself is the index of a single replica's audit files.
  }

  async close(): Promise<void> {
    await this.lock;
  }
}

/** The document change of a node observation (shared by both stores; PostgreSQL keeps nodes in a table). */
export function applyObservation(
  draft: BrokerState,
  chipId: string,
  product: string,
  tcb: TcbComponents,
  now: Date,
): NodeObservationResult {
  const seen = observeNode(draft.nodes, chipId, tcb);
  const firstSeen = draft.nodes[chipId]?.firstSeen ?? now.toISOString();
  draft.nodes[chipId] = { product, tcb, firstSeen, lastSeen: now.toISOString() };
  if (seen !== "tcb-changed") return { seen };
  const epoch = startEpoch(draft, "node-rebuilt", now, `chip ${chipId.slice(0, 16)}… reported a new TCB`);
  return { seen, epoch };
}

/** STORE_UNAVAILABLE naming what was being done (no connection details, which may carry credentials). */
export function storeUnavailable(doing: string, cause: unknown): KeyBrokerError {
  return new KeyBrokerError("STORE_UNAVAILABLE", `${doing}: the state store is unreachable; failing closed`, { cause });
}
