/**
 * `attestctl image build --target oci`: two builds into two directories give the same bytes; the
 * layout is what the OCI image spec says (index -> manifest -> config, diff_ids = the uncompressed
 * layers' digests); every image runs as user 65532 with no shell; the first two layers are shared;
 * pinned inputs are checked (a wrong download is refused and never cached); the stacks pin exactly
 * the digests this build produces.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fetchPinned,
  IMAGE_USER,
  ImageError,
  MEDIA,
  parseImageLock,
  readLayout,
  readTar,
  SERVICE_IMAGES,
} from "../../images/index.js";
import { readBlob } from "../../images/oci.js";
import { runCli, ROOT } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ci-images-"));
let first: {
  images: Array<{ name: string; digest: string; layers: string[]; bytes: number }>;
  refs: Record<string, string>;
};

function filesOf(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p.slice(root.length), createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  const r = await runCli(["image", "build", "--target", "oci", "--out", join(dir, "a"), "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  first = JSON.parse(r.stdout);
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("OCI images of the services", () => {
  it("are reproducible: a second build writes identical files and digests", async () => {
    const r = await runCli(["image", "build", "--target", "oci", "--out", join(dir, "b"), "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).images).toEqual(first.images);
    expect(filesOf(join(dir, "b"))).toEqual(filesOf(join(dir, "a")));
  }, 600_000);

  it("add a team's sealed model as a fourth runtime layer, leaving the code layers and other images unchanged", async () => {
    const models = join(dir, "models");
    mkdirSync(models);
    writeFileSync(join(models, "model.onnx.enc"), "sealed bytes");
    writeFileSync(join(models, "tokenizer.json"), "{}");
    const r = await runCli([
      "image",
      "build",
      "--target",
      "oci",
      "--out",
      join(dir, "m"),
      "--model",
      `sentiment=${models}`,
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const images = JSON.parse(r.stdout).images as typeof first.images;
    const code = (n: string) => first.images.find((i) => i.name === n)!;
    const runtime = images.find((i) => i.name === "runtime")!;
    expect(runtime.layers.slice(0, 3)).toEqual(code("runtime").layers);
    expect(runtime.layers).toHaveLength(4);
    expect(runtime.digest).not.toBe(code("runtime").digest);
    expect(images.filter((i) => i.name !== "runtime")).toEqual(first.images.filter((i) => i.name !== "runtime"));
    const paths = readTar(readBlob(join(dir, "m"), runtime.layers[3]!)).map((e) => e.path);
    expect(paths).toEqual([
      "opt",
      "opt/models",
      "opt/models/sentiment",
      "opt/models/sentiment/model.onnx.enc",
      "opt/models/sentiment/tokenizer.json",
    ]);
    const bad = await runCli(["image", "build", "--target", "oci", "--out", join(dir, "x"), "--model", "sentiment"]);
    expect([bad.code, bad.stderr.split("\n")[0]]).toEqual([
      2,
      "attestctl image build: --model sentiment: expected NAME=DIR",
    ]);
  }, 600_000);

  it("form a valid OCI layout: index -> manifests -> configs, diff_ids equal the uncompressed layers", () => {
    const layout = join(dir, "a");
    expect(JSON.parse(readFileSync(join(layout, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
    expect(index.mediaType).toBe(MEDIA.index);
    const images = readLayout(layout);
    expect(images.map((i) => i.name)).toEqual([...SERVICE_IMAGES]);
    for (const img of images) {
      const manifest = JSON.parse(readBlob(layout, img.digest).toString("utf8"));
      expect(manifest.mediaType).toBe(MEDIA.manifest);
      // C runtime, Node.js, (key broker: SoftHSM2 and libcrypto), the service
      expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(
        Array(img.name === "keybroker" ? 4 : 3).fill(MEDIA.layer),
      );
      expect(img.config.rootfs.diff_ids).toEqual(img.layers);
      expect(img.config.config).toMatchObject({
        User: IMAGE_USER,
        Entrypoint: ["/usr/local/bin/node", "/app/main.js"],
        WorkingDir: "/app",
      });
      expect(first.images.find((i) => i.name === img.name)?.digest).toBe(img.digest);
    }
    // base (C runtime) and Node.js layers are the same blobs in all three images
    expect(new Set(images.map((i) => i.layers.slice(0, 2).join()))).toHaveProperty("size", 1);
  });

  it("hold no shell, no package manager, and only the native addons each service needs", () => {
    const layout = join(dir, "a");
    for (const img of readLayout(layout)) {
      const paths = img.layers.flatMap((d) => readTar(readBlob(layout, d)).map((e) => e.path));
      expect(paths.filter((p) => /(^|\/)(s?bin\/(sh|bash|dash|busybox)|apt|dpkg)$/.test(p))).toEqual([]);
      const addons = paths
        .filter((p) => p.endsWith(".node") || /\.so(\.\d+)?$/.test(p))
        .filter((p) => p.startsWith("app/"));
      expect(addons).toEqual(
        {
          runtime: ["app/libonnxruntime.so.1", "app/onnxruntime_binding.node"],
          gateway: [],
          keybroker: ["app/node_modules/pkcs11js/build/Release/pkcs11.node"],
        }[img.name],
      );
      const passwd = readTar(readBlob(layout, img.layers[0]!)).find((e) => e.path === "etc/passwd");
      expect(passwd?.type === "file" && Buffer.from(passwd.data).toString()).toContain("nonroot:x:10001:10001:");
    }
  });

  it("are what every stack pins (run `npx tsx scripts/pin-images.ts` after changing a service)", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const text = readFileSync(join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8");
      for (const name of SERVICE_IMAGES) {
        const pinned = new RegExp(`/${name}@(sha256:[0-9a-f]{64})`).exec(text)?.[1];
        expect({ stack, name, pinned }).toEqual({
          stack,
          name,
          pinned: first.images.find((i) => i.name === name)!.digest,
        });
      }
    }
  });
});

describe("pinned image inputs", () => {
  it("refuses a download whose SHA-256 is not the pin, and caches nothing", async () => {
    const cache = mkdtempSync(join(tmpdir(), "ci-image-cache-"));
    try {
      const pin = "0".repeat(64);
      const err = await fetchPinned("debs", "http://deb.example/x.deb", pin, cache, async () =>
        Buffer.from("evil"),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageError);
      expect((err as ImageError).code).toBe("INPUT_DIGEST_MISMATCH");
      expect(existsSync(join(cache, "debs"))).toBe(false);
      const offline = await fetchPinned("npm", "https://registry.example/x.tgz", pin, cache, async () => {
        throw new Error("ENOTFOUND");
      }).catch((e: unknown) => e);
      expect((offline as ImageError).code).toBe("INPUT_UNAVAILABLE");
      expect((offline as ImageError).message).toContain("ENOTFOUND");
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it("refuses a lock that does not fit the schema, naming every field", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "images", "lock.json"), "utf8"));
    lock.node.sha256 = "abc";
    delete lock.debs[0].url;
    try {
      parseImageLock(lock);
      expect.unreachable();
    } catch (e) {
      expect((e as ImageError).code).toBe("LOCK_INVALID");
      expect((e as ImageError).problems.map((p) => p.path).sort()).toEqual(["debs[0].url", "node.sha256"]);
    }
  });
});
