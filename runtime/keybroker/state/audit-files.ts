/**
 * The audit log's files: the live `audit.log` and its rotated predecessors `audit.log.<n>` (n grows
 * by one per rotation, so the largest is the newest). Rotation renames the live file to the next
 * number and fsyncs the folder; retention removes the oldest rotated files beyond the kept count.
 * Only the writer's flush loop rotates (audit.ts), between two batches, so no record is ever in
 * flight while the file changes.
 */
import { readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fsyncDir } from "../../../core/index.js";

/** When to rotate and what to keep. */
export interface AuditRotation {
  /** Rotate once the live file holds at least this many bytes. */
  readonly rotateBytes: number;
  /** Rotated files kept (the oldest beyond this count are removed). */
  readonly keepFiles: number;
}

/** A rotated file, as reported to the audit index. */
export interface RotatedAuditFile {
  readonly path: string;
  readonly sequence: number;
  readonly bytes: number;
}

/** Rotated files of the live file `path`, oldest first. */
export function rotatedAuditFiles(path: string): { path: string; sequence: number }[] {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { path: string; sequence: number }[] = [];
  for (const n of names) {
    const m = n.startsWith(`${base}.`) ? /^(\d{1,12})$/.exec(n.slice(base.length + 1)) : null;
    if (m?.[1]) out.push({ path: join(dir, n), sequence: Number(m[1]) });
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

/** Every audit file of `path`, oldest first, the live one last (what a reader concatenates). */
export function auditFiles(path: string): string[] {
  return [...rotatedAuditFiles(path).map((f) => f.path), path];
}

/** Size of a file in bytes (0 when absent). */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Renames the (closed) live file to the next sequence number, fsyncs the folder and applies
 * retention. Returns the rotated file and the removed ones.
 */
export function rotateAuditFile(path: string, keepFiles: number): { rotated: RotatedAuditFile; removed: string[] } {
  const existing = rotatedAuditFiles(path);
  const sequence = (existing[existing.length - 1]?.sequence ?? 0) + 1;
  const target = `${path}.${sequence}`;
  const bytes = fileSize(path);
  renameSync(path, target);
  const removed: string[] = [];
  const all = [...existing, { path: target, sequence }];
  for (const old of all.slice(0, Math.max(0, all.length - keepFiles))) {
    rmSync(old.path, { force: true });
    removed.push(old.path);
  }
  fsyncDir(dirname(path));
  return { rotated: { path: target, sequence, bytes }, removed };
}
