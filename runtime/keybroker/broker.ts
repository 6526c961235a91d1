/**
 * The key broker (relying party): state, HSM keys, manifests, sessions and the audit log, with
 * start-up and shutdown. The KBS protocol operations live in kbs/ (auth, attest, resource), the
 * operator operations in admin-service.ts; HTTP is a thin layer over both (http/).
 *
 * @example
 * const broker = await KeyBroker.start({ config, verifier });
 * const apps = await listenKeyBroker(broker); // main.ts
 */
import type { KeyObject } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import type { Logger } from "pino";
import type { GoldenManifest } from "../../measurements/manifest/index.js";
import { createLogger } from "../observability/index.js";
import { keyLabelsOf, readPin, releaseRuleOf, type KeyBrokerConfig } from "./config.js";
import { EphemeralKeys } from "../kbs-protocol/index.js";
import { KeyBrokerError } from "./errors.js";
import { HsmBackend, type HsmEvent } from "./hsm/backend.js";
import { Pkcs11Token } from "./hsm/pkcs11.js";
import { ensureSoftHsmToken, softHsmTokenDirEmpty, useSoftHsm } from "./hsm/softhsm.js";
import { listenerCertificate, readPublicKey, trustedCaVersions, type ListenerTls } from "./keys/broker-ca.js";
import { Keyring } from "./keys/keyring.js";
import { expectedKeys, type CrashPoint } from "./keys/keyring-config.js";
import { effectiveManifests, verifyManifestJws, type VerifiedManifests } from "./release/manifests.js";
import type { ReleaseRule } from "./release/release-rule.js";
import type { EvidenceVerifier } from "./release/verifier-port.js";
import type { PlatformInventory } from "../../measurements/drift/index.js";
import { currentEpoch, sameTcb, startEpoch } from "./session/epochs.js";
import { PreparedAgreements } from "./session/prepared.js";
import { MemorySessionBackend, type SessionBackend } from "./session/session-backend.js";
import { AuditLog, type AuditEntry, type DurableAppend } from "./state/audit.js";
import type { BrokerState, KeyVersionRecord, NodeRecord } from "./state/state.js";
import { openStateStore } from "./store/open-store.js";
import type { StateSnapshot, StateStore } from "./store/state-store.js";

/** Start options. */
export interface KeyBrokerOptions {
  readonly config: KeyBrokerConfig;
  /** The verifier (runtime/attestation adapter); tests may inject fakes. */
  readonly verifier: EvidenceVerifier;
  /** Clock (tests freeze or advance it). */
  readonly now?: () => Date;
  /** Environment for `hsm.pinEnv` (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Logger (default: pino with redaction, service "keybroker"). */
  readonly logger?: Logger;
  /** Test hook: called at each rotation crash point (a child process kills itself there). */
  readonly crashPoint?: (point: CrashPoint) => void | Promise<void>;
  /** HSM reconnect backoff in ms (default 100 .. 2000). */
  readonly hsmRetryMs?: { readonly min: number; readonly max: number };
  /** Test hook: replaces the audit file's durable append (to observe ordering and group commit). */
  readonly auditAppend?: DurableAppend;
  /** The state store (tests, and the fleet's PostgreSQL store with its shared sessions); default from `config.store`. */
  readonly store?: StateStore;
  /** Sessions to use with `store` (default: in this process). */
  readonly sessions?: SessionBackend;
  /**
   * Imports a signed manifest as the operator service does (admin-service.ts `adminImportManifest`;
   * injected by service.ts so the broker core does not depend on its operator layer). Required when
   * `config.manifests.files` is not empty.
   */
  readonly importManifest?: (broker: KeyBroker, who: string, jws: string) => Promise<unknown>;
  /** Observes every audit entry once it is written (metrics.ts counts decisions with it). */
  readonly onAudit?: (entry: AuditEntry) => void;
  /** Observes the duration in seconds and outcome of every HSM operation (metrics). */
  readonly onHsmOperation?: (seconds: number, ok: boolean) => void;
}

