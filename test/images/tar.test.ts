/**
 * The deterministic ustar writer against GNU tar (the independent reader): names, types, modes,
 * owners and times as written; the reader round-trips; bad entries get TAR_ENTRY_INVALID.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ImageError, parentDirs, readTar, type TarEntry, writeTar } from "../../images/index.js";

const EPOCH = 1764547200; // 2025-12-01T00:00:00Z
const D = "d".repeat(60);
const E = "e".repeat(60);
/** 212 bytes: stored as ustar prefix + name. */
const LONG = `${D}/${E}/${"f".repeat(90)}`;
const entries: TarEntry[] = [
  { type: "file", path: "usr/local/bin/node", mode: 0o755, data: Buffer.from("#!binary\n") },
  { type: "symlink", path: "lib", target: "usr/lib" },
  { type: "dir", path: "tmp", mode: 0o1777 },
  { type: "file", path: "app/main.js", mode: 0o644, data: Buffer.alloc(1000, 0x61) },
  { type: "file", path: LONG, mode: 0o600, data: Buffer.alloc(0) },
];
const all = [...parentDirs(entries.map((e) => e.path)), ...entries];

function gnuTarList(tar: Buffer): string[] {
  const dir = mkdtempSync(join(tmpdir(), "ci-tar-"));
  try {
    writeFileSync(join(dir, "t.tar"), tar);
    const r = spawnSync("tar", ["--numeric-owner", "--full-time", "-tvf", join(dir, "t.tar")], {
      encoding: "utf8",
      env: { ...process.env, TZ: "UTC" },
    });
    expect(r.stderr).toBe("");
    return r.stdout.trim().split("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("deterministic tar", () => {
  it("writes what GNU tar reads back: sorted paths, parents first, fixed owner and time", () => {
    const tar = writeTar(all, { mtime: EPOCH });
    const listed = gnuTarList(tar).map((l) => l.replace(/\s+/g, " "));
    expect(listed).toEqual([
      "drwxr-xr-x 0/0 0 2025-12-01 00:00:00 app/",
      "-rw-r--r-- 0/0 1000 2025-12-01 00:00:00 app/main.js",
      `drwxr-xr-x 0/0 0 2025-12-01 00:00:00 ${D}/`,
      `drwxr-xr-x 0/0 0 2025-12-01 00:00:00 ${D}/${E}/`,
      `-rw------- 0/0 0 2025-12-01 00:00:00 ${LONG}`,
      "lrwxrwxrwx 0/0 0 2025-12-01 00:00:00 lib -> usr/lib",
      "drwxrwxrwt 0/0 0 2025-12-01 00:00:00 tmp/",
      "drwxr-xr-x 0/0 0 2025-12-01 00:00:00 usr/",
      "drwxr-xr-x 0/0 0 2025-12-01 00:00:00 usr/local/",
      "drwxr-xr-x 0/0 0 2025-12-01 00:00:00 usr/local/bin/",
      "-rwxr-xr-x 0/0 9 2025-12-01 00:00:00 usr/local/bin/node",
    ]);
    // 11 headers + 2 data blocks (1000 bytes) + 1 data block (9 bytes) + end marker, in 512-byte blocks
    expect(tar.length).toBe((11 + 2 + 1 + 2) * 512);
  });

  it("gives the same bytes for the same entries in any order", () => {
    const a = writeTar(all, { mtime: EPOCH });
    const b = writeTar([...all].reverse(), { mtime: EPOCH });
    expect(createHash("sha256").update(a).digest("hex")).toBe(createHash("sha256").update(b).digest("hex"));
    expect(writeTar(all, { mtime: EPOCH + 1 }).equals(a)).toBe(false);
  });

  it("reads back every entry (ustar prefix, symlink target, mode)", () => {
    const back = readTar(writeTar(all, { mtime: EPOCH }));
    expect(back.map((e) => [e.path, e.type, e.type === "symlink" ? e.target : e.mode])).toEqual(
      [...all]
        .sort((x, y) => (x.path < y.path ? -1 : 1))
        .map((e) => [e.path, e.type, e.type === "symlink" ? e.target : e.mode]),
    );
    const node = back.find((e) => e.path === "usr/local/bin/node");
    expect(node?.type === "file" && Buffer.from(node.data).toString()).toBe("#!binary\n");
  });

  it.each([
    ["../etc/passwd", "must be relative and normalized"],
    ["/etc/passwd", "must be relative and normalized"],
    [`${"x".repeat(160)}/${"y".repeat(20)}`, "does not fit a ustar header"],
  ])("refuses the entry path %s with TAR_ENTRY_INVALID", (path, message) => {
    const bad = () => writeTar([{ type: "file", path, mode: 0o644, data: Buffer.alloc(0) }], { mtime: EPOCH });
    expect(bad).toThrow(ImageError);
    expect(bad).toThrow(message);
    try {
      bad();
    } catch (e) {
      expect((e as ImageError).code).toBe("TAR_ENTRY_INVALID");
    }
  });

  it("refuses an entry that appears twice", () => {
    const dup = () => writeTar([entries[2]!, entries[2]!], { mtime: EPOCH });
    expect(dup).toThrow("entry tmp appears twice");
  });
});
