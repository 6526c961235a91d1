/**
 * `attestctl image build --target oci`: the OCI images of the three services, from the compiled
 * code under dist/ and the inputs pinned in `images/lock.json`, byte for byte reproducibly. Each
 * image has a C runtime base (glibc, libstdc++, libgcc from Debian, `/etc/passwd` with the non-root
 * user 10001, no shell and no package manager), the pinned Node.js binary, for the key broker the
 * packages the lock gives it alone (SoftHSM2 and libcrypto, the embedded HSM), and the service (its
 * dist/ bundle and only the native addons it needs: onnxruntime's for the runtime, pkcs11js for the
 * key broker, none for the gateway). The first two layers are the same bytes in all three images,
 * so a registry stores them once.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ImageError } from "./errors.js";
import { debFiles, fetchPinned, inputCacheDir, nodeBinaryOf, parseImageLock, type ImageLock } from "./inputs.js";
import { type Descriptor, digestOf, writeLayout } from "./oci.js";
import { parentDirs, type TarEntry, writeTar } from "./tar.js";

/** The three service images. */
export const SERVICE_IMAGES = ["runtime", "gateway", "keybroker"] as const;
/** A service image's name. */
export type ServiceImage = (typeof SERVICE_IMAGES)[number];

/** Where the key broker's image holds SoftHSM2's PKCS#11 module (`hsm.module` of the dev and staging stacks). */
export const IMAGE_SOFTHSM_MODULE = "usr/lib/softhsm/libsofthsm2.so";

/** The non-root user every image runs as (the pods' `runAsUser`, components/pods.ts). */
export const IMAGE_USER = "10001:10001";

/** The compiled bundle directory (under dist/) and the extra node_modules packages of each image. */
const SERVICE_SOURCES: Readonly<Record<ServiceImage, { dist: string; packages: readonly PackageFiles[] }>> = {
  runtime: { dist: "dist/runtime/inference", packages: [] },
  gateway: { dist: "dist/runtime/gateway", packages: [] },
  keybroker: {
    dist: "dist/runtime/keybroker",
    packages: [{ name: "pkcs11js", files: ["package.json", "index.js", "LICENSE", "build/Release/pkcs11.node"] }],
  },
};

interface PackageFiles {
  readonly name: string;
  readonly files: readonly string[];
}

/** Options of {@link buildImages}. */
export interface BuildImagesOptions {
  /** Project root (holds dist/, node_modules/ and images/lock.json). */
  readonly root: string;
  /** The OCI layout directory to write (replaced). */
  readonly out: string;
  /** Input cache; default {@link inputCacheDir}. */
  readonly cache?: string;
  /**
   * Sealed models to add to the runtime image as a fourth layer, by model name: each directory's
   * files (`model.onnx.enc`, `model.onnx.enc.jws`, `tokenizer.json`, from `scripts/seal-model.ts`) go
   * to `/opt/models/<name>/`. Sealing uses a fresh data key, so this layer is the team's own: the code
   * layers below it keep their digests.
   */
  readonly models?: Readonly<Record<string, string>>;
  /** Downloads a pinned input (tests inject one); default `fetch`. */
  readonly fetcher?: (url: string) => Promise<Uint8Array>;
}

/** One built image. */
export interface BuiltImage {
  readonly name: ServiceImage;
  /** The manifest digest: what a stack config pins (`image@sha256:...`). */
  readonly digest: string;
  /** Layer blob digests, bottom first. */
  readonly layers: readonly string[];
  /** Bytes of all layers. */
  readonly bytes: number;
}

/** What {@link buildImages} wrote. */
export interface BuiltImages {
  readonly layout: string;
  readonly images: readonly BuiltImage[];
  readonly lock: ImageLock;
}

/** Reads images/lock.json under `root`. */
export function readImageLock(root: string): ImageLock {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(join(root, "images", "lock.json"), "utf8"));
  } catch (e) {
    throw new ImageError("LOCK_INVALID", `images/lock.json unreadable: ${(e as Error).message}`, { cause: e });
  }
  return parseImageLock(doc);
}

/** A regular-file entry. */
export const file = (path: string, data: Uint8Array, mode = 0o644): TarEntry => ({ type: "file", path, mode, data });

/** `entries` with the directories they need (mode 0755) that they do not list themselves. */
export function withParents(entries: TarEntry[]): TarEntry[] {
  const own = new Set(entries.map((e) => e.path));
  return [...parentDirs(entries.map((e) => e.path)).filter((d) => !own.has(d.path)), ...entries];
}

async function baseLayer(lock: ImageLock, cache: string, fetcher: BuildImagesOptions["fetcher"]): Promise<Buffer> {
  return writeTar(withParents(await cRuntimeEntries(lock, cache, fetcher)), { mtime: lock.sourceDateEpoch });
}

/** The C runtime every image shares: glibc, libstdc++, libgcc, users, name service, /tmp. */
export async function cRuntimeEntries(
  lock: ImageLock,
  cache: string,
  fetcher: BuildImagesOptions["fetcher"],
): Promise<TarEntry[]> {
  const entries: TarEntry[] = [
    { type: "symlink", path: "lib", target: "usr/lib" },
    { type: "symlink", path: "lib64", target: "usr/lib64" },
    file(
      "etc/passwd",
      Buffer.from("root:x:0:0:root:/root:/nonexistent\nnonroot:x:10001:10001:nonroot:/home/nonroot:/nonexistent\n"),
    ),
    file("etc/group", Buffer.from("root:x:0:\nnonroot:x:10001:\n")),
    file("etc/nsswitch.conf", Buffer.from("hosts: files dns\n")),
    { type: "dir", path: "tmp", mode: 0o1777 },
    { type: "dir", path: "home/nonroot", mode: 0o755 },
  ];
  for (const deb of lock.debs.filter((d) => d.images === undefined)) {
    const bytes = await fetchPinned("debs", deb.url, deb.sha256, cache, fetcher);
    entries.push(...debFiles(bytes, deb.files, `${deb.package} ${deb.version}`));
  }
  return entries;
}

