/**
 * `attestctl golden`: compute, check, diff, sign and verify golden manifests.
 * Exit codes: 0 ok, 1 failed (stale, invalid, refused, comparison errors), 2 usage.
 */
import { compareManifests, renderComparisonMarkdown } from "../../measurements/drift/index.js";
import {
  ManifestError,
  formatManifest,
  keyThumbprint,
  signManifest,
  softwareSigner,
  snpLaunchDigest,
  parseManifest,
  verifySignedManifest,
} from "../../measurements/manifest/index.js";
import { ConfigError } from "../../stacks/index.js";
import { EXIT, type CliIo, type Command } from "../io.js";
import { runCheck, runCompute } from "./golden-compute.js";
import { UsageError, output, parse, required, type GoldenDeps } from "./golden-args.js";
import { FileError, readInput, readKey } from "./golden-files.js";

/** Usage of `attestctl golden`. */
export const GOLDEN_USAGE = `usage: attestctl golden <subcommand> [options]

subcommands:
  compute --config FILE [--out FILE] [--created-at ISO-8601] [--status active|pending|retired]
          compute the golden manifest of a stack file (stacks/Pulumi.<env>.yaml) or golden config
  check   --config FILE --manifest FILE
          recompute and fail (exit 1, with the diff) when the committed manifest is stale
  diff    OLD NEW [--format markdown|json]
          compare two manifests (Markdown for a PR comment); exit 1 when the comparison has errors
  sign    --key PEM|JWK [--kid ID] [--out FILE] MANIFEST
          sign a manifest as a compact JWS (ES384); the default kid is the key's RFC 7638 thumbprint
  verify  --key PUBLIC [--kid ID] MANIFEST.jws
          verify a signed manifest with a pinned public key; prints the manifest

exit codes: 0 ok, 1 failed (stale, invalid, refused), 2 usage
`;

async function runDiff(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: "string" } }, 2);
  const format = values.format ?? "markdown";
  if (format !== "markdown" && format !== "json")
    throw new UsageError(`--format must be markdown or json, got ${format}`);
  const [oldPath, newPath] = positionals as [string, string];
  const before = parseManifest(readInput(oldPath, io.cwd));
  const after = parseManifest(readInput(newPath, io.cwd));
  const comparison = compareManifests(before, after);
  io.stdout(
    format === "json"
      ? `${JSON.stringify(comparison, null, 2)}\n`
      : renderComparisonMarkdown(before, after, comparison),
  );
  return comparison.errors.length > 0 ? EXIT.failed : EXIT.ok;
}

async function runSign(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { key: { type: "string" }, kid: { type: "string" }, out: { type: "string" } },
    1,
  );
  const key = readKey(required(values, "key"), io.cwd, "private");
  const manifest = parseManifest(readInput(positionals[0] as string, io.cwd));
  const kid = values.kid ?? (await keyThumbprint(key));
  const jws = await signManifest(manifest, softwareSigner(key, kid));
  output(io, values.out, `${jws}\n`);
  io.stderr(`signed: release ${manifest.release} (${manifest.environment}, ${manifest.status}) with kid ${kid}\n`);
  return EXIT.ok;
}

async function runVerify(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, { key: { type: "string" }, kid: { type: "string" } }, 1);
  const key = readKey(required(values, "key"), io.cwd, "public");
  const jws = readInput(positionals[0] as string, io.cwd)
    .toString("utf8")
    .trim();
  const manifest = await verifySignedManifest(jws, key, values.kid === undefined ? {} : { kid: values.kid });
  const kid = (JSON.parse(Buffer.from(jws.split(".")[0] as string, "base64url").toString("utf8")) as { kid: string })
    .kid;
  io.stdout(formatManifest(manifest));
  io.stderr(
    `verified: release ${manifest.release} (${manifest.environment}, ${manifest.status}) signed by kid ${kid}\n`,
  );
  return EXIT.ok;
}

/** Maps an error to its exit code and stderr text. */
function report(sub: string, error: unknown, io: CliIo): number {
  const prefix = `attestctl golden ${sub}`;
  if (error instanceof UsageError) {
    io.stderr(`${prefix}: ${error.message}\n\n${GOLDEN_USAGE}`);
    return EXIT.usage;
  }
  if (error instanceof ManifestError || error instanceof ConfigError)
    io.stderr(`${prefix}: ${error.code}: ${error.message}\n`);
  else if (error instanceof FileError) io.stderr(`${prefix}: ${error.message}\n`);
  else if (error instanceof TypeError) io.stderr(`${prefix}: ${error.message}\n`);
  else throw error;
  return EXIT.failed;
}

/**
 * Builds the `golden` command with its dependencies.
 * @example createGoldenCommand({ calculator: () => snpLaunchDigest }).run(["diff", "a.json", "b.json"], io)
 */
export function createGoldenCommand(deps: GoldenDeps): Command {
  return {
    name: "golden",
    summary: "compute, check, diff, sign and verify golden manifests",
    async run(argv, io) {
      const [sub, ...rest] = argv;
      if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
        (sub === undefined ? io.stderr : io.stdout)(GOLDEN_USAGE);
        return sub === undefined ? EXIT.usage : EXIT.ok;
      }
      try {
        switch (sub) {
          case "compute":
            return await runCompute(rest, io, deps);
          case "check":
            return await runCheck(rest, io, deps);
          case "diff":
            return await runDiff(rest, io);
          case "sign":
            return await runSign(rest, io);
          case "verify":
            return await runVerify(rest, io);
          default:
            io.stderr(`attestctl golden: unknown subcommand "${sub}"\n\n${GOLDEN_USAGE}`);
            return EXIT.usage;
        }
      } catch (error) {
        return report(sub, error, io);
      }
    },
  };
}

/** The `golden` subcommand, computing measurements with `measurements/snp`. */
export const command: Command = createGoldenCommand({ calculator: () => snpLaunchDigest });
