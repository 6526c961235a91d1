/**
 * Pins the services' OCI image digests in every stack config: builds the images (`images/`, the
 * same build as `attestctl image build --target oci`), then rewrites each `<registry>/<service>@sha256:...`
 * reference in stacks/Pulumi.*.yaml to this build's digest, keeping each stack's registry. Run it after
 * changing a service's code or images/lock.json, then `npx tsx scripts/render-stacks.ts`;
 * test/images/build.test.ts fails until the pins match.
 *
 *   npx tsx scripts/pin-images.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImages, SERVICE_IMAGES } from "../images/index.js";

const ROOT = join(__dirname, "..");

async function main(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), "ci-pin-images-"));
  try {
    const built = await buildImages({ root: ROOT, out });
    const stacks = readdirSync(join(ROOT, "stacks")).filter((f) => /^Pulumi\.[\w-]+\.yaml$/.test(f));
    for (const f of stacks) {
      const file = join(ROOT, "stacks", f);
      let text = readFileSync(file, "utf8");
      for (const name of SERVICE_IMAGES) {
        const digest = built.images.find((i) => i.name === name)!.digest;
        text = text.replace(new RegExp(`(/${name})@sha256:[0-9a-f]{64}`, "g"), `$1@${digest}`);
      }
      writeFileSync(file, text);
    }
    for (const i of built.images) process.stdout.write(`${i.name.padEnd(9)} ${i.digest}\n`);
    process.stdout.write(`pinned in ${stacks.join(", ")}; now run: npx tsx scripts/render-stacks.ts\n`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`pin-images: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
