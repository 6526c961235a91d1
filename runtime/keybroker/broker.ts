/**
 * The key broker (relying party): state, HSM keys, manifests, sessions and the audit log, with
 * start-up and shutdown. The KBS protocol operations live in kbs/ (auth, attest, resource), the
 * operator operations in admin-service.ts; HTTP is a thin layer over both (http/).
 *
 * @example
 * const broker = await KeyBroker.start({ config, verifier });
 * const apps = await listenKeyBroker(broker); // main.ts
 */
import { generateKeyPairSync, type KeyObject, createPublicKey, X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Logger } from "pino";
import type { GoldenManifest } from "../../measurements/manifest/index.js";
import { createLogger } from "../observability/index.js";
import { keyLabelsOf, readPin, releaseRuleOf, type KeyBrokerConfig } from "./config.js";
import {
  buildCertificate,
  ecdsaSha384RawSigner,
  ecProfileSpec,
  pointFromJwk,
  pointFromKey,
  toPem,
} from "../../core/index.js";
import { EphemeralKeys } from "../kbs-protocol/index.js";
import { KeyBrokerError } from "./errors.js";
import { HsmBackend, type HsmEvent } from "./hsm/backend.js";
import { Pkcs11Token } from "./hsm/pkcs11.js";
import { ensureSoftHsmToken, softHsmTokenDirEmpty, useSoftHsm } from "./hsm/softhsm.js";
import { serialNumber } from "./keys/ca-certificate.js";
import { Keyring } from "./keys/keyring.js";
import { expectedKeys, type CrashPoint } from "./keys/keyring-config.js";
import { teeKeyCheck } from "./keys/tee-key.js";
import { effectiveManifests, loadManifests, type VerifiedManifests } from "./release/manifests.js";
import type { ReleaseRule } from "./release/release-rule.js";
import type { EvidenceVerifier } from "./release/verifier-port.js";
import { currentEpoch, startEpoch } from "./session/epochs.js";
import { SessionStore } from "./session/sessions.js";
import { AuditLog, type AuditEntry, type DurableAppend } from "./state/audit.js";
import { loadState, saveState, type BrokerState, type KeyVersionRecord } from "./state/state.js";

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
  readonly crashPoint?: (point: CrashPoint) => void;
  /** HSM reconnect backoff in ms (default 100 .. 2000). */
  readonly hsmRetryMs?: { readonly min: number; readonly max: number };
  /** Test hook: replaces the audit file's durable append (to observe ordering and group commit). */
  readonly auditAppend?: DurableAppend;
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

/** TLS material of the broker's own listeners: a software key with a certificate from the HSM CA. */
export interface ListenerTls {
  readonly key: string;
  readonly cert: string;
  /** Every broker CA certificate clients should trust now (active first). */
  readonly caBundle: string;
}

/** The running broker. */
export class KeyBroker {
  readonly sessions: SessionStore;
  readonly policy: ReleaseRule;
  /** Ephemeral keys of resource JWEs, generated ahead on the thread pool. */
  readonly ephemeralKeys = new EphemeralKeys();
  private manifestsVerified: VerifiedManifests = new Map();
  private onAudit: ((entry: AuditEntry) => void) | undefined;
  private effective: GoldenManifest[] = [];

  private constructor(
    readonly config: KeyBrokerConfig,
    readonly state: BrokerState,
    readonly hsm: HsmBackend,
    readonly keyring: Keyring,
    readonly audit: AuditLog,
    readonly verifier: EvidenceVerifier,
    readonly manifestKey: KeyObject,
    readonly log: Logger,
    readonly now: () => Date,
  ) {
    this.sessions = new SessionStore({
      nonceTtlSeconds: config.ttl.nonceSeconds,
      maxSessions: config.limits.maxSessions,
      now,
    });
    this.policy = releaseRuleOf(config);
  }

