/**
 * What the keyring is configured with: the base label of each key role, the HSM object kinds each
 * role holds, the options its owner passes, and the crash points a test may stop a rotation at.
 */
import type { ExpectedKey, HsmBackend } from "../hsm/backend.js";
import type { KeyKind } from "../hsm/pkcs11-objects.js";
import { KEY_ROLES, type BrokerState, type KeyRole } from "../state/state.js";

/** Base labels per role (versions are appended as `-v<n>`). */
export type KeyLabels = Readonly<Record<KeyRole, string>>;

/** Default base labels (the stack config's `hsm.keyLabels` defaults, plus the session secret). */
export const DEFAULT_KEY_LABELS: KeyLabels = {
  kek: "ci-kek",
  signing: "ci-token-signing",
  ca: "ci-broker-ca",
  session: "ci-session-root",
};

/** Named instants where a test may crash the process (kill -9) during rotation. */
export type CrashPoint = "rotation:pending-saved" | "rotation:hsm-created" | "rotation:derived" | "rotation:committed";

/** What the keyring needs from its owner. */
export interface KeyringOptions {
  readonly hsm: HsmBackend;
  readonly labels: KeyLabels;
  /** The latest document this replica knows (read-only: changes go through `update`). */
  readonly state: () => BrokerState;
  /** Writes a document change under the store's lock (StateStore.update) and returns `fn`'s result. */
  readonly update: <T>(fn: (draft: BrokerState) => T | Promise<T>) => Promise<T>;
  readonly now: () => Date;
  /** This replica's name: the owner of its rotation leases. */
  readonly replica: string;
  /** How long a rotation lease holds, ms (past it, another replica may recover the rotation). */
  readonly leaseMs: number;
  /** Test hook: called at each crash point. */
  readonly crashPoint?: (point: CrashPoint) => void | Promise<void>;
}

/** The HSM object kinds of a role's key version. */
export function kindsOf(role: KeyRole): KeyKind[] {
  switch (role) {
    case "kek":
      return ["aes"];
    case "session":
      return ["hmac"];
    case "signing":
    case "ca":
      return ["ec-private", "ec-public"];
  }
}

/** Keys of every committed version of every role (checked at each HSM connect). */
export function expectedKeys(state: BrokerState): ExpectedKey[] {
  const out: ExpectedKey[] = [];
  for (const role of KEY_ROLES) {
    for (const v of state.keys[role]?.versions ?? [])
      for (const kind of kindsOf(role)) out.push({ kind, label: v.label });
  }
  return out;
}
