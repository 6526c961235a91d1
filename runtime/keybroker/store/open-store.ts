/**
 * Opens the broker's state store as configured (`config.store`: a file in the state directory, or the
 * fleet's PostgreSQL with its shared sessions) and reads the document; on a failed read it closes what
 * it opened.
 */
import { join } from "node:path";
import type { KeyBrokerConfig } from "../config.js";
import type { SessionBackend } from "../session/session-backend.js";
import { openPgStore } from "./pg-state-store.js";
import { FileStateStore, type StateSnapshot, type StateStore } from "./state-store.js";

/** An open store, its sessions when it shares them (PostgreSQL), and the document read at start. */
export interface OpenedStore {
  readonly store: StateStore;
  /** Absent: sessions live in this process. */
  readonly sessions: SessionBackend | undefined;
  readonly snapshot: StateSnapshot;
}

/**
 * Opens `given` (tests inject a store and its sessions) or the configured store, and loads it.
 * @throws KeyBrokerError `STORE_UNAVAILABLE` (PostgreSQL unreachable), `STATE_CORRUPT` (unreadable document).
 */
export async function openStateStore(
  config: KeyBrokerConfig,
  given: { readonly store?: StateStore; readonly sessions?: SessionBackend },
  env: Readonly<Record<string, string | undefined>>,
  now: () => Date,
): Promise<OpenedStore> {
  const opened =
    given.store !== undefined
      ? { store: given.store, sessions: given.sessions }
      : config.store.kind === "postgres"
        ? await openPgStore(config, env, now)
        : { store: new FileStateStore(join(config.stateDir, "state.json")), sessions: undefined };
  try {
    return { ...opened, snapshot: await opened.store.load() };
  } catch (e) {
    opened.sessions?.close?.();
    await opened.store.close();
    throw e;
  }
}
