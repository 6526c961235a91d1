/**
 * The audit log: one JSON object per line, appended and durable before the decision it records
 * takes effect, so a crash loses no decision. The file is opened with O_APPEND | O_DSYNC: each
 * write(2) returns only once its data is on stable storage (synchronized I/O data integrity, the
 * same guarantee as write + fdatasync), so a batch costs one thread-pool job and no round trip
 * through the event loop between the write and the sync. Records made in the same task, and those
 * that arrive while a batch is being written, are written together (group commit: one write, one
 * sync).
 * Entries are typed: only identifiers, digests, classes and codes fit, never secrets, report
 * data, nonces, tokens or key bytes.
 *
 * Rotation (audit-files.ts): once the live file reaches `rotateBytes`, the flush loop rotates it
 * between two batches (the batch before is on stable storage, the next one waits in the queue and
 * goes to the new file), so rotation never drops or reorders a record; a failed rotation fails
 * the log closed (AUDIT_UNAVAILABLE) like a failed write.
 */
import { openDurableAppend, type DurableAppendFile } from "../../../core/index.js";
import { fileSize, rotateAuditFile, type AuditRotation, type RotatedAuditFile } from "./audit-files.js";
import type { DriftClass } from "../../../measurements/drift/index.js";
import { KeyBrokerError, type KeyBrokerErrorCode } from "../errors.js";

/** What an audit line is about. */
export type AuditEvent =
  | "broker.start"
  | "broker.stop"
  | "kbs.auth"
  | "kbs.attest"
  | "kbs.resource"
  | "admin.data-key.import"
  | "admin.manifest.import"
  | "admin.manifest.activate"
  | "admin.manifest.retire"
  | "admin.rotate"
  | "admin.keys.list"
  | "rotation"
  | "hsm.lost"
  | "hsm.recovered";

/** One decision or event. Every field is an identifier, digest, class or code: nothing secret. */
export interface AuditEntry {
  readonly event: AuditEvent;
  /** granted/denied for decisions; info for events. */
  readonly decision: "granted" | "denied" | "info";
  /** Who asked: `session:<sha256 of the session id, 16 hex>` or `operator:<subject>#<cert sha256, 16 hex>`. */
  readonly who?: string;
  /** Remote address of the connection. */
  readonly peer?: string;
  readonly tee?: string;
  /** SHA-256 of the evidence as received (hex); the evidence itself is never logged. */
  readonly evidenceHash?: string;
  /** RFC 7638 thumbprint of the TEE public key. */
  readonly teeKey?: string;
  readonly verdict?: "accepted" | "rejected";
  readonly driftClass?: DriftClass;
  readonly measurement?: string;
  readonly chipId?: string;
  readonly release?: string;
  /** `repository/type/tag`. */
  readonly resource?: string;
  readonly code?: KeyBrokerErrorCode;
  readonly epoch?: number;
  /** Key role and version affected by an admin action or rotation, e.g. `kek:v2`. */
  readonly key?: string;
  /** Token id (jti), never the token. */
  readonly tokenId?: string;
  /** A short, non-secret explanation. */
  readonly detail?: string;
}

/** A written line: the entry plus its time. */
export type AuditLine = AuditEntry & { readonly ts: string };

interface Pending {
  readonly line: string;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/**
 * Appends `data` durably (resolves once it is on stable storage). The default writes to a file
 * descriptor opened with O_APPEND | O_DSYNC; tests inject one to observe ordering and batching.
 */
export type DurableAppend = (data: Buffer) => Promise<void>;

/** Append-only, synchronously written JSON-lines audit log with group commit. */
export class AuditLog {
  private file: DurableAppendFile | undefined;
  private append: DurableAppend | undefined;
  private queue: Pending[] = [];
  private flushing = false;
  private failed: Error | undefined;
  private idle: (() => void)[] = [];
  private bytes = 0;

  /**
   * `now` is injected so tests can freeze time; `append` replaces the file (tests; no rotation then);
   * `rotation` turns rotation on, `onRotate` hears of each rotated file (the audit index).
   */
  constructor(
    readonly path: string,
    private readonly now: () => Date = () => new Date(),
    private readonly injected?: DurableAppend,
    private readonly rotation?: AuditRotation & { readonly onRotate?: (f: RotatedAuditFile) => void },
  ) {}