/** The running broker. */
export class KeyBroker {
  readonly sessions: SessionBackend;
  readonly policy: ReleaseRule;
  readonly keyring: Keyring;
  /** Ephemeral keys of resource JWEs, generated ahead on the thread pool. */
  readonly ephemeralKeys = new EphemeralKeys();
  /** Key agreements prepared at /attest for the session's first resource response (this replica's). */
  readonly prepared: PreparedAgreements;
  private manifestsVerified: VerifiedManifests = new Map();
  private onAudit: ((entry: AuditEntry) => void) | undefined;
  private effective: GoldenManifest[] = [];
  private nodeCache: { nodes: Record<string, NodeRecord>; at: number } = { nodes: {}, at: 0 };

  private constructor(
    readonly config: KeyBrokerConfig,
    readonly store: StateStore,
    private snapshot: StateSnapshot,
    readonly hsm: HsmBackend,
    readonly audit: AuditLog,
    readonly verifier: EvidenceVerifier,
    readonly manifestKey: KeyObject,
    readonly log: Logger,
    readonly now: () => Date,
    /** This replica's name (rotation leases, audit index). */
    readonly replica: string,
    sessions: SessionBackend | undefined,
    crashPoint: KeyBrokerOptions["crashPoint"],
  ) {
    this.sessions =
      sessions ??
      new MemorySessionBackend({
        nonceTtlSeconds: config.ttl.nonceSeconds,
        maxSessions: config.limits.maxSessions,
        sessionsPerPeer: config.limits.sessionsPerPeer,
        now,
      });
    this.policy = releaseRuleOf(config);
    this.prepared = new PreparedAgreements(config.ttl.nonceSeconds * 1000);
    this.keyring = new Keyring({
      hsm,
      labels: keyLabelsOf(config),
      state: () => this.snapshot.state,
      update: (fn) => this.update(fn),
      now,
      replica,
      leaseMs: (config.store.kind === "postgres" ? config.store.rotationLeaseSeconds : 120) * 1000,
      ...(crashPoint ? { crashPoint } : {}),
    });
  }

  /** The latest document this replica knows (read-only; change it with {@link update}). */
  get state(): BrokerState {
    return this.snapshot.state;
  }

