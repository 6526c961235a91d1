/**
 * Child-process entry of `attestctl render`: renders one stack file's desired state and prints it
 * as JSON on stdout. A fresh process keeps Pulumi's global runtime state clean for every render.
 * The program is loaded exactly as Pulumi's Node.js host loads it for `pulumi up`: `require` of the
 * `main` that Pulumi.yaml names (the compiled program), so a render reviews what a deploy would run.
 * Usage: node dist/stacks/render/worker.js STACK CONFIG_FILE (compiled by `npm run build`)
 * Exit 0 rendered, 1 the program failed (message on stderr, e.g. the config errors), 2 usage.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { readStackFile } from "../stack-file.js";
import { configureRenderProcess, renderProgram } from "./render.js";

/** The Pulumi project name (Pulumi.yaml). */
const PROJECT = "confidential-inference";
/** The project root (where Pulumi.yaml lives). */
const ROOT = join(__dirname, "../..");

/** The program entry Pulumi.yaml names (`main`), as an absolute path. */
export function programEntry(): string {
  const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { main?: unknown };
  if (typeof project.main !== "string") throw new Error("Pulumi.yaml: main is not set");
  return join(ROOT, project.main);
}

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
    load: () => require(programEntry()) as Record<string, unknown>,
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