  /** Opens the file for appending (O_APPEND | O_DSYNC, created with mode 0600). */
  async open(): Promise<void> {
    if (this.injected) {
      this.append = this.injected;
      return;
    }
    const file = await openDurableAppend(this.path);
    this.file = file;
    this.bytes = fileSize(this.path);
    this.append = (data) => file.append(data);
  }

  /** The file descriptor (tests check its flags in /proc), or undefined when closed or injected. */
  get descriptor(): number | undefined {
    return this.file?.fd;
  }

  /**
   * Appends an entry; resolves once it is on stable storage. Rejects with AUDIT_UNAVAILABLE when
   * the log cannot be written, so the caller fails closed.
   */
  record(entry: AuditEntry): Promise<void> {
    if (this.append === undefined)
      return Promise.reject(new KeyBrokerError("AUDIT_UNAVAILABLE", "audit log is not open"));
    if (this.failed)
      return Promise.reject(
        new KeyBrokerError("AUDIT_UNAVAILABLE", "audit log write failed earlier", { cause: this.failed }),
      );
    const line = `${JSON.stringify({ ts: this.now().toISOString(), ...entry })}\n`;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      if (!this.flushing) {
        // Start the write after the current task: records of one decision (an attestation and the
        // certificate issued with it) and of concurrent requests go out in the same batch.
        this.flushing = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** Waits for pending lines and closes the file. */
  async close(): Promise<void> {
    if (this.flushing || this.queue.length > 0) await new Promise<void>((r) => this.idle.push(r));
    const file = this.file;
    this.file = undefined;
    this.append = undefined;
    if (file !== undefined) await file.close();
  }

  private flush(): void {
    const append = this.append;
    const batch = this.queue;
    this.queue = [];
    if (append === undefined || batch.length === 0) {
      this.flushing = false;
      for (const r of this.idle.splice(0)) r();
      if (append === undefined) {
        const err = new KeyBrokerError("AUDIT_UNAVAILABLE", "audit log is not open");
        for (const p of batch) p.reject(err);
      }
      return;
    }
    this.flushing = true;
    const data = Buffer.from(batch.map((p) => p.line).join(""), "utf8");
    append(data).then(
      async () => {
        for (const p of batch) p.resolve();
        this.bytes += data.length;
        if (this.rotation && this.file && this.bytes >= this.rotation.rotateBytes) {
          try {
            await this.rotate(this.rotation);
          } catch (e) {
            this.failed = e instanceof Error ? e : new Error(String(e));
            this.append = () => Promise.reject(this.failed as Error);
          }
        }
        this.flush();
      },
      (e: unknown) => {
        const cause = e instanceof Error ? e : new Error(String(e));
        this.failed = cause;
        const err = new KeyBrokerError("AUDIT_UNAVAILABLE", "writing the audit log failed", { cause });
        for (const p of batch) p.reject(err);
        this.flush();
      },
    );
  }

  /** Closes the live file, renames it to the next sequence number and opens a new one (inside the flush loop). */
  private async rotate(rotation: AuditRotation & { readonly onRotate?: (f: RotatedAuditFile) => void }): Promise<void> {
    const old = this.file as DurableAppendFile;
    this.file = undefined;
    await old.close();
    const { rotated } = rotateAuditFile(this.path, rotation.keepFiles);
    const file = await openDurableAppend(this.path);
    this.file = file;
    this.bytes = 0;
    this.append = (data) => file.append(data);
    rotation.onRotate?.(rotated);
  }
}

/** Parses an audit file's text into lines, skipping a torn last line left by a crash. */
export function parseAuditLog(text: string): AuditLine[] {
  const out: AuditLine[] = [];
  for (const raw of text.split("\n")) {
    if (raw === "") continue;
    try {
      out.push(JSON.parse(raw) as AuditLine);
    } catch {
      // only the last line can be torn (appends are sequential); ignore it
    }
  }
  return out;
}
