/**
 * `attestctl sandbox up|down|status|infer|tamper`: the whole attested path on this machine
 * (runtime/sandbox). `npm start` runs `sandbox up`. Exit codes: 0 success, 1 failure (the first
 * stderr line is `attestctl sandbox: CODE: message`), 2 usage.
 */
import { relative, resolve } from "node:path";
import {
  TAMPER_MODES,
  type TamperMode,
  isSandboxError,
  DEFAULT_SANDBOX_DIR,
  PROJECT_ROOT,
  sandboxLayout,
  type SandboxLayout,
} from "../../runtime/sandbox/index.js";
import type * as Sandbox from "../../runtime/sandbox/index.js";
import { parseStrictArgs } from "../args.js";
import { EXIT, type CliIo, type Command } from "../io.js";
import { UsageError } from "../errors.js";

type SandboxModule = typeof Sandbox;

const USAGE = `usage: attestctl sandbox up [--ports default|auto] [--images OCI_DIR] [--dir DIR]
       attestctl sandbox down|status [--json] [--dir DIR]
       attestctl sandbox infer TEXT [--dir DIR]
       attestctl sandbox chat TEXT [--model NAME] [--max-tokens N] [--temperature T] [--dir DIR]
       attestctl sandbox tamper --measurement|--debug|--tcb|--unbound-key|--expired|--foreign-root|--reset [--dir DIR]
`;

/** The `--help` text. */
export function sandboxHelp(): string {
  return [
    USAGE,
    "Run the whole attested path on 127.0.0.1 with no SEV-SNP hardware: SoftHSM2 as the HSM, a simulated",
    "SEV-SNP platform signing byte-exact reports, the key broker, the inference runtime and the gateway as",
    "separate processes. The first `up` sets everything up in DIR; later runs reuse it.",
    "",
    "subcommands:",
    "  up        start in the foreground (`npm start`); Ctrl-C stops everything",
    "  down      stop a sandbox running in DIR",
    "  status    show the running sandbox (--json for the state file)",
    "  infer     classify TEXT end to end encrypted: the confidential client verifies the runtime's attestation",
    "            bundle, then sends Oblivious HTTP through the gateway (which cannot read it); prints the OIP response",
    "  chat      one chat turn with the bundled chat model (OpenAI /v1/chat/completions, streamed), end to end",
    "            encrypted like infer: each piece of the answer is printed as soon as it is opened",
    "  tamper    restart the runtime with evidence that does not match (--measurement: another launch digest,",
    "            --debug: a debuggable guest, --tcb: a TCB below the floor) and show the broker's refusal, then",
    "            the client's refusal of the same evidence in the runtime's attestation bundle; bundle-only modes:",
    "            --unbound-key (REPORT_DATA binds another key), --expired (a validity window that has passed),",
    "            --foreign-root (another platform's root); --reset restores genuine evidence",
    "",
    "options:",
    `  --dir DIR         sandbox state directory (default ${DEFAULT_SANDBOX_DIR}, or $ATTESTCTL_SANDBOX_DIR)`,
    "  --ports MODE      default: 8080 (gateway), 8443/9464 (runtime), 8444/8445 (broker), 9465, each falling back",
    "                    to a free port when taken; auto: free ports only",
    "  --images OCI_DIR  (up) run the three services from their OCI images (`attestctl image build --target oci`),",
    "                    unpacked under DIR/images: each runs on its image's own loader, C runtime, Node.js and code",
    "",
    "Environment: ATTESTCTL_SANDBOX_TIMEOUT (seconds a service may take to become ready, default 300),",
    "SOFTHSM2_MODULE (path of libsofthsm2.so when not in a standard place).",
    "Exit status: 0 success, 1 failure, 2 usage error.",
    "",
  ].join("\n");
}

interface Parsed {
  readonly sub: string;
  readonly layout: SandboxLayout;
  readonly positionals: readonly string[];
  readonly values: Record<string, string | boolean | undefined>;
}