/** The layer of the Debian packages the lock gives to `name` only (the key broker: SoftHSM2 and libcrypto), if any. */
async function extraLayer(
  name: ServiceImage,
  lock: ImageLock,
  cache: string,
  fetcher: BuildImagesOptions["fetcher"],
): Promise<Buffer | undefined> {
  const debs = lock.debs.filter((d) => d.images?.includes(name));
  if (debs.length === 0) return undefined;
  const entries: TarEntry[] = [];
  for (const deb of debs) {
    const bytes = await fetchPinned("debs", deb.url, deb.sha256, cache, fetcher);
    entries.push(...debFiles(bytes, deb.files, `${deb.package} ${deb.version}`));
  }
  return writeTar(withParents(entries), { mtime: lock.sourceDateEpoch });
}

async function nodeLayer(lock: ImageLock, cache: string, fetcher: BuildImagesOptions["fetcher"]): Promise<Buffer> {
  return writeTar(withParents(await nodeEntries(lock, cache, fetcher)), { mtime: lock.sourceDateEpoch });
}

/** The pinned Node.js binary and its licence. */
export async function nodeEntries(
  lock: ImageLock,
  cache: string,
  fetcher: BuildImagesOptions["fetcher"],
): Promise<TarEntry[]> {
  const { binary, license } = nodeBinaryOf(await fetchPinned("npm", lock.node.url, lock.node.sha256, cache, fetcher));
  return [file("usr/local/bin/node", binary, 0o755), file("usr/local/share/doc/node/LICENSE", license)];
}

function appLayer(root: string, name: ServiceImage, lock: ImageLock): Buffer {
  return writeTar(withParents(serviceEntries(root, name)), { mtime: lock.sourceDateEpoch });
}

/** A service's compiled bundle and native addons under `app/`. */
export function serviceEntries(root: string, name: ServiceImage): TarEntry[] {
  const src = SERVICE_SOURCES[name];
  const dir = join(root, src.dist);
  if (!existsSync(join(dir, "main.js")))
    throw new ImageError("BUILD_OUTPUT_MISSING", `${src.dist}/main.js missing: run \`npm run build\` first`);
  const entries: TarEntry[] = readdirSync(dir)
    .filter((f) => !f.endsWith(".map"))
    .map((f) => file(`app/${f}`, readFileSync(join(dir, f))));
  for (const pkg of src.packages)
    for (const f of pkg.files) {
      const path = join(root, "node_modules", pkg.name, f);
      if (!existsSync(path))
        throw new ImageError("BUILD_OUTPUT_MISSING", `node_modules/${pkg.name}/${f} missing: run \`npm ci\` first`);
      entries.push(file(`app/node_modules/${pkg.name}/${f}`, readFileSync(path)));
    }
  return entries;
}

function modelLayer(models: Readonly<Record<string, string>>, lock: ImageLock): Buffer {
  const entries: TarEntry[] = [];
  for (const [name, dir] of Object.entries(models)) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name))
      throw new ImageError("TAR_ENTRY_INVALID", `--model ${name}: a model name is lowercase letters, digits, . _ -`);
    const files = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()) : [];
    if (files.length === 0) throw new ImageError("BUILD_OUTPUT_MISSING", `--model ${name}: no files in ${dir}`);
    for (const f of files) entries.push(file(`opt/models/${name}/${f.name}`, readFileSync(join(dir, f.name))));
  }
  return writeTar(withParents(entries), { mtime: lock.sourceDateEpoch });
}

/** Builds the three service images into the OCI layout `o.out`. */
export async function buildImages(o: BuildImagesOptions): Promise<BuiltImages> {
  const lock = readImageLock(o.root);
  const cache = o.cache ?? inputCacheDir();
  const base = await baseLayer(lock, cache, o.fetcher);
  const node = await nodeLayer(lock, cache, o.fetcher);
  const version = (JSON.parse(readFileSync(join(o.root, "package.json"), "utf8")) as { version: string }).version;
  const created = new Date(lock.sourceDateEpoch * 1000).toISOString().replace(".000Z", "Z");
  const extra = new Map<ServiceImage, Buffer | undefined>();
  for (const name of SERVICE_IMAGES) extra.set(name, await extraLayer(name, lock, cache, o.fetcher));
  const specs = SERVICE_IMAGES.map((name) => ({
    name,
    layers: [
      base,
      node,
      ...(extra.get(name) ? [extra.get(name)!] : []),
      appLayer(o.root, name, lock),
      ...(name === "runtime" && o.models && Object.keys(o.models).length > 0 ? [modelLayer(o.models, lock)] : []),
    ],
    created,
    run: {
      user: IMAGE_USER,
      entrypoint: ["/usr/local/bin/node", "/app/main.js"],
      env: ["PATH=/usr/local/bin", "NODE_ENV=production"],
      workingDir: "/app",
      labels: {
        "org.opencontainers.image.title": `confidential-inference ${name}`,
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.licenses": "Apache-2.0",
      },
    },
  }));
  rmSync(o.out, { recursive: true, force: true });
  const written: Map<string, Descriptor> = writeLayout(o.out, specs);
  return {
    layout: o.out,
    lock,
    images: specs.map((s) => ({
      name: s.name,
      digest: written.get(s.name)!.digest,
      layers: s.layers.map((l) => digestOf(l)),
      bytes: s.layers.reduce((n, l) => n + l.length, 0),
    })),
  };
}
