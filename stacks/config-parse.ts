/**
 * Pure validation of the raw Pulumi config map into a typed `StackConfig`. No Pulumi runtime here:
 * `stacks/config.ts` feeds it `pulumi.runtime.allConfig()`, tests feed it the stack YAML files.
 */
import type { z } from "zod";
import { problemsFromIssues, sortProblems } from "../core/index.js";
import { CONFIG_NAMESPACE, ConfigError, type ConfigProblem } from "./errors.js";
import { isApiKey } from "../runtime/api-keys/index.js";
import { apiKeySecretNames, checkRules, requiredSecretKeys } from "./config-rules.js";
import { secretStandIn } from "./stack-file.js";
import { stackConfigSchema, stackConfigShape, type StackConfig } from "./config-schema.js";

/** Value a placeholder secret carries in the committed staging/prod files until a team sets its own. */
export const PLACEHOLDER_SECRET = "REPLACE-ME";

/** The result of a successful validation. */
export interface ParsedStackConfig {
  readonly config: StackConfig;
  /** Secret config values by key name (HSM PIN, SSH keys). Wrap them in `pulumi.secret` before use. */
  readonly secrets: ReadonlyMap<string, string>;
}

const STRING_KEYS = new Set(["environment", "release"]);

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

const NOUN: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  bigint: "an integer",
};

/** Our wording for the issues whose schema does not carry its own message. */
function issueMessage(issue: z.core.$ZodRawIssue): string {
  if (issue.input === undefined && issue.code !== "unrecognized_keys") return "required";
  switch (issue.code) {
    case "invalid_type":
      return `expected ${NOUN[issue.expected] ?? issue.expected}, got ${describeType(issue.input)}`;
    case "invalid_value":
      return `must be one of: ${issue.values.map(String).join(", ")}`;
    case "too_small":
      if (issue.origin === "string")
        return Number(issue.minimum) <= 1 ? "must not be empty" : `must be at least ${issue.minimum} characters`;
      if (issue.origin === "array")
        return `must have at least ${issue.minimum} item${Number(issue.minimum) === 1 ? "" : "s"}`;
      return `must be >= ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `must be at most ${issue.maximum} characters`;
      if (issue.origin === "array") return `must have at most ${issue.maximum} items`;
      return `must be <= ${issue.maximum}`;
    case "invalid_format":
      return `invalid format (${issue.format})`;
    case "invalid_key":
      return "invalid key";
    default:
      return "invalid value";
  }
}

function toProblems(error: z.ZodError): ConfigProblem[] {
  return problemsFromIssues(error.issues, { invalidKey: "invalid name (lower-case letters, digits, '.', '_', '-')" });
}

/**
 * Validates the raw config map of a stack.
 *
 * @param raw - Pulumi's config map: keys `confidential-inference:<key>`, values as Pulumi passes
 *   them (objects and arrays JSON-encoded, scalars as plain strings). Keys of other namespaces
 *   (e.g. `kubernetes:context`) are ignored.
 * @param secretKeys - full keys (`confidential-inference:hsmPin`) that Pulumi marked secret.
 * @returns the typed config and the secret values.
 * @throws ConfigError listing every bad key by its path.
 * @example
 * const { config } = parseStackConfig({ "confidential-inference:environment": "dev", ... }, new Set());
 */
export function parseStackConfig(
  raw: Readonly<Record<string, string>>,
  secretKeys: ReadonlySet<string>,
): ParsedStackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const problems: ConfigProblem[] = [];
  const input: Record<string, unknown> = {};
  const extra = new Map<string, string>();
  for (const [fullKey, value] of Object.entries(raw)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if (!(key in stackConfigShape)) {
      extra.set(key, value);
      continue;
    }
    if (STRING_KEYS.has(key)) {
      input[key] = value;
      continue;
    }
    try {
      input[key] = JSON.parse(value);
    } catch {
      problems.push({ path: key, message: "not a structured value (expected a YAML object or list)" });
    }
  }
  const result = stackConfigSchema.safeParse(input, { error: issueMessage });
  if (!result.success) problems.push(...toProblems(result.error));
  if (problems.length > 0 || !result.success) throw new ConfigError(sortProblems(problems));

  const config = result.data;
  problems.push(...checkRules(config));
  const secrets = new Map<string, string>();
  const needed = requiredSecretKeys(config);
  const apiKeys = new Set(apiKeySecretNames(config));
  for (const key of needed) {
    const value = extra.get(key);
    if (value === undefined) {
      problems.push({ path: key, message: `required secret is not set (pulumi config set --secret ${key} <value>)` });
    } else if (!secretKeys.has(`${prefix}${key}`)) {
      problems.push({ path: key, message: `must be stored as a secret (pulumi config set --secret ${key} <value>)` });
    } else if (value === PLACEHOLDER_SECRET || value.length === 0) {
      problems.push({
        path: key,
        message: `placeholder secret: set the real value (pulumi config set --secret ${key} <value>)`,
      });
    } else if (apiKeys.has(key) && !isApiKey(value) && value !== secretStandIn(`${prefix}${key}`)) {
      // (An offline render cannot decrypt secrets: its stand-in is let through, the program never hashes it.)
      problems.push({
        path: key,
        message: `not an API key (cik_<id>_<secret>): attestctl api-key new | pulumi config set --secret ${key}`,
      });
    } else {
      secrets.set(key, value);
    }
  }
  for (const key of extra.keys()) {
    if (!needed.includes(key)) problems.push({ path: key, message: "unknown key" });
  }
  if (problems.length > 0) throw new ConfigError(sortProblems(problems));
  return { config, secrets };
}
