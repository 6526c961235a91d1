/**
 * A small tar reader (ustar, plus the PAX `path`/`linkpath` and GNU long-name records that npm and
 * Debian archives use) for unpacking inputs and image layers. Only regular files, directories and
 * symbolic links are returned; anything else (devices, hard links) is refused, since no input of an
 * image needs one.
 */
import { ImageError } from "./errors.js";
import type { TarEntry } from "./tar.js";

function field(h: Buffer, at: number, len: number): string {
  const end = h.indexOf(0, at);
  return h.toString("utf8", at, end < 0 || end > at + len ? at + len : end);
}

function num(h: Buffer, at: number, len: number): number {
  const s = field(h, at, len).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const len = parseInt(data.toString("ascii", i, space), 10);
    if (!(len > 0)) break;
    const rec = data.toString("utf8", space + 1, i + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** Reads every entry of `tar` (paths normalized: no leading `./` or `/`, no trailing `/`). */
export function readTar(tar: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  while (at + 512 <= tar.length) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const size = num(h, 124, 12);
    const type = String.fromCharCode(h[156]!) || "0";
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      const pax = paxRecords(data);
      longName = pax.get("path") ?? longName;
      longLink = pax.get("linkpath") ?? longLink;
      continue;
    }
    if (type === "g") continue;
    if (type === "L" || type === "K") {
      const v = data.toString("utf8").replace(/\0+$/, "");
      if (type === "L") longName = v;
      else longLink = v;
      continue;
    }
    const prefix = field(h, 345, 155);
    const raw = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    const target = longLink ?? field(h, 157, 100);
    longName = longLink = undefined;
    const path = raw
      .replace(/^(\.\/)+/, "")
      .replace(/^\/+/, "")
      .replace(/\/+$/, "");
    if (path === "" || path === ".") continue;
    if (path.split("/").includes(".."))
      throw new ImageError("TAR_ENTRY_INVALID", `tar: entry ${JSON.stringify(raw)} leaves the archive's root`);
    const mode = num(h, 100, 8) & 0o7777;
    if (type === "0" || type === "\0" || type === "7") out.push({ type: "file", path, mode, data: Buffer.from(data) });
    else if (type === "5") out.push({ type: "dir", path, mode });
    else if (type === "2") out.push({ type: "symlink", path, target });
    else
      throw new ImageError(
        "TAR_ENTRY_INVALID",
        `tar: entry ${path} has type ${JSON.stringify(type)} (not file, dir or symlink)`,
      );
  }
  return out;
}
