/** Writes `docs/cli.md` (the `attestctl` reference) from the commands' own `--help` texts. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliReferencePage } from "./docs/cli-page.js";

cliReferencePage().then(
  (page) => {
    writeFileSync(join(__dirname, "../docs/cli.md"), page);
    process.stdout.write("docs/cli.md written\n");
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
