/**
 * Runtime entry point (the only place that listens): `node dist/runtime/inference/main.js --config FILE`
 * (compiled from this file by `npm run build`, self-contained: see docs/build.md).
 * Reads the config and the model files, builds the key broker's KBS client (the `KeyRelease` seam) from the
 * `keyBroker` section, starts the runtime, and drains on SIGTERM/SIGINT. Exit 1 when boot fails (nothing was
 * served; the log says why, e.g. `refused with ATTESTATION_DENIED (drift class unknown-measurement)`).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { keyReleaseFromOptions } from "./key-release.js";
import { isAttesterError } from "../attester/index.js";
import { createLogger } from "../observability/index.js";
import type { KeyRelease, ModelArtifacts } from "./boot.js";
import { parseRuntimeConfig, type RuntimeConfig } from "./config.js";
import { InferenceError } from "./errors.js";
import { parseSignerKey } from "./model/signature.js";
import { startRuntime } from "./runtime.js";
import { ConfidentialError, parseAttestationConfig } from "./confidential/index.js";
import { evidenceProviderFor } from "./evidence.js";

/** Builds the `KeyRelease` seam from `config.keyBroker` (relative paths resolve against `baseDir`, the config file's folder). */
export type KeyReleaseFactory = (options: Record<string, unknown>, baseDir: string) => KeyRelease;

const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"]);

/** Why the broker refused, from the KBS client's error: server code and drift class only (never secrets). */
export function describeKeyRelease(e: unknown): string {
  if (isAttesterError(e)) {
    const d = e.details as { serverCode?: string; status?: number; driftClass?: string };
    if (d.serverCode !== undefined) {
      // The broker's detail ends with the failed checks: "attestation denied (drift class X): CODE at path; ...".
      const why = /\(drift class [a-z-]+\): (.+)$/.exec(e.message)?.[1];
      return `attesting to the key broker: refused with ${d.serverCode}${d.driftClass ? ` (drift class ${d.driftClass}${why ? `: ${why}` : ""})` : ""}`;
    }
    return `attesting to the key broker: ${e.code}`;
  }
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string") return "attesting to the key broker: failed";
  return `attesting to the key broker: ${UNREACHABLE.has(code) ? "unreachable" : "failed"} (${code})`;
}

/**
 * The default seam: the key broker's KBS client (`runtime/keybroker/client`), built from the
 * `keyBroker` section (`{ url, caFile, evidence: { kind: "simulated-snp", dir, measurement }, sessionKey }`).
 * An invalid section is `CONFIG_INVALID`; a refusal is `KEY_RELEASE_FAILED` naming the broker's code and drift class.
 */
export const kbsKeyRelease: KeyReleaseFactory = (options, baseDir) => {
  let client: KeyRelease;
  try {
    client = keyReleaseFromOptions(options, baseDir);
  } catch (e) {
    throw new InferenceError("CONFIG_INVALID", `keyBroker: ${e instanceof Error ? e.message : "invalid"}`, {
      cause: e,
    });
  }
  return {
    async release(request) {
      try {
        return await client.release(request);
      } catch (e) {
        throw new InferenceError("KEY_RELEASE_FAILED", describeKeyRelease(e), { cause: e });
      }
    },
  };
};

/** Reads the model files named by the config (paths relative to `baseDir`). */
export function readArtifacts(config: RuntimeConfig, baseDir: string): ModelArtifacts[] {
  const read = (p: string) => readFileSync(resolve(baseDir, p));
  return config.models.map((m) => ({
    config: {
      name: m.name,
      ...(m.version ? { version: m.version } : {}),
      ...(m.text ? { text: m.text } : {}),
      ...(m.labels ? { labels: m.labels } : {}),
    },
    ...(m.kind === "decoder" ? { kind: "decoder" as const } : {}),
    ...(m.embeddings ? { embeddings: m.embeddings } : {}),
    ...(m.contextLength ? { contextLength: m.contextLength } : {}),
    container: read(m.container),
    signature: read(m.signature).toString("utf8"),
    ...(m.tokenizer ? { tokenizerJson: JSON.parse(read(m.tokenizer).toString("utf8")) as unknown } : {}),
    ...(m.containerSha256 ? { containerSha256: m.containerSha256 } : {}),
    ...(m.sequenceLength ? { sequenceLength: m.sequenceLength } : {}),
  }));
}

/** Starts the runtime from a config file; resolves with the exit code once stopped (or at once on failure). */
export async function main(
  argv: readonly string[],
  keyReleaseFactory: KeyReleaseFactory = kbsKeyRelease,
): Promise<number> {
  const i = argv.indexOf("--config");
  const file = i >= 0 ? argv[i + 1] : process.env.CI_INFERENCE_CONFIG;
  if (!file) {
    process.stderr.write("usage: runtime/inference/main.ts --config FILE (or CI_INFERENCE_CONFIG)\n");
    return 2;
  }
  const base = dirname(resolve(file));
  const config = parseRuntimeConfig(JSON.parse(readFileSync(file, "utf8")));
  const logger = createLogger({ service: "inference", level: config.logLevel });
  const b = config.batching;
  // Signal handlers go in before anything listens or logs "ready": a supervisor may send SIGTERM
  // as soon as it reads the ready line, and the default handler would skip the drain.
  const stopRequested = new Promise<void>((done) => {
    process.once("SIGTERM", done);
    process.once("SIGINT", done);
  });
  const keyRelease = keyReleaseFactory(config.keyBroker, base);
  const attestation = parseAttestationConfig(config.attestation, config.keyBroker.evidence);
  if (attestation === undefined)
    logger.warn({ event: "confidential-endpoint-off" }, "no evidence options: serving no OHTTP keys or bundles");
  const rt = await startRuntime({
    artifacts: readArtifacts(config, base),
    keyRelease,
    signerKey: parseSignerKey(readFileSync(resolve(base, config.signerPublicKeyFile), "utf8")),
    gatewayCa: readFileSync(resolve(base, config.gatewayCaFile), "utf8"),
    batching: {
      maxBatchSize: b.maxBatchSize,
      maxDelayMs: b.maxBatchDelayMs,
      maxQueue: b.maxQueue,
      timeoutMs: b.requestTimeoutMs,
      retryAfterSeconds: b.retryAfterSeconds,
    },
    ...(config.intraOpThreads ? { ort: { intraOpThreads: config.intraOpThreads } } : {}),
    generation: config.generation,
    bodyLimit: config.bodyLimitBytes,
    ...(attestation
      ? {
          attestation: {
            evidence: evidenceProviderFor(attestation.evidence, base),
            lifetimeMs: attestation.bundleLifetimeSeconds * 1000,
            noncesPerMinute: attestation.noncesPerMinute,
            maxReplayEntries: attestation.maxReplayEntries,
            ...(attestation.manifestFile
              ? { manifest: readFileSync(resolve(base, attestation.manifestFile), "utf8").trim() }
              : {}),
            ...(attestation.launch ? { launch: attestation.launch } : {}),
            ...(attestation.simulate ? { simulate: attestation.simulate } : {}),
          },
        }
      : {}),
    logger,
    listen: config.listen,
    ops: config.ops,
  });
  if (rt.phase() !== "ready") {
    await rt.stop();
    return 1;
  }
  await stopRequested;
  await rt.stop();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(
        `${e instanceof InferenceError || e instanceof ConfidentialError ? `${e.code}: ${e.message}` : "runtime failed to start"}\n`,
      );
      process.exit(1);
    },
  );
}
