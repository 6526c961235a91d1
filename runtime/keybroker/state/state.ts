/**
 * The broker's durable state (`<stateDir>/state.json`): which key versions exist in the HSM (labels
 * and public parts only), model data keys wrapped under the KEK, golden manifests and their status,
 * the session epoch history and the known nodes. Secrets never enter it: wrapped blobs are
 * AES-256-GCM ciphertext under a KEK that never leaves the HSM.
 */
import { existsSync, readFileSync } from "node:fs";
import type { TcbComponents } from "../../../measurements/drift/index.js";
import { type EcPublicJwk, writeFileAtomic } from "../../../core/index.js";
import { KeyBrokerError } from "../errors.js";

/** HSM key roles, each versioned: `<label>-v<version>`. */
export const KEY_ROLES = ["kek", "signing", "ca", "session"] as const;
/** An HSM key role: KEK (AES-256), token signing (P-384), broker CA (P-384), session-key derivation (HMAC). */
export type KeyRole = (typeof KEY_ROLES)[number];

/** One version of an HSM key. */
export interface KeyVersionRecord {
  readonly version: number;
  /** Label of the HSM object(s), e.g. `ci-kek-v2`. */
  readonly label: string;
  readonly createdAt: string;
  /** active: used for new material; retired: kept, used only to verify or unwrap older material. */
  status: "active" | "retired";
  retiredAt?: string;
  /** Public key of EC roles (signing, ca). */
  readonly publicJwk?: EcPublicJwk;
  /** Self-signed certificate of a CA version (PEM). */
  readonly certPem?: string;
}

/** All versions of one role. */
export interface RoleState {
  active: number;
  versions: KeyVersionRecord[];
}

/** A model data key version, stored only wrapped (AES-256-GCM under a KEK version). */
export interface DataKeyVersion {
  readonly version: number;
  readonly importedAt: string;
  /** Plaintext length in bytes (16, 24 or 32). */
  readonly length: number;
  /** Wrapped form per KEK version: base64 IV and ciphertext||tag. */
  wrapped: Record<string, { readonly iv: string; readonly ct: string }>;
}

/** A resource holding a model data key (`repository/type/tag`). */
export interface DataKeyState {
  active: number;
  versions: DataKeyVersion[];
}

/** A golden manifest as imported (the signed JWS is kept verbatim). */
export interface ManifestRecord {
  /** SHA-256 of the JWS text (hex): the manifest id in the admin API. */
  readonly id: string;
  readonly release: string;
  readonly jws: string;
  status: "pending" | "active" | "retired";
  readonly importedAt: string;
  activatedAt?: string;
  retiredAt?: string;
}

/** One session epoch: material derived in it is current until the next epoch plus the grace period. */
export interface EpochRecord {
  readonly epoch: number;
  readonly startedAt: string;
  readonly reason: "initial" | "manifest-changed" | "node-rebuilt" | "on-demand";
  readonly detail?: string;
}

/** A node seen in accepted evidence. */
export interface NodeRecord {
  /** Product line (Milan, Genoa, Turin). */
  readonly product: string;
  readonly tcb: TcbComponents;
  readonly firstSeen: string;
  lastSeen: string;
}

/**
 * A key rotation that started but has not been committed (a crash leaves it here). It is also the
 * rotation lease: no other replica rotates until `leaseUntil`, and only then may one recover it.
 */
export interface PendingRotation {
  readonly role: KeyRole;
  readonly version: number;
  readonly label: string;
  readonly startedAt: string;
  /** The replica rotating (absent in state files of earlier versions: recoverable by anyone). */
  readonly owner?: string;
  /** ISO time the lease ends. */
  readonly leaseUntil?: string;
}

/** The whole durable state. */
export interface BrokerState {
  readonly schema: 1;
  keys: Partial<Record<KeyRole, RoleState>>;
  dataKeys: Record<string, DataKeyState>;
  manifests: ManifestRecord[];
  epochs: EpochRecord[];
  nodes: Record<string, NodeRecord>;
  pendingRotation?: PendingRotation;
}

/** A state with no keys, manifests or epochs (first start). */
export function emptyState(): BrokerState {
  return { schema: 1, keys: {}, dataKeys: {}, manifests: [], epochs: [], nodes: {} };
}

/** Loads and shape-checks the state file; an absent file gives the empty state; unparsable is STATE_CORRUPT. */
export function loadState(path: string): BrokerState {
  if (!existsSync(path)) return emptyState();
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new KeyBrokerError("STATE_CORRUPT", `reading ${path}: not valid JSON`, { cause: e });
  }
  const o = (typeof raw === "object" && raw !== null ? raw : {}) as Partial<BrokerState>;
  const problems: string[] = [];
  if (o.schema !== 1) problems.push("schema must be 1");
  if (typeof o.keys !== "object" || o.keys === null) problems.push("keys must be an object");
  if (typeof o.dataKeys !== "object" || o.dataKeys === null) problems.push("dataKeys must be an object");
  if (!Array.isArray(o.manifests)) problems.push("manifests must be an array");
  if (!Array.isArray(o.epochs)) problems.push("epochs must be an array");
  if (typeof o.nodes !== "object" || o.nodes === null) problems.push("nodes must be an object");
  if (problems.length > 0) throw new KeyBrokerError("STATE_CORRUPT", `reading ${path}: ${problems.join("; ")}`);
  return raw as BrokerState;
}

/** Writes the state atomically and durably. */
export function saveState(path: string, state: BrokerState): void {
  writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}

/** The label of a key version: `<base>-v<version>`. */
export function versionLabel(base: string, version: number): string {
  return `${base}-v${version}`;
}
