/** Writes `docs/configuration.md`, the stack config reference generated from the schema. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { configurationPage } from "../stacks/config-reference.js";

writeFileSync(join(__dirname, "../docs/configuration.md"), configurationPage());
process.stdout.write("docs/configuration.md written\n");
