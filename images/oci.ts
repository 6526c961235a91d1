/**
 * OCI image layouts (image-spec v1.1): `oci-layout`, `index.json` and content-addressed
 * `blobs/sha256/`, with one image manifest per service. Layers are uncompressed tar
 * (`application/vnd.oci.image.layer.v1.tar`) on purpose: a digest then depends on our bytes only,
 * never on a compressor's version, so two builds anywhere give the same digests. JSON documents are
 * written with a fixed key order and no whitespace.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageError } from "./errors.js";

/** Media types used here. */
export const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
} as const;

/** A content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** What an image runs: the OCI config's `config` section. */
export interface RunConfig {
  readonly user: string;
  readonly entrypoint: readonly string[];
  readonly cmd?: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
  readonly exposedPorts?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

/** One image to write: its name (the `org.opencontainers.image.ref.name` tag), layers bottom first and run config. */
export interface ImageSpec {
  readonly name: string;
  readonly layers: readonly Buffer[];
  readonly run: RunConfig;
  /** RFC 3339 creation time (from SOURCE_DATE_EPOCH). */
  readonly created: string;
}

/** `sha256:<hex>` of `bytes`. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function putBlob(dir: string, bytes: Buffer): string {
  const digest = digestOf(bytes);
  const file = join(dir, "blobs", "sha256", digest.slice(7));
  if (!existsSync(file)) writeFileSync(file, bytes);
  return digest;
}

function configJson(spec: ImageSpec, diffIds: string[]): Buffer {
  const r = spec.run;
  const config = {
    created: spec.created,
    architecture: "amd64",
    os: "linux",
    config: {
      User: r.user,
      ...(r.exposedPorts?.length ? { ExposedPorts: Object.fromEntries(r.exposedPorts.map((p) => [p, {}])) } : {}),
      Env: [...r.env],
      Entrypoint: [...r.entrypoint],
      ...(r.cmd ? { Cmd: [...r.cmd] } : {}),
      WorkingDir: r.workingDir,
      ...(r.labels ? { Labels: { ...r.labels } } : {}),
    },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: spec.created, created_by: `confidential-inference image layer ${i}` })),
  };
  return Buffer.from(JSON.stringify(config));
}

/** Writes `images` into the OCI layout at `dir` (created when missing) and returns each image's manifest descriptor. */
export function writeLayout(dir: string, images: readonly ImageSpec[]): Map<string, Descriptor> {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const out = new Map<string, Descriptor>();
  for (const spec of images) {
    const layers = spec.layers.map((l) => ({ mediaType: MEDIA.layer, digest: putBlob(dir, l), size: l.length }));
    const config = configJson(
      spec,
      layers.map((l) => l.digest),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.manifest,
        config: { mediaType: MEDIA.config, digest: putBlob(dir, config), size: config.length },
        layers,
      }),
    );
    out.set(spec.name, {
      mediaType: MEDIA.manifest,
      digest: putBlob(dir, manifest),
      size: manifest.length,
      annotations: { "org.opencontainers.image.ref.name": spec.name },
    });
  }
  const index = { schemaVersion: 2, mediaType: MEDIA.index, manifests: [...out.values()] };
  writeFileSync(join(dir, "index.json"), JSON.stringify(index));
  return out;
}

/** Reads a blob of the layout at `dir`, checking its digest. */
export function readBlob(dir: string, digest: string): Buffer {
  const file = join(dir, "blobs", "sha256", digest.replace(/^sha256:/, ""));
  if (!/^sha256:[0-9a-f]{64}$/.test(digest) || !existsSync(file))
    throw new ImageError("LAYOUT_INVALID", `OCI layout ${dir}: blob ${digest} missing`);
  const bytes = readFileSync(file);
  if (digestOf(bytes) !== digest)
    throw new ImageError("LAYOUT_INVALID", `OCI layout ${dir}: blob ${digest} does not match its digest`);
  return bytes;
}

/** An image of a layout, resolved: its manifest digest, config and layer blobs' digests. */
export interface ResolvedImage {
  readonly name: string;
  readonly digest: string;
  readonly config: { readonly config: Record<string, unknown>; readonly rootfs: { readonly diff_ids: string[] } };
  readonly layers: readonly string[];
}

/** Resolves every image named in the layout's `index.json`, checking every digest on the way. */
export function readLayout(dir: string): ResolvedImage[] {
  let index: { manifests?: Descriptor[] };
  try {
    index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as typeof index;
  } catch (e) {
    throw new ImageError("LAYOUT_INVALID", `OCI layout ${dir}: index.json unreadable`, { cause: e });
  }
  return (index.manifests ?? []).map((d) => {
    const manifest = JSON.parse(readBlob(dir, d.digest).toString("utf8")) as {
      config: Descriptor;
      layers: Descriptor[];
    };
    const config = JSON.parse(readBlob(dir, manifest.config.digest).toString("utf8")) as ResolvedImage["config"];
    return {
      name: d.annotations?.["org.opencontainers.image.ref.name"] ?? d.digest,
      digest: d.digest,
      config,
      layers: manifest.layers.map((l) => l.digest),
    };
  });
}