function parse(argv: readonly string[], io: CliIo): Parsed | "help" {
  const { values, positionals } = parseStrictArgs(argv, {
    dir: { type: "string" },
    ports: { type: "string" },
    images: { type: "string" },
    model: { type: "string" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
    measurement: { type: "boolean" },
    debug: { type: "boolean" },
    tcb: { type: "boolean" },
    "unbound-key": { type: "boolean" },
    expired: { type: "boolean" },
    "foreign-root": { type: "boolean" },
    reset: { type: "boolean" },
  });
  if (values.help || positionals.length === 0) return "help";
  const [sub = "", ...rest] = positionals;
  const dir =
    typeof values.dir === "string"
      ? resolve(io.cwd, values.dir)
      : io.env.ATTESTCTL_SANDBOX_DIR
        ? resolve(io.cwd, io.env.ATTESTCTL_SANDBOX_DIR)
        : DEFAULT_SANDBOX_DIR;
  return { sub, layout: sandboxLayout(dir), positionals: rest, values };
}

function timeoutMs(io: CliIo): number {
  const s = Number(io.env.ATTESTCTL_SANDBOX_TIMEOUT ?? "300");
  if (!Number.isFinite(s) || s <= 0)
    throw new UsageError(
      `ATTESTCTL_SANDBOX_TIMEOUT must be a positive number of seconds, got ${io.env.ATTESTCTL_SANDBOX_TIMEOUT}`,
    );
  return s * 1000;
}

function tamperMode(values: Parsed["values"]): TamperMode | "reset" {
  const chosen = [...TAMPER_MODES, "reset" as const].filter((m) => values[m] === true);
  if (chosen.length !== 1)
    throw new UsageError(
      "tamper needs exactly one of --measurement, --debug, --tcb, --unbound-key, --expired, --foreign-root, --reset",
    );
  return chosen[0] as TamperMode | "reset";
}

/** How the user runs the CLI from where they are, and the `--dir` flag hints need. */
function cliHint(p: Parsed, io: CliIo): { command: string; dirFlag: string } {
  const command = relative(io.cwd, PROJECT_ROOT) === "" ? "./bin/attestctl" : resolve(PROJECT_ROOT, "bin", "attestctl");
  return { command, dirFlag: p.layout.root === DEFAULT_SANDBOX_DIR ? "" : ` --dir ${p.layout.root}` };
}

/* eslint-disable @typescript-eslint/no-require-imports -- lazy: `status` and `infer` need neither onnx nor the HSM modules */
async function dispatch(p: Parsed, io: CliIo): Promise<number> {
  const out = io.stdout;
  const allowed: Record<string, readonly string[]> = {
    up: ["ports", "images"],
    down: [],
    status: ["json"],
    infer: [],
    chat: ["model", "max-tokens", "temperature"],
    tamper: [...TAMPER_MODES, "reset"],
  };
  const flags = allowed[p.sub];
  if (flags === undefined)
    throw new UsageError(`unknown subcommand "${p.sub}" (up, down, status, infer, chat, tamper)`);
  for (const k of Object.keys(p.values))
    if (k !== "dir" && !flags.includes(k)) throw new UsageError(`--${k} does not apply to sandbox ${p.sub}`);
  if (p.sub !== "infer" && p.sub !== "chat" && p.positionals.length > 0)
    throw new UsageError(`unexpected argument "${p.positionals[0]}"`);
  const control = () => require("../../runtime/sandbox/index.js") as SandboxModule;
  switch (p.sub) {
    case "up": {
      const ports = p.values.ports ?? "default";
      if (ports !== "default" && ports !== "auto") throw new UsageError("--ports must be default or auto");
      const { sandboxUp } = control();
      return sandboxUp({
        layout: p.layout,
        ports,
        env: io.env,
        readyTimeoutMs: timeoutMs(io),
        cli: cliHint(p, io),
        out,
        ...(typeof p.values.images === "string" ? { images: resolve(io.cwd, p.values.images) } : {}),
      });
    }
    case "down":
      await control().sandboxDown(p.layout, timeoutMs(io), out);
      return EXIT.ok;
    case "status":
      return control().sandboxStatus(p.layout, out, p.values.json === true) ? EXIT.ok : EXIT.failed;
    case "infer": {
      if (p.positionals.length !== 1) throw new UsageError("infer takes exactly one TEXT argument (quote it)");
      await control().sandboxInfer(p.layout, p.positionals[0] as string, out);
      return EXIT.ok;
    }
    case "chat": {
      if (p.positionals.length !== 1) throw new UsageError("chat takes exactly one TEXT argument (quote it)");
      const number = (k: string, lo: number, hi: number, integer: boolean) => {
        const v = p.values[k];
        if (v === undefined) return undefined;
        const n = Number(v);
        if (typeof v !== "string" || !Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n)))
          throw new UsageError(`--${k} must be ${integer ? "an integer" : "a number"} from ${lo} to ${hi}`);
        return n;
      };
      const maxTokens = number("max-tokens", 1, 1_000_000, true);
      const temperature = number("temperature", 0, 2, false);
      await control().sandboxChat(p.layout, p.positionals[0] as string, out, {
        ...(typeof p.values.model === "string" ? { model: p.values.model } : {}),
        ...(maxTokens !== undefined ? { maxTokens } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
      });
      return EXIT.ok;
    }
    default: {
      const hint = cliHint(p, io);
      await control().sandboxTamper({
        layout: p.layout,
        mode: tamperMode(p.values),
        timeoutMs: timeoutMs(io) + 60_000,
        undo: `${hint.command} sandbox tamper --reset${hint.dirFlag}`,
        out,
      });
      return EXIT.ok;
    }
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The `sandbox` subcommand. */
export const command: Command = {
  name: "sandbox",
  summary: "run the whole attested path on this machine",
  async run(argv, io) {
    try {
      const p = parse(argv, io);
      if (p === "help") {
        (argv.length === 0 ? io.stderr : io.stdout)(sandboxHelp());
        return argv.length === 0 ? EXIT.usage : EXIT.ok;
      }
      return await dispatch(p, io);
    } catch (e) {
      if (e instanceof UsageError) {
        io.stderr(`${USAGE}attestctl sandbox: error: ${e.message}\n`);
        return EXIT.usage;
      }
      if (isSandboxError(e)) {
        io.stderr(`attestctl sandbox: ${e.code}: ${e.message}\n`);
        return EXIT.failed;
      }
      throw e;
    }
  },
};
