/**
 * `attestctl proxy`: the local end of end-to-end encryption (runtime/client). A plain HTTP listener
 * on 127.0.0.1 for curl and existing SDKs; each request goes to a runtime only after its attestation
 * bundle verified, encrypted to the runtime's attested key (Oblivious HTTP), relayed by the gateway.
 * Exit codes: 0 stopped (or `--check` passed), 1 failure (`--check` refused: the first stderr line is
 * `attestctl proxy: CODE: message`), 2 usage.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type * as Client from "../../runtime/client/index.js";
import type * as Sandbox from "../../runtime/sandbox/index.js";
import { EXIT, type CliIo, type Command } from "../io.js";

const USAGE = `usage: attestctl proxy --sandbox [DIR] [--listen HOST:PORT] [--fresh] [--chunked] [--check] [--verbose]
       attestctl proxy --gateway URL --trust FILE --model NAME [--cacert FILE] [--cert FILE --key FILE | --api-key-file FILE]
                       [--listen HOST:PORT] [--fresh] [--chunked] [--check] [--verbose]
`;

/** The port tried first when `--listen` is not given (a free port when taken). */
const DEFAULT_PORT = 8088;

/** The `--help` text. */
export function proxyHelp(): string {
  return [
    USAGE,
    "A local HTTP listener (127.0.0.1) that sends every request end to end encrypted to an attested runtime:",
    "it fetches the runtime's attestation bundle through the gateway, verifies it with this project's verifier",
    "(pinned roots, the release key of the golden manifest, the attestation policy: measurement in an active",
    "manifest, no debug, TCB floors, REPORT_DATA binding of the key, validity), then encrypts each request",
    "with Oblivious HTTP (RFC 9458; chunked OHTTP for streams). The gateway relays bytes it cannot read.",
    "A refused runtime gets nothing: the proxy answers 502 {error, code} naming the check that failed.",
    "Point curl or an SDK at the printed URL as if it were the runtime (/v2/models/..., /v1/...).",
    "",
    "options:",
    "  --sandbox [DIR]     configure from a running sandbox (default ./.sandbox or $ATTESTCTL_SANDBOX_DIR): its",
    "                      gateway, client certificate, simulated root, release key and TCB floor",
    "  --gateway URL       the gateway (https://host:port)",
    "  --trust FILE        trust policy JSON: {attestation, releaseKeys, simulatedRoot} (docs/confidential-requests.md)",
    "  --model NAME        model for requests whose path and body name none (sandbox: its model)",
    "  --cacert FILE       CA bundle for the gateway's certificate (default: the system's)",
    "  --cert/--key FILE   client certificate for the gateway",
    "  --api-key-file FILE API key for the gateway (or $ATTESTCTL_API_KEY)",
    `  --listen HOST:PORT  listen address (default 127.0.0.1:${DEFAULT_PORT}, a free port when taken)`,
    "  --fresh             verify bundles bound to a fresh nonce of this proxy (one report per runtime)",
    "  --chunked           use chunked OHTTP for every request (default: streaming requests only)",
    "  --check             verify the model's runtimes, print the verdict and exit (0 accepted, 1 refused)",
    "  --verbose           one metadata line per request on stderr (never contents)",
    "",
    "Exit status: 0 stopped (Ctrl-C) or --check accepted, 1 failure or refusal, 2 usage error.",
    "",
  ].join("\n");
}

class UsageError extends Error {}

interface Settings {
  readonly gateway: Client.HttpGatewayOptions;
  readonly trust: Client.ClientTrust;
  readonly model: string | undefined;
}

/** Splits `--sandbox [DIR]` (an optional value) from the rest. */
function sandboxArg(argv: readonly string[]): { rest: string[]; sandbox: string | true | undefined } {
  const rest: string[] = [];
  let sandbox: string | true | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== "--sandbox") rest.push(argv[i]!);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-")) sandbox = argv[++i]!;
    else sandbox = true;
  }
  return { rest, sandbox };
}