  /**
   * Starts the broker: loads the state, initialises the SoftHSM2 token on first start (embedded
   * mode), connects to the HSM (checking mechanisms and every known key), completes or undoes an
   * interrupted rotation, creates missing keys, re-verifies stored manifests and opens the audit log.
   */
  static async start(options: KeyBrokerOptions): Promise<KeyBroker> {
    const { config } = options;
    const now = options.now ?? (() => new Date());
    const log = options.logger ?? createLogger({ service: "keybroker" });
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    const statePath = join(config.stateDir, "state.json");
    const state = loadState(statePath);
    const pin = readPin(config, options.env);
    const manifestKey = readPublicKey(config.manifests.signerPublicKeyFile, "manifests.signerPublicKeyFile");

    const soft = config.hsm.softhsm;
    if (soft) {
      const firstStart = softHsmTokenDirEmpty(soft.tokenDir);
      useSoftHsm({ tokenDir: soft.tokenDir, confPath: join(config.stateDir, "softhsm2.conf") });
      const knowsKeys = Object.keys(state.keys).length > 0;
      if (firstStart && soft.initialise && !knowsKeys)
        ensureSoftHsmToken(config.hsm.modulePath, config.hsm.tokenLabel, pin);
    }

    const audit = new AuditLog(join(config.stateDir, "audit.log"), now, options.auditAppend);
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
      expectedKeys: () => expectedKeys(state),
      onEvent,
      ...(options.onHsmOperation ? { onOperation: options.onHsmOperation } : {}),
      ...(options.hsmRetryMs ? { minRetryMs: options.hsmRetryMs.min, maxRetryMs: options.hsmRetryMs.max } : {}),
    });
    try {
      hsm.connect();
      const keyring = new Keyring({
        hsm,
        labels: keyLabelsOf(config),
        state,
        save: () => saveState(statePath, state),
        now,
        ...(options.crashPoint ? { crashPoint: options.crashPoint } : {}),
      });
      const recovered = keyring.recoverPendingRotation();
      const { created, adopted } = keyring.initialise();
      if (state.epochs.length === 0) {
        startEpoch(state, "initial", now());
        saveState(statePath, state);
      }
      broker = new KeyBroker(config, state, hsm, keyring, audit, options.verifier, manifestKey, log, now);
      broker.onAudit = options.onAudit;
      const { verified, rejected } = await loadManifests(state, manifestKey);
      broker.manifestsVerified = verified;
      broker.refreshManifests();
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
        epoch: currentEpoch(state.epochs)?.epoch ?? 0,
        detail: [
          created.length > 0 ? `created keys: ${created.join(", ")}` : "keys loaded",
          adopted.length > 0 ? `adopted pre-created keys: ${adopted.join(", ")}` : "",
          recovered ? `undid interrupted rotation ${recovered}` : "",
          rejected.length > 0 ? `${rejected.length} stored manifest(s) failed verification and are ignored` : "",
        ]
          .filter((s) => s !== "")
          .join("; "),
      });
      log.info(
        {
          event: "broker.start",
          epoch: currentEpoch(state.epochs)?.epoch,
          created,
          adopted,
          recovered: recovered ?? null,
        },
        "key broker started",
      );
      return broker;
    } catch (e) {
      hsm.close();
      await audit.close();
      throw e;
    }
  }

  /** Writes the state durably. */
  save(): void {
    saveState(join(this.config.stateDir, "state.json"), this.state);
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

  /** Recomputes the effective manifest list after a change. */
  refreshManifests(): void {
    this.effective = effectiveManifests(this.state, this.manifestsVerified);
  }

  /** Current epoch number. */
  epoch(): number {
    return currentEpoch(this.state.epochs)?.epoch ?? 0;
  }

  /** CA certificates clients should trust now: the active one and any retired within TTL + grace. */
  caCertificates(): KeyVersionRecord[] {
    const keepMs = (this.config.ttl.sessionKeySeconds + this.config.ttl.graceSeconds) * 1000;
    const nowMs = this.now().getTime();
    return [...this.keyring.versions("ca")]
      .filter(
        (v) =>
          v.certPem &&
          (v.status === "active" || (v.retiredAt !== undefined && nowMs - Date.parse(v.retiredAt) < keepMs)),
      )
      .sort((a, b) => (a.status === "active" ? -1 : b.status === "active" ? 1 : b.version - a.version));
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
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const ca = this.keyring.active("ca");
    const caPoint = teeKeyCheck(() => pointFromJwk(ca.publicJwk, "keys.ca.publicJwk"));
    const notBefore = new Date(this.now().getTime() - 60_000);
    const der = buildCertificate(
      ecProfileSpec({
        serial: serialNumber(),
        issuer: {
          commonName: `confidential-inference broker CA v${ca.version}`,
          organization: "confidential-inference",
        },
        subject: { commonName: "confidential-inference key broker", organization: "confidential-inference" },
        notBefore,
        notAfter: new Date(notBefore.getTime() + 90 * 86_400_000),
        subjectPoint: pointFromKey(publicKey),
        issuerPoint: caPoint,
        profile: "tls",
        altNames: { dns: this.config.tls.dnsNames, ip: this.config.tls.ipAddresses },
      }),
      ecdsaSha384RawSigner((tbs) => this.keyring.signEs384("ca", tbs).signature),
    );
    return {
      key: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      cert: toPem(der),
      caBundle: this.caBundle(),
    };
  }

  /** Stops the HSM recovery loop, closes the session and the audit log. */
  async close(): Promise<void> {
    try {
      await this.audit.record({ event: "broker.stop", decision: "info", epoch: this.epoch() });
    } catch {
      // closing anyway
    }
    this.ephemeralKeys.close();
    this.hsm.close();
    await this.audit.close();
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

/** Reads a PEM public key (or certificate) file as a P-384 KeyObject; CONFIG_INVALID naming the key. */
export function readPublicKey(path: string, field: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KeyBrokerError("CONFIG_INVALID", `${field}: cannot read ${path}`, { cause: e });
  }
  try {
    const key = text.includes("BEGIN CERTIFICATE") ? new X509Certificate(text).publicKey : createPublicKey(text);
    if (key.asymmetricKeyDetails?.namedCurve !== "secp384r1") throw new Error("not P-384");
    return key;
  } catch (e) {
    throw new KeyBrokerError("CONFIG_INVALID", `${field}: ${path} is not a P-384 public key or certificate`, {
      cause: e,
    });
  }
}
