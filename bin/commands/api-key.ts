/**
 * `attestctl api-key new [--client NAME]`: a new gateway API key (`cik_<12 hex id>_<43 base64url>`,
 * 256 random bits) on stdout, ready to pipe into `pulumi config set --secret <name>`; on stderr the
 * record the gateway stores (id and SHA-256 of the secret part, never the key). Exit 0, 2 usage.
 */
import { parseArgs } from "node:util";
import { generateApiKey } from "../../runtime/api-keys/index.js";
import { EXIT, type CliIo, type Command } from "../io.js";

/** The `--help` text. */
export const API_KEY_USAGE = `usage: attestctl api-key new [--client NAME]

Generate a gateway API key: cik_<12 hex id>_<43 base64url secret> (256 random bits).
The key goes to stdout, nothing else: store it as a secret of the stack, named in
gateway.clients[].apiKeySecrets, and hand it to the client once:

  attestctl api-key new | pulumi config set --secret gatewayApiKeySearch

The gateway receives only the key's id and the SHA-256 of its secret part (printed on stderr).
  --client NAME   client name shown in the stderr record (default: client)
`;

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: { values: { client?: string; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { client: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    io.stderr(`attestctl api-key: ${(error as Error).message}\n\n${API_KEY_USAGE}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.stdout(API_KEY_USAGE);
    return EXIT.ok;
  }
  if (parsed.positionals.length !== 1 || parsed.positionals[0] !== "new") {
    io.stderr(`attestctl api-key: expected the subcommand new\n\n${API_KEY_USAGE}`);
    return EXIT.usage;
  }
  const { apiKey, record } = generateApiKey(parsed.values.client ?? "client");
  io.stdout(`${apiKey}\n`);
  io.stderr(`${JSON.stringify(record)}\n`);
  return EXIT.ok;
}

/** The `api-key` subcommand. */
export const command: Command = {
  name: "api-key",
  summary: "generate a gateway API key (stored as a stack secret)",
  run,
};
