/**
 * Unpacks an image of an OCI layout into a directory, layer by layer, as a container runtime would
 * (without one): files with their modes, directories, symbolic links. Used to prove the images run
 * (test/e2e/images.test.ts, `attestctl sandbox up --images`).
 */
import { chmodSync, lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ImageError } from "./errors.js";
import { readBlob, readLayout } from "./oci.js";
import { readTar } from "./untar.js";

/** Unpacks image `name` of the layout at `layout` into `dest` (replaced); returns `dest`. */
export function unpackImage(layout: string, name: string, dest: string): string {
  const image = readLayout(layout).find((i) => i.name === name);
  if (image === undefined) throw new ImageError("LAYOUT_INVALID", `OCI layout ${layout}: no image named ${name}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  for (const digest of image.layers) {
    for (const e of readTar(readBlob(layout, digest))) {
      if (e.path.split("/").some((p) => p.startsWith(".wh.")))
        throw new ImageError("LAYOUT_INVALID", `OCI layout ${layout}: whiteout ${e.path} (these images never delete)`);
      const to = join(dest, e.path);
      const existing = lstatSync(to, { throwIfNoEntry: false });
      if (existing && !(e.type === "dir" && existing.isDirectory())) rmSync(to, { recursive: true, force: true });
      mkdirSync(dirname(to), { recursive: true });
      if (e.type === "dir") {
        mkdirSync(to, { recursive: true });
        chmodSync(to, e.mode);
      } else if (e.type === "symlink") symlinkSync(e.target, to);
      else {
        writeFileSync(to, e.data);
        chmodSync(to, e.mode);
      }
    }
  }
  return dest;
}
