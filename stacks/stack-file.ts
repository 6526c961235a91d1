/**
 * Reads a `stacks/Pulumi.<env>.yaml` file into the config map shape the Pulumi engine hands to the
 * program (`namespace:key` -> string, structured values JSON-encoded), for tests, `attestctl
 * render` and the sandbox. `secure:` values cannot be decrypted here: each is replaced by a stand-in
 * string and its key is reported as secret, exactly as the engine would mark it.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";

/** The config map of one stack file. */
export interface StackFileConfig {
  /** Every config key (`confidential-inference:hosts`, `kubernetes:context`, ...) to its engine string. */
  readonly raw: Record<string, string>;
  /** Keys whose value was `secure:` in the file. */
  readonly secretKeys: Set<string>;
}

/** Stand-in used for an encrypted value: recognisable, never a real secret. */
export function secretStandIn(key: string): string {
  return `<secret ${key}>`;
}

/** Converts the parsed YAML document of a stack file to the engine's config map. */
export function stackConfigFromDocument(doc: unknown): StackFileConfig {
  const raw: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const config = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  for (const [key, value] of Object.entries(config)) {
    if (
      value !== null &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      "secure" in value &&
      Object.keys(value).length === 1
    ) {
      raw[key] = secretStandIn(key);
      secretKeys.add(key);
    } else if (typeof value === "string") {
      raw[key] = value;
    } else {
      raw[key] = JSON.stringify(value);
    }
  }
  return { raw, secretKeys };
}

/** Reads and converts a stack file. */
export function readStackFile(path: string): StackFileConfig {
  return stackConfigFromDocument(parse(readFileSync(path, "utf8")));
}