  /**
   * Starts the broker: opens the state store, initialises the SoftHSM2 token on first start
   * (embedded mode), connects to the HSM (checking mechanisms and every known key), completes or
   * undoes an interrupted rotation this replica may recover, creates missing keys, re-verifies
   * stored manifests and opens the audit log.
   */
  static async start(options: KeyBrokerOptions): Promise<KeyBroker> {
    const { config } = options;
    const now = options.now ?? (() => new Date());
    const log = options.logger ?? createLogger({ service: "keybroker" });
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    const pin = readPin(config, options.env);
    const manifestKey = readPublicKey(config.manifests.signerPublicKeyFile, "manifests.signerPublicKeyFile");
    const replica = (config.store.kind === "postgres" ? config.store.replica : undefined) ?? hostname();
    const opened = await openStateStore(config, options, options.env ?? process.env, now);
    const { store, snapshot } = opened;

    const soft = config.hsm.softhsm;
    if (soft) {
      const firstStart = softHsmTokenDirEmpty(soft.tokenDir);
      useSoftHsm({ tokenDir: soft.tokenDir, confPath: join(config.stateDir, "softhsm2.conf") });
      const knowsKeys = Object.keys(snapshot.state.keys).length > 0;
      if (firstStart && soft.initialise && !knowsKeys)
        ensureSoftHsmToken(config.hsm.modulePath, config.hsm.tokenLabel, pin);
    }

    const audit = new AuditLog(join(config.stateDir, "audit.log"), now, options.auditAppend, {
      ...config.audit,
      onRotate: (f) =>
        void store
          .recordAuditSegment({ replica, sequence: f.sequence, path: f.path, bytes: f.bytes, rotatedAt: now() })
          .catch(() => log.warn({ event: "audit.index" }, "could not index a rotated audit file")),
    });
    await audit.open();
    let broker: KeyBroker | undefined;
    const onEvent = (e: HsmEvent): void => {
      log.warn(
        { event: `hsm.${e.type}` },
        e.type === "lost" ? "HSM unavailable; failing closed and reconnecting" : "HSM recovered",
      );
      const entry: AuditEntry =
        e.type === "lost"
          ? { event: "hsm.lost", decision: "info", detail: e.reason.slice(0, 120) }
          : { event: "hsm.recovered", decision: "info", detail: `after ${e.attempts} attempt(s)` };
      observe(options.onAudit, entry);
      void audit.record(entry).catch(() => undefined);
    };
    const hsm = new HsmBackend({
      open: () =>
        Pkcs11Token.open({
          modulePath: config.hsm.modulePath,
          tokenLabel: config.hsm.tokenLabel,
          pin,
          sessions: config.hsm.sessions,
        }),
      expectedKeys: () => expectedKeys(broker?.state ?? snapshot.state),
      onEvent,
      ...(options.onHsmOperation ? { onOperation: options.onHsmOperation } : {}),
      ...(options.hsmRetryMs ? { minRetryMs: options.hsmRetryMs.min, maxRetryMs: options.hsmRetryMs.max } : {}),
    });
    try {
      hsm.connect();
      broker = new KeyBroker(
        config,
        store,
        snapshot,
        hsm,
        audit,
        options.verifier,
        manifestKey,
        log,
        now,
        replica,
        opened.sessions,
        options.crashPoint,
      );
      broker.onAudit = options.onAudit;
      const recovered = await broker.keyring.recoverPendingRotation();
      const { created, adopted } = await broker.keyring.initialise();
      if (broker.state.epochs.length === 0)
        await broker.update((draft) => {
          if (draft.epochs.length === 0) startEpoch(draft, "initial", now());
        });
      const rejected = await broker.adopt(broker.snapshot, true);
      await broker.refreshNodes(true);
      for (const file of config.manifests.files) {
        let jws: string;
        try {
          jws = readFileSync(file, "utf8").trim();
        } catch (e) {
          throw new KeyBrokerError("CONFIG_INVALID", `manifests.files: cannot read ${file}`, { cause: e });
        }
        if (options.importManifest === undefined)
          throw new KeyBrokerError(
            "CONFIG_INVALID",
            "manifests.files: this broker was started without a manifest importer",
          );
        await options.importManifest(broker, `config:${basename(file)}`, jws);
      }
      await audit.record({
        event: "broker.start",
        decision: "info",
        epoch: broker.epoch(),
        detail: [
          created.length > 0 ? `created keys: ${created.join(", ")}` : "keys loaded",
          adopted.length > 0 ? `adopted pre-created keys: ${adopted.join(", ")}` : "",
          recovered ? `undid interrupted rotation ${recovered}` : "",
          rejected.length > 0 ? `${rejected.length} stored manifest(s) failed verification and are ignored` : "",
          store.kind === "postgres" ? `store postgres, replica ${replica}` : "",
        ]
          .filter((x) => x !== "")
          .join("; "),
      });
      log.info(
        {
          event: "broker.start",
          epoch: broker.epoch(),
          created,
          adopted,
          recovered: recovered ?? null,
          store: store.kind,
        },
        "key broker started",
      );
      return broker;
    } catch (e) {
      opened.sessions?.close?.();
      hsm.close();
      await audit.close();
      await store.close();
      throw e;
    }
  }

  /**
   * Changes the document under the store's write lock (StateStore.update) and makes the result this
   * replica's snapshot; returns `fn`'s result.
   */
  async update<T>(fn: (draft: BrokerState) => T | Promise<T>): Promise<T> {
    const { result, snapshot } = await this.store.update(fn);
    await this.adopt(snapshot);
    return result;
  }

  /**
   * Makes sure this replica decides on the latest document: asks the store for its version (one
   * query on PostgreSQL, or `knownVersion` read just now with a session) and reloads when another
   * replica changed it. STORE_UNAVAILABLE when the store cannot be reached: a partitioned replica
   * releases nothing.
   */
  async fresh(knownVersion?: number): Promise<void> {
    // A version read in the same round trip as a session query (PostgreSQL) saves a query.
    const v = knownVersion ?? (await this.store.version());
    if (v !== this.snapshot.version) await this.adopt(await this.store.load());
    await this.refreshNodes(false);
  }

