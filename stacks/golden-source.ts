/**
 * Reads a golden config from disk: a Pulumi stack file (`stacks/Pulumi.<env>.yaml`) or the dedicated
 * golden format, with the bytes of every artifact that has a path. The file adapter beside the pure
 * `goldenSourceFromStackConfig` (golden-inputs.ts) and `parseGoldenConfig` (measurements/manifest).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { parseGoldenConfig, type GoldenSource } from "../measurements/manifest/index.js";
import { parseStackConfig } from "./config-parse.js";
import { FileError } from "./errors.js";
import { goldenSourceFromStackConfig } from "./golden-inputs.js";
import { stackConfigFromDocument } from "./stack-file.js";

/** A golden config read from disk, with the bytes of every artifact that has a path. */
export interface LoadedGoldenConfig extends GoldenSource {
  /** `stack` for `stacks/Pulumi.<env>.yaml`, `golden` for the dedicated format. */
  readonly format: "stack" | "golden";
  /** Directory artifact paths are relative to. */
  readonly root: string;
  readonly artifactBytes: ReadonlyMap<string, Uint8Array>;
}

/** Reads a file, naming it in the error. */
export function readInput(path: string, cwd: string): Buffer {
  try {
    return readFileSync(resolve(cwd, path));
  } catch (cause) {
    throw new FileError(`cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
      cause,
    });
  }
}

/** The project root of a stack file: the nearest directory upwards holding `Pulumi.yaml`. */
function projectRoot(configPath: string): string {
  let dir = dirname(configPath);
  for (;;) {
    if (existsSync(join(dir, "Pulumi.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return dirname(configPath);
    dir = parent;
  }
}

/**
 * Loads a golden config. A YAML document with a top-level `config:` map is a Pulumi stack file
 * (validated in full by `parseStackConfig`; `secure:` values become stand-ins; artifact paths
 * are relative to the project root, the directory holding `Pulumi.yaml`); anything else is the
 * dedicated golden format (paths relative to the config file).
 * @throws FileError, ConfigError (stack file) or ManifestError `GOLDEN_CONFIG_INVALID`.
 */
export function loadGoldenConfig(path: string, cwd: string): LoadedGoldenConfig {
  const absolute = resolve(cwd, path);
  let document: unknown;
  try {
    document = parseYaml(readInput(path, cwd).toString("utf8"));
  } catch (cause) {
    if (cause instanceof FileError) throw cause;
    throw new FileError(`cannot parse ${path} as YAML or JSON: ${(cause as Error).message}`, { cause });
  }
  const isStack = document !== null && typeof document === "object" && !Array.isArray(document) && "config" in document;
  let source: GoldenSource;
  let root: string;
  if (isStack) {
    const { raw, secretKeys } = stackConfigFromDocument(document);
    source = goldenSourceFromStackConfig(parseStackConfig(raw, secretKeys).config);
    root = projectRoot(absolute);
  } else {
    source = parseGoldenConfig(document);
    root = dirname(absolute);
  }
  const artifactBytes = new Map<string, Uint8Array>();
  for (const [name, artifactPath] of Object.entries(source.paths).sort(([a], [b]) => (a < b ? -1 : 1))) {
    artifactBytes.set(name, readInput(resolve(root, artifactPath), cwd));
  }
  return { ...source, format: isStack ? "stack" : "golden", root, artifactBytes };
}
