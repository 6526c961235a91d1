/**
 * The only module that reads `pulumi.Config`: it validates the whole stack configuration before
 * any resource is created and hands typed values (and secrets as `pulumi.Output`) to the program.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE } from "./errors.js";
import { parseStackConfig } from "./config-parse.js";
import type { StackConfig } from "./config-schema.js";

/** The typed stack configuration plus its secrets, already wrapped as Pulumi secrets. */
export interface LoadedStackConfig {
  readonly config: StackConfig;
  /** Secret outputs by config key (`hsmPin`, `sshPrivateKey`, ...). */
  readonly secrets: ReadonlyMap<string, pulumi.Output<string>>;
}

interface ConfigRuntime {
  allConfig(): Record<string, string>;
  isConfigSecret?: (key: string) => boolean;
}

/**
 * Reads and validates the current stack's configuration.
 *
 * @throws ConfigError (code `CONFIG_INVALID`) listing every bad key, e.g.
 *   `confidential-inference:hosts[1].address: not an IP address or hostname`.
 */
export function loadStackConfig(): LoadedStackConfig {
  // Instantiated so Pulumi records that this project's namespace is read (and for `pulumi config` tooling).
  void new pulumi.Config(CONFIG_NAMESPACE);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- isConfigSecret is exported by the JS module but missing from its typings.
  const runtime = require("@pulumi/pulumi/runtime/config") as ConfigRuntime;
  const raw = runtime.allConfig();
  const isSecret = runtime.isConfigSecret ?? (() => false);
  const secretKeys = new Set(Object.keys(raw).filter((k) => isSecret(k)));
  const parsed = parseStackConfig(raw, secretKeys);
  const secrets = new Map<string, pulumi.Output<string>>();
  for (const [key, value] of parsed.secrets) secrets.set(key, pulumi.secret(value));
  return { config: parsed.config, secrets };
}
