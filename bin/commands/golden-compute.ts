/**
 * `attestctl golden compute` and `golden check`: recompute a golden manifest from a config and its
 * artifacts. `createdAt` is, in order: `--created-at`; the release time fixed in the config (stack
 * `golden.releasedAt`, golden config `createdAt`); `SOURCE_DATE_EPOCH` (seconds, the
 * reproducible-builds convention); the clock. With a stack file it is therefore deterministic.
 * `check` uses the config's release time (else the committed `createdAt`) and the committed
 * `status`, so it depends only on the config and the artifact bytes.
 */
import { compareManifests, renderComparisonMarkdown } from "../../measurements/drift/index.js";
import {
  buildManifest,
  type LaunchDigestCalculator,
  MANIFEST_STATUSES,
  type GoldenManifest,
  type ManifestStatus,
  parseManifest,
  formatManifest,
} from "../../measurements/manifest/index.js";
import { EXIT, type CliIo } from "../io.js";
import { UsageError, output, parse, required, type GoldenDeps } from "./golden-args.js";
import { loadGoldenConfig, readInput, type LoadedGoldenConfig } from "./golden-files.js";

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function calculatorOf(deps: GoldenDeps): LaunchDigestCalculator {
  if (deps.calculator === undefined)
    throw new UsageError("the SNP launch-digest calculator (measurements/snp) is not available in this build");
  return deps.calculator();
}

/** `--created-at`, else the config's release time, else SOURCE_DATE_EPOCH, else now. */
function createdAt(flag: string | undefined, fromConfig: Date | undefined, io: CliIo, deps: GoldenDeps): Date {
  if (flag !== undefined) {
    const date = new Date(flag);
    if (!ISO_UTC.test(flag) || Number.isNaN(date.getTime()))
      throw new UsageError(`--created-at must be an ISO 8601 UTC time (2026-11-02T10:00:00Z), got ${flag}`);
    return date;
  }
  if (fromConfig !== undefined) return fromConfig;
  const epoch = io.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== "") {
    if (!/^[0-9]{1,12}$/.test(epoch))
      throw new UsageError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got ${epoch}`);
    return new Date(Number(epoch) * 1000);
  }
  return (deps.now ?? (() => new Date()))();
}

function compute(config: LoadedGoldenConfig, deps: GoldenDeps, when: Date, status: ManifestStatus): GoldenManifest {
  return buildManifest(config.inputs, {
    createdAt: when,
    status,
    artifactBytes: config.artifactBytes,
    calculator: calculatorOf(deps),
  });
}

/** `golden compute --config FILE [--out FILE] [--created-at ISO] [--status S]`. */
export async function runCompute(argv: readonly string[], io: CliIo, deps: GoldenDeps): Promise<number> {
  const { values } = parse(
    argv,
    {
      config: { type: "string" },
      out: { type: "string" },
      "created-at": { type: "string" },
      status: { type: "string" },
    },
    0,
  );
  const status = (values.status ?? "pending") as ManifestStatus;
  if (!MANIFEST_STATUSES.includes(status))
    throw new UsageError(`--status must be one of ${MANIFEST_STATUSES.join(", ")}, got ${status}`);
  const config = loadGoldenConfig(required(values, "config"), io.cwd);
  const manifest = compute(config, deps, createdAt(values["created-at"], config.createdAt, io, deps), status);
  output(io, values.out, formatManifest(manifest));
  const shapes = Object.entries(manifest.launchShapes)
    .map(([name, s]) => `${name}=${s.measurement}`)
    .join(" ");
  io.stderr(`computed: release ${manifest.release} (${manifest.environment}, ${manifest.status}) ${shapes}\n`);
  return EXIT.ok;
}

/** `golden check --config FILE --manifest FILE`. */
export async function runCheck(argv: readonly string[], io: CliIo, deps: GoldenDeps): Promise<number> {
  const { values } = parse(argv, { config: { type: "string" }, manifest: { type: "string" } }, 0);
  const configPath = required(values, "config");
  const manifestPath = required(values, "manifest");
  const committedText = readInput(manifestPath, io.cwd).toString("utf8");
  const committed = parseManifest(committedText);
  const config = loadGoldenConfig(configPath, io.cwd);
  const fresh = compute(config, deps, config.createdAt ?? new Date(committed.createdAt), committed.status);
  const expected = formatManifest(fresh);
  if (committedText === expected) {
    io.stderr(
      `current: ${manifestPath} matches ${configPath} (${Object.keys(fresh.launchShapes).length} launch shape${Object.keys(fresh.launchShapes).length === 1 ? "" : "s"})\n`,
    );
    return EXIT.ok;
  }
  const comparison = compareManifests(committed, fresh);
  io.stderr(
    `stale: ${manifestPath} does not match ${configPath}; regenerate with:\n  attestctl golden compute --config ${configPath} --created-at ${fresh.createdAt} --status ${committed.status} --out ${manifestPath}\n`,
  );
  io.stdout(
    comparison.changes.length === 0
      ? "Only the formatting differs from the generated form.\n"
      : renderComparisonMarkdown(committed, fresh, comparison),
  );
  return EXIT.failed;
}
