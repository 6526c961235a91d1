/**
 * Crash-safe files, the project's one implementation of each pattern:
 *
 * - {@link writeFileAtomic}: write a temporary file beside the target, fsync it, rename it over the
 *   target, fsync the folder. A kill -9 or power loss at any instant leaves either the old or the new
 *   content, never a mix or an empty file;
 * - {@link openDurableAppend}: an append-only file opened with O_APPEND | O_DSYNC, where every write
 *   returns only once its data is on stable storage (the audit log).
 */
import {
  close,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  open,
  openSync,
  renameSync,
  rmSync,
  write,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` to `path` atomically and durably, creating the folder (mode 0700) when missing.
 *
 * @param mode - permission bits of the new file: 0600 (the default) for anything secret or private,
 *   0644 for what other local users may read.
 * @example writeFileAtomic("state/state.json", `${JSON.stringify(state, null, 2)}\n`)
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const fd = openSync(tmp, "wx", mode);
    try {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/** fsyncs a folder so a rename or a new file in it survives a crash. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Open flags of a durable append-only file: created if missing, every write synchronized (data integrity). */
export const DURABLE_APPEND_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC;

/** An append-only file whose writes are on stable storage when they resolve. */
export interface DurableAppendFile {
  /** The file descriptor (tests read its flags in /proc). */
  readonly fd: number;
  /** Appends all of `data`; resolves once it is on stable storage (one write(2) per chunk the kernel takes). */
  append(data: Buffer): Promise<void>;
  /** Closes the descriptor. */
  close(): Promise<void>;
}

/**
 * Opens `path` for durable appending ({@link DURABLE_APPEND_FLAGS}, created with `mode`, folder
 * created 0700). O_DSYNC makes each write(2) return only once its data is on stable storage, the
 * guarantee of write + fdatasync without a second thread-pool job.
 */
export async function openDurableAppend(path: string, mode = 0o600): Promise<DurableAppendFile> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = await new Promise<number>((resolve, reject) =>
    open(path, DURABLE_APPEND_FLAGS, mode, (e, n) => (e ? reject(e) : resolve(n))),
  );
  return {
    fd,
    append: (data) => new Promise((resolve, reject) => writeAll(fd, data, 0, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise<void>((resolve) => close(fd, () => resolve())),
  };
}

function writeAll(fd: number, data: Buffer, offset: number, cb: (e: Error | null) => void): void {
  write(fd, data, offset, data.length - offset, null, (e, n) => {
    if (e) return cb(e);
    if (offset + n < data.length) return writeAll(fd, data, offset + n, cb);
    cb(null);
  });
}
