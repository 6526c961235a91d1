/**
 * `attestctl render --stack NAME [--config FILE] [--format json|markdown]`: the desired state of a
 * stack, rendered offline. The Pulumi program runs under the SDK's mocks in a child process (so
 * the SDK's global state is fresh every time), in preview mode: every resource with its type,
 * name, parent and inputs (secrets as `[secret]`, deploy-time values as `[unknown]`), and the stack
 * outputs. JSON on stdout (the form committed under `stacks/rendered/`), or a Markdown summary.
 * Exit codes: 0 rendered, 1 the program failed (e.g. invalid config, printed on stderr), 2 usage.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type RenderedState, renderedMarkdown } from "../../stacks/index.js";
import { EXIT, type CliIo, type Command } from "../io.js";

/** Project root (where `Pulumi.yaml` and `stacks/` live). */
const ROOT = join(__dirname, "../..");
/** The compiled worker (`npm run build` bundles stacks/render/worker.ts with the program). */
const WORKER = join(ROOT, "dist/stacks/render/worker.js");

/** Usage of `attestctl render`. */
export const RENDER_USAGE = `usage: attestctl render --stack NAME [--config FILE] [--format json|markdown]

Render a stack's desired state offline (Pulumi mocks, no engine, no credentials).
  --stack NAME      stack name; its config is stacks/Pulumi.NAME.yaml unless --config is given
  --config FILE     a stack config file (Pulumi.<stack>.yaml format)
  --format FORMAT   json (default; the form committed under stacks/rendered/) or markdown
`;

/**
 * Renders one stack file in a child process and returns the parsed state.
 * @throws Error with the program's stderr when it fails (exit 1 of the worker).
 */
export function renderStackFile(stack: string, configFile: string): Promise<RenderedState> {
  return new Promise((resolveState, reject) => {
    execFile(
      process.execPath,
      [WORKER, stack, configFile],
      { cwd: ROOT, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error((stderr || error.message).trimEnd()));
        else resolveState(JSON.parse(stdout) as RenderedState);
      },
    );
  });
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let values: { stack?: string; config?: string; format?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stack: { type: "string" },
        config: { type: "string" },
        format: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`attestctl render: ${(error as Error).message}\n\n${RENDER_USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout(RENDER_USAGE);
    return EXIT.ok;
  }
  const format = values.format ?? "json";
  if (
    values.stack === undefined ||
    !/^[A-Za-z0-9._-]+$/.test(values.stack) ||
    (format !== "json" && format !== "markdown")
  ) {
    io.stderr(
      `attestctl render: ${values.stack === undefined ? "--stack is required" : format !== "json" && format !== "markdown" ? `--format must be json or markdown, got ${format}` : `invalid stack name ${values.stack}`}\n\n${RENDER_USAGE}`,
    );
    return EXIT.usage;
  }
  const configFile =
    values.config === undefined
      ? join(ROOT, "stacks", `Pulumi.${values.stack}.yaml`)
      : isAbsolute(values.config)
        ? values.config
        : resolve(io.cwd, values.config);
  if (!existsSync(configFile)) {
    io.stderr(`attestctl render: no stack config ${values.config ?? `stacks/Pulumi.${values.stack}.yaml`}\n`);
    return EXIT.usage;
  }
  let state: RenderedState;
  try {
    state = await renderStackFile(values.stack, configFile);
  } catch (error) {
    io.stderr(`attestctl render: stack ${values.stack}: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  io.stdout(format === "json" ? `${JSON.stringify(state, null, 2)}\n` : renderedMarkdown(state));
  return EXIT.ok;
}

/** The `render` subcommand. */
export const command: Command = {
  name: "render",
  summary: "render a stack's desired state offline (Pulumi mocks)",
  run,
};
