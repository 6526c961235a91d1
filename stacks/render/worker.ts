/**
 * Child-process entry of `attestctl render`: renders one stack file's desired state and prints it
 * as JSON on stdout. A fresh process keeps Pulumi's global runtime state clean for every render.
 * Usage: node --require tsx/cjs stacks/render/worker.ts STACK CONFIG_FILE
 * Exit 0 rendered, 1 the program failed (message on stderr, e.g. the config errors), 2 usage.
 */
import { readStackFile } from "../stack-file.js";
import { configureRenderProcess, renderProgram } from "./render.js";

/** The Pulumi project name (Pulumi.yaml). */
const PROJECT = "confidential-inference";

configureRenderProcess();

async function main(argv: readonly string[]): Promise<number> {
  const [stack, configFile] = argv;
  if (stack === undefined || configFile === undefined) {
    process.stderr.write("usage: worker.ts STACK CONFIG_FILE\n");
    return 2;
  }
  const { raw, secretKeys } = readStackFile(configFile);
  const state = await renderProgram({
    project: PROJECT,
    stack,
    config: raw,
    secretKeys,
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the mocks are installed
    load: () => require("../main.js") as Record<string, unknown>,
  });
  process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