  /**
   * Takes a snapshot as this replica's: verifies manifests it has not verified yet (a replica may
   * have imported them) and recomputes the effective list. Returns the ids that failed verification.
   */
  private async adopt(snapshot: StateSnapshot, force = false): Promise<string[]> {
    if (!force && snapshot.version === this.snapshot.version && snapshot.state === this.snapshot.state) return [];
    const rejected: string[] = [];
    for (const rec of snapshot.state.manifests) {
      if (this.manifestsVerified.has(rec.id)) continue;
      try {
        this.manifestsVerified.set(rec.id, await verifyManifestJws(rec.jws, this.manifestKey));
      } catch {
        rejected.push(rec.id);
      }
    }
    if (snapshot.version >= this.snapshot.version || force) this.snapshot = snapshot;
    this.effective = effectiveManifests(this.snapshot.state, this.manifestsVerified);
    return rejected;
  }

  /** Node records for `platform-updated` (PostgreSQL: re-read every 30 s; file: the document's). */
  private async refreshNodes(force: boolean): Promise<void> {
    if (this.store.kind === "file") return;
    const t = this.now().getTime();
    if (!force && t - this.nodeCache.at < 30_000) return;
    this.nodeCache = { nodes: await this.store.nodes(), at: t };
  }

  /** The nodes this replica knows, as a platform inventory. */
  inventory(): PlatformInventory {
    const nodes = this.store.kind === "file" ? this.snapshot.state.nodes : this.nodeCache.nodes;
    const out: Record<string, { product: string; reportedTcb: NodeRecord["tcb"] }> = {};
    for (const [chip, n] of Object.entries(nodes)) out[chip] = { product: n.product, reportedTcb: n.tcb };
    return out;
  }

  /** Remembers a node this replica just observed (PostgreSQL's cache between re-reads). */
  noteNode(chipId: string, node: NodeRecord): void {
    if (this.store.kind !== "file") this.nodeCache.nodes[chipId] = node;
  }

  /**
   * True when this replica already knows the chip with this TCB, seen less than `touchMs` ago
   * (PostgreSQL: the observation would neither change anything nor refresh lastSeen, so it is skipped).
   */
  knowsNode(chipId: string, tcb: NodeRecord["tcb"], now: Date, touchMs: number): boolean {
    if (this.store.kind === "file") return false;
    const n = this.nodeCache.nodes[chipId];
    return n !== undefined && sameTcb(n.tcb, tcb) && now.getTime() - Date.parse(n.lastSeen) < touchMs;
  }

  /** Records an audit entry; the caller awaits it before acting on the decision. */
  async record(entry: AuditEntry): Promise<void> {
    await this.audit.record(entry);
    observe(this.onAudit, entry);
  }

  /** Manifests with their effective status, as the policy sees them. */
  manifests(): readonly GoldenManifest[] {
    return this.effective;
  }

  /** The verified manifests by id. */
  get verifiedManifests(): VerifiedManifests {
    return this.manifestsVerified;
  }

  /** Current epoch number. */
  epoch(): number {
    return currentEpoch(this.state.epochs)?.epoch ?? 0;
  }

  /** CA certificates clients should trust now: the active one and any retired within TTL + grace. */
  caCertificates(): KeyVersionRecord[] {
    return trustedCaVersions(this.keyring.versions("ca"), this.config, this.now());
  }

  /** PEM bundle of caCertificates(). */
  caBundle(): string {
    return this.caCertificates()
      .map((v) => v.certPem as string)
      .join("");
  }

  /**
   * TLS material for the broker's listeners: a fresh software P-384 key (memory only) and a
   * 90-day certificate for the configured names, signed by the HSM CA.
   */
  listenerTls(): ListenerTls {
    return { ...listenerCertificate(this.keyring, this.config, this.now()), caBundle: this.caBundle() };
  }

  /** Stops the HSM recovery loop, closes the session, the audit log and the store. */
  async close(): Promise<void> {
    try {
      await this.audit.record({ event: "broker.stop", decision: "info", epoch: this.epoch() });
    } catch {
      // closing anyway
    }
    this.ephemeralKeys.close();
    this.prepared.close();
    this.sessions.close?.();
    this.hsm.close();
    await this.audit.close();
    await this.store.close();
  }
}

/** Hands a written entry to an observer; an observer's failure never fails the decision it observes. */
function observe(observer: ((entry: AuditEntry) => void) | undefined, entry: AuditEntry): void {
  try {
    observer?.(entry);
  } catch {
    // metrics only
  }
}
