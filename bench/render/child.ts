/**
 * One timed render in a fresh process (Pulumi's runtime state is global): renders CONFIG_FILE as
 * stack `bench` and prints `{"ms","cpuMs","resources","bytes"}`: wall and CPU (user + system)
 * milliseconds from installing the mocks to the last registration, including loading the program
 * (the compiled one, dist/stacks/main.js, as `pulumi up` runs it; the harness itself runs through tsx).
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { configureRenderProcess, renderProgram } from "../../stacks/render/render.js";
import { readStackFile } from "../../stacks/stack-file.js";

configureRenderProcess();

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: child.ts CONFIG_FILE");
  const { raw, secretKeys } = readStackFile(file);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const state = await renderProgram({
    project: "confidential-inference",
    stack: "bench",
    config: raw,
    secretKeys,
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load after the mocks are installed
    load: () => require(join(__dirname, "../../dist/stacks/main.js")) as Record<string, unknown>,
  });
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  process.stdout.write(
    `${JSON.stringify({ ms, cpuMs, resources: state.resourceCount, bytes: JSON.stringify(state).length })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
});
