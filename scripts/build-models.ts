/**
 * Generates the bundled models and tokenizer into a folder (default `models/`, git-ignored), and the bundled chat
 * model's directory into `models/chat/`, and prints `sha256  name  size` for each file. Byte-reproducible: tests pin
 * these digests.
 *
 *   npx tsx scripts/build-models.ts [--out DIR]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildBundledChatModel, buildBundledModels } from "../runtime/simulators/index.js";

const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const out = resolve(outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1]! : join(__dirname, "..", "models"));
mkdirSync(out, { recursive: true });
for (const f of buildBundledModels()) {
  writeFileSync(join(out, f.name), f.bytes);
  process.stdout.write(`${f.sha256}  ${f.name}  ${f.bytes.length}\n`);
}
mkdirSync(join(out, "chat"), { recursive: true });
for (const f of buildBundledChatModel()) {
  writeFileSync(join(out, "chat", f.name), f.bytes);
  process.stdout.write(`${f.sha256}  chat/${f.name}  ${f.bytes.length}\n`);
}
