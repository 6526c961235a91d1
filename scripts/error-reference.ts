/**
 * Regenerates `docs/errors.md` from every module's error codes and meanings (`npx tsx scripts/error-reference.ts`).
 * `npm test` fails when the committed copy is stale.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorReference } from "./error-catalogue.js";

const path = join(__dirname, "../docs/errors.md");
writeFileSync(path, errorReference());
process.stdout.write(`docs/errors.md: written\n`);
