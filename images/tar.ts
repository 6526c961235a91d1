/**
 * A deterministic ustar writer for image layers: entries sorted by path, parents before children,
 * uid/gid and mtime fixed by the caller (`SOURCE_DATE_EPOCH`), empty user and group names, no PAX
 * or GNU extensions (paths that do not fit ustar's 100 + 155 bytes are refused, not extended), and
 * the two zero blocks of the end-of-archive marker. The same entries always give the same bytes.
 */
import { ImageError } from "./errors.js";

/** One entry of a layer; `path` is relative (`usr/local/bin/node`), directories without a trailing slash. */
export type TarEntry =
  | { readonly type: "file"; readonly path: string; readonly mode: number; readonly data: Uint8Array }
  | { readonly type: "dir"; readonly path: string; readonly mode: number }
  | { readonly type: "symlink"; readonly path: string; readonly target: string };

/** Fixed metadata of every entry. */
export interface TarOptions {
  /** Seconds since the epoch for every mtime (SOURCE_DATE_EPOCH). */
  readonly mtime: number;
  /** Owner of every entry; default 0:0. */
  readonly uid?: number;
  readonly gid?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  const s = value.toString(8);
  if (s.length > width - 1)
    throw new ImageError("TAR_ENTRY_INVALID", `tar: value ${value} does not fit ${width} bytes`);
  return s.padStart(width - 1, "0") + "\0";
}

function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { name, prefix };
  }
  throw new ImageError("TAR_ENTRY_INVALID", `tar: path ${path} does not fit a ustar header`);
}

function header(e: TarEntry, o: TarOptions, path: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const { name, prefix } = splitPath(path);
  const mode = e.type === "symlink" ? 0o777 : e.mode;
  h.write(name, 0, 100, "utf8");
  h.write(octal(mode, 8), 100, "ascii");
  h.write(octal(o.uid ?? 0, 8), 108, "ascii");
  h.write(octal(o.gid ?? 0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(o.mtime, 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write(e.type === "file" ? "0" : e.type === "dir" ? "5" : "2", 156, "ascii");
  if (e.type === "symlink") {
    if (Buffer.byteLength(e.target) > 100)
      throw new ImageError("TAR_ENTRY_INVALID", `tar: link target of ${path} too long`);
    h.write(e.target, 157, 100, "utf8");
  }
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write(octal(0, 8), 329, "ascii");
  h.write(octal(0, 8), 337, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

function checkPath(path: string): void {
  if (
    path === "" ||
    path.startsWith("/") ||
    path.endsWith("/") ||
    path.split("/").some((p) => p === "" || p === "." || p === "..")
  )
    throw new ImageError(
      "TAR_ENTRY_INVALID",
      `tar: entry path ${JSON.stringify(path)} must be relative and normalized`,
    );
}

/** Writes `entries` (any order; sorted here, duplicates refused) as one ustar archive. */
export function writeTar(entries: readonly TarEntry[], o: TarOptions): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  let previous: string | undefined;
  for (const e of sorted) {
    checkPath(e.path);
    if (e.path === previous) throw new ImageError("TAR_ENTRY_INVALID", `tar: entry ${e.path} appears twice`);
    previous = e.path;
    const path = e.type === "dir" ? `${e.path}/` : e.path;
    const size = e.type === "file" ? e.data.length : 0;
    parts.push(header(e, o, path, size));
    if (e.type === "file") {
      parts.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length));
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** The directories `paths` need (every proper prefix), as `dir` entries with `mode`. */
export function parentDirs(paths: readonly string[], mode = 0o755): TarEntry[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return [...dirs].map((path) => ({ type: "dir" as const, path, mode }));
}
