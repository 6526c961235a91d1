/**
 * Regenerates `stacks/rendered/<stack>.json` and `.md` for every `stacks/Pulumi.<stack>.yaml`
 * (`npx tsx scripts/render-stacks.ts`). `npm test` fails when a committed rendering is stale.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderStackFile } from "../bin/commands/render.js";
import { renderedMarkdown } from "../stacks/render/markdown.js";

async function main(): Promise<void> {
  // The render worker and the program run compiled (dist/): rebuild first when the sources are newer.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- bin/dist.cjs is plain CommonJS
  if (!(require("../bin/dist.cjs") as { ensureDist(who: string): boolean }).ensureDist("render-stacks"))
    throw new Error("dist/ could not be built");
  const dir = join(__dirname, "../stacks");
  const stacks = readdirSync(dir)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .map((f) => f.split(".")[1] ?? "");
  await Promise.all(
    stacks.map(async (stack) => {
      const state = await renderStackFile(stack, join(dir, `Pulumi.${stack}.yaml`));
      writeFileSync(join(dir, "rendered", `${stack}.json`), `${JSON.stringify(state, null, 2)}\n`);
      writeFileSync(join(dir, "rendered", `${stack}.md`), renderedMarkdown(state));
      process.stdout.write(`stacks/rendered/${stack}.json: ${state.resourceCount} resources\n`);
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
});
