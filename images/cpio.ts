/**
 * A deterministic cpio "newc" writer (the initramfs format the Linux kernel unpacks): entries sorted
 * by path, parents first, inode numbers assigned in that order, uid/gid 0, one fixed mtime, no
 * device numbers, and the `TRAILER!!!` record. The same entries always give the same bytes.
 */
import { ImageError } from "./errors.js";
import type { TarEntry } from "./tar.js";

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

const hex8 = (n: number) => n.toString(16).padStart(8, "0");
const pad4 = (n: number) => (4 - (n % 4)) % 4;

function record(ino: number, mode: number, nlink: number, mtime: number, name: string, data: Buffer): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, "utf8");
  const header = Buffer.from(
    "070701" + [ino, mode, 0, 0, nlink, mtime, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex8).join(""),
    "ascii",
  );
  return [
    header,
    nameBytes,
    Buffer.alloc(pad4(header.length + nameBytes.length)),
    data,
    Buffer.alloc(pad4(data.length)),
  ];
}

/** Writes `entries` (the same entry kinds as layers; any order, sorted here) as a newc archive. */
export function writeCpio(entries: readonly TarEntry[], o: { readonly mtime: number }): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  let ino = 0;
  let previous: string | undefined;
  for (const e of sorted) {
    if (e.path === previous) throw new ImageError("TAR_ENTRY_INVALID", `cpio: entry ${e.path} appears twice`);
    if (e.path.startsWith("/") || e.path.split("/").includes(".."))
      throw new ImageError("TAR_ENTRY_INVALID", `cpio: entry path ${JSON.stringify(e.path)} must be relative`);
    previous = e.path;
    ino += 1;
    if (e.type === "file") parts.push(...record(ino, S_IFREG | e.mode, 1, o.mtime, e.path, Buffer.from(e.data)));
    else if (e.type === "dir") parts.push(...record(ino, S_IFDIR | e.mode, 2, o.mtime, e.path, Buffer.alloc(0)));
    else parts.push(...record(ino, S_IFLNK | 0o777, 1, o.mtime, e.path, Buffer.from(e.target, "utf8")));
  }
  parts.push(...record(0, 0, 1, 0, "TRAILER!!!", Buffer.alloc(0)));
  return Buffer.concat(parts);
}
