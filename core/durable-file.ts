/**
 * Crash-safe JSON files: write to a temporary file, fsync it, rename over the target, fsync the
 * folder. A kill -9 at any instant leaves either the old or the new content, never a mix.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { KeyBrokerError } from "../runtime/keybroker/errors.js";

/** Writes `text` to `path` atomically and durably. */
export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
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

/** Reads a JSON file written by writeFileAtomic; undefined when absent; STATE_CORRUPT when unparsable. */
export function readJsonFile(path: string): unknown {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new KeyBrokerError("STATE_CORRUPT", `reading ${path}: not valid JSON`, { cause: e });
  }
}