/* eslint-disable @typescript-eslint/no-require-imports -- lazy: --help needs neither the verifier nor the sandbox */
function settings(
  values: Record<string, string | boolean | undefined>,
  sandbox: string | true | undefined,
  io: CliIo,
): Settings {
  const client = require("../../runtime/client/index.js") as typeof Client;
  const read = (f: string) => readFileSync(resolve(io.cwd, f), "utf8");
  if (sandbox !== undefined) {
    for (const k of ["gateway", "trust", "cacert", "cert", "key", "api-key-file"])
      if (values[k] !== undefined) throw new UsageError(`--${k} does not apply with --sandbox`);
    const s = require("../../runtime/sandbox/index.js") as typeof Sandbox;
    const dir =
      sandbox === true
        ? io.env.ATTESTCTL_SANDBOX_DIR
          ? resolve(io.cwd, io.env.ATTESTCTL_SANDBOX_DIR)
          : s.DEFAULT_SANDBOX_DIR
        : resolve(io.cwd, sandbox);
    const c = s.sandboxClientConfig(s.sandboxLayout(dir));
    return {
      gateway: { url: c.gatewayUrl, ...c.tls },
      trust: c.trust,
      model: typeof values.model === "string" ? values.model : c.model,
    };
  }
  if (typeof values.gateway !== "string" || typeof values.trust !== "string")
    throw new UsageError("give --sandbox [DIR], or --gateway URL and --trust FILE");
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError("--cert and --key go together");
  const apiKey =
    typeof values["api-key-file"] === "string" ? read(values["api-key-file"]).trim() : io.env.ATTESTCTL_API_KEY;
  let trustJson: unknown;
  try {
    trustJson = JSON.parse(read(values.trust));
  } catch (e) {
    throw new client.ClientError("CLIENT_CONFIG_INVALID", `--trust ${values.trust}: ${(e as Error).message}`);
  }
  return {
    gateway: {
      url: values.gateway,
      ...(typeof values.cacert === "string" ? { ca: read(values.cacert) } : {}),
      ...(typeof values.cert === "string" ? { cert: read(values.cert), key: read(values.key as string) } : {}),
      ...(apiKey ? { apiKey } : {}),
    },
    trust: client.parseClientTrust(trustJson),
    model: typeof values.model === "string" ? values.model : undefined,
  };
}

function listenAddress(value: string | boolean | undefined): { host: string; port: number; fixed: boolean } {
  if (typeof value !== "string") return { host: "127.0.0.1", port: DEFAULT_PORT, fixed: false };
  const m = /^(.+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be HOST:PORT, got ${value}`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port, fixed: true };
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { rest, sandbox } = sandboxArg(argv);
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      gateway: { type: "string" },
      trust: { type: "string" },
      model: { type: "string" },
      cacert: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      "api-key-file": { type: "string" },
      listen: { type: "string" },
      fresh: { type: "boolean" },
      chunked: { type: "boolean" },
      check: { type: "boolean" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.stdout(proxyHelp());
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const listen = listenAddress(values.listen);
  const s = settings(values, sandbox, io);
  const client = require("../../runtime/client/index.js") as typeof Client;
  const confidential = new client.ConfidentialClient({
    transport: client.httpGateway(s.gateway),
    trust: s.trust,
    freshNonce: values.fresh === true,
  });
  if (s.model !== undefined) {
    try {
      for (const r of await confidential.runtimes(s.model))
        io.stderr(
          `proxy: verified ${s.model} runtime ${r.id}: measurement ${r.measurement.slice(0, 16)}…, release ${r.release ?? "-"}, ${r.product}; key valid until ${r.notAfter.toISOString()}\n`,
        );
    } catch (e) {
      if (!client.isClientError(e)) throw e;
      if (values.check) {
        confidential.close();
        throw e;
      }
      io.stderr(`proxy: the runtimes of ${s.model} are refused for now (${e.code}: ${e.message}); requests get 502\n`);
    }
  } else if (values.check) throw new UsageError("--check needs a model (--model NAME)");
  if (values.check) {
    confidential.close();
    return EXIT.ok;
  }
  const start = (port: number) =>
    client.startProxy({
      client: confidential,
      host: listen.host,
      port,
      ...(s.model !== undefined ? { defaultModel: s.model } : {}),
      alwaysChunked: values.chunked === true,
      ...(values.verbose
        ? { log: (f: Readonly<Record<string, string | number>>) => io.stderr(`${JSON.stringify(f)}\n`) }
        : {}),
    });
  const proxy = await start(listen.port).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EADDRINUSE" || listen.fixed) throw e;
    return start(0);
  });
  io.stdout(`${proxy.url}\n`);
  io.stderr(`proxy: listening on ${proxy.url} -> gateway ${s.gateway.url} (Ctrl-C stops)\n`);
  await new Promise<void>((done) => {
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await proxy.close();
  confidential.close();
  return EXIT.ok;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The `proxy` subcommand. */
export const command: Command = {
  name: "proxy",
  summary: "local proxy: verify a runtime's attestation, then send end-to-end encrypted requests",
  async run(argv, io) {
    try {
      return await run(argv, io);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (
        e instanceof UsageError ||
        code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ||
        code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE"
      ) {
        io.stderr(`${USAGE}attestctl proxy: error: ${(e as Error).message}\n`);
        return EXIT.usage;
      }
      if (e instanceof Error && typeof code === "string" && /^[A-Z][A-Z_]+$/.test(code)) {
        io.stderr(`attestctl proxy: ${code}: ${e.message}\n`);
        return EXIT.failed;
      }
      throw e;
    }
  },
};
