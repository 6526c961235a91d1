/**
 * Reads a live process's memory the way an administrator of its host could: every readable,
 * private or anonymous mapping listed in `/proc/<pid>/maps`, read through `/proc/<pid>/mem`
 * (root, or ptrace rights over the process), searched for byte strings. Regions that vanish or
 * cannot be read while the process runs are skipped and counted.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";

/** What one scan found. */
export interface ScanResult {
  /** Occurrences of each needle, by its index in the list given. */
  readonly hits: readonly number[];
  /** Bytes read, and regions that could not be read. */
  readonly bytesRead: number;
  readonly regionsSkipped: number;
}

const CHUNK = 8 * 1024 * 1024;

function count(haystack: Buffer, needle: Buffer): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

/**
 * Scans the writable and anonymous mappings of `pid` (heap, stacks, V8 spaces, buffers) for each
 * needle. File-backed read-only mappings (code, shared libraries) are left out: they cannot hold a
 * prompt. Overlaps between read chunks are handled so a needle across a chunk border counts once.
 */
export function scanProcessMemory(pid: number, needles: readonly Buffer[]): ScanResult {
  const maps = readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").filter(Boolean);
  const fd = openSync(`/proc/${pid}/mem`, "r");
  const hits = needles.map(() => 0);
  const overlap = Math.max(...needles.map((n) => n.length)) - 1;
  let bytesRead = 0;
  let regionsSkipped = 0;
  try {
    for (const line of maps) {
      const [range, perms, , , inode, path] = line.split(/\s+/);
      if (!perms?.startsWith("r") || !range) continue;
      const fileBacked = inode !== "0" && path !== undefined && path.startsWith("/");
      if (fileBacked && !perms.includes("w")) continue;
      if (path === "[vvar]" || path === "[vsyscall]") continue;
      const [startHex, endHex] = range.split("-");
      const start = BigInt(`0x${startHex}`);
      const end = BigInt(`0x${endHex}`);
      let prev = Buffer.alloc(0);
      for (let at = start; at < end;) {
        const size = Number(end - at < BigInt(CHUNK) ? end - at : BigInt(CHUNK));
        const buf = Buffer.alloc(size);
        let got: number;
        try {
          got = readSync(fd, buf, 0, size, at);
        } catch {
          regionsSkipped++;
          break;
        }
        const window = Buffer.concat([prev, buf.subarray(0, got)]);
        needles.forEach((n, i) => {
          hits[i]! += count(window, n) - count(prev, n);
        });
        bytesRead += got;
        prev = Buffer.from(window.subarray(Math.max(0, window.length - overlap)));
        if (got < size) break;
        at += BigInt(size);
      }
    }
  } finally {
    closeSync(fd);
  }
  return { hits, bytesRead, regionsSkipped };
}
