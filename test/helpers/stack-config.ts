/**
 * Stack config test helpers: load a committed stack file, edit one top-level key, and read the exact
 * problem lines a rejected config yields.
 */
import { join } from "node:path";
import { expect } from "vitest";
import { ConfigError } from "../../stacks/errors.js";
import { parseStackConfig } from "../../stacks/config-parse.js";
import { readStackFile } from "../../stacks/stack-file.js";

const STACKS = join(__dirname, "../../stacks");
/** The config namespace of every key. */
export const NS = "confidential-inference";

/** Reads a committed stack file. */
export function load(env: string): { raw: Record<string, string>; secretKeys: Set<string> } {
  return readStackFile(join(STACKS, `Pulumi.${env}.yaml`));
}

/** Parses, expecting failure, and returns the exact problem lines. */
export function problems(raw: Record<string, string>, secretKeys: Set<string>): string[] {
  try {
    parseStackConfig(raw, secretKeys);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("CONFIG_INVALID");
    return (error as ConfigError).problems.map((p) => `${NS}:${p.path}: ${p.message}`);
  }
  throw new Error("expected the config to be rejected");
}

/** Returns a copy of a stack's raw config with one top-level key edited as a JSON value. */
export function edit(
  env: string,
  key: string,
  change: (value: any) => unknown,
): { raw: Record<string, string>; secretKeys: Set<string> } {
  const { raw, secretKeys } = load(env);
  const full = `${NS}:${key}`;
  const current = raw[full];
  const parsed =
    current === undefined ? undefined : key === "environment" || key === "release" ? current : JSON.parse(current);
  const next = change(parsed);
  if (next === undefined) delete raw[full];
  else raw[full] = typeof next === "string" ? next : JSON.stringify(next);
  return { raw: { ...raw }, secretKeys };
}
