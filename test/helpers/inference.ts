/**
 * Test fixtures for the inference runtime: the bundled models built in memory, served models with batchers,
 * and a logger whose lines are captured for redaction checks.
 */
import { Writable } from "node:stream";
import type { Logger } from "pino";
import { buildBundledModels, type BundledFile } from "../../runtime/simulators/models/index.js";
import { BUNDLED_SEQUENCE_LENGTH, SENTIMENT_LABELS } from "../../runtime/simulators/models/models.js";
import { Batcher, type BatcherOptions } from "../../runtime/inference/batching/batcher.js";
import { createOrtSession } from "../../runtime/inference/model/session.js";
import { createServedModel, type ServedModelConfig } from "../../runtime/inference/model/served.js";
import type { ModelEntry } from "../../runtime/inference/server/routes.js";
import { loadTokenizer } from "../../runtime/inference/tokenizer.js";
import { createLogger } from "../../runtime/observability/logger.js";

let cache: Map<string, BundledFile> | undefined;

/** The bundled files by name (built once per test file). */
export function bundled(name: "tokenizer.json" | "sentiment.onnx" | "encoder.onnx"): BundledFile {
  cache ??= new Map(buildBundledModels().map((f) => [f.name, f]));
  return cache.get(name)!;
}

/** The bundled tokenizer.json, parsed. */
export function bundledTokenizerJson(): unknown {
  return JSON.parse(new TextDecoder().decode(bundled("tokenizer.json").bytes));
}

/** Serving config of the bundled models. */
export const BUNDLED_CONFIGS: Record<"sentiment" | "encoder", ServedModelConfig> = {
  sentiment: { name: "sentiment", text: {}, labels: { from: "logits", names: SENTIMENT_LABELS } },
  encoder: { name: "encoder", text: {} },
};

/** Default batching options for tests (generous timeouts, no delay). */
export const TEST_BATCHING: Omit<BatcherOptions, "batchable"> = {
  maxBatchSize: 8,
  maxDelayMs: 0,
  maxQueue: 64,
  timeoutMs: 20_000,
  retryAfterSeconds: 1,
};

/** Loads a bundled model (plaintext, no encryption) into a served model with a batcher. */
export async function servedBundled(
  name: "sentiment" | "encoder",
  batching: Partial<BatcherOptions> = {},
): Promise<ModelEntry> {
  const file = bundled(`${name}.onnx`);
  const session = await createOrtSession(file.bytes, { intraOpThreads: 1 });
  const tokenizer = loadTokenizer(bundledTokenizerJson(), { sequenceLength: BUNDLED_SEQUENCE_LENGTH });
  const model = createServedModel({
    config: BUNDLED_CONFIGS[name],
    session,
    tokenizer,
    sha256: file.sha256,
    maxBatchSize: batching.maxBatchSize ?? TEST_BATCHING.maxBatchSize,
  });
  const batcher = new Batcher((feeds) => session.run(feeds), {
    ...TEST_BATCHING,
    batchable: model.batchable,
    ...batching,
  });
  return { model, batcher };
}

/** A logger writing JSON lines into `lines` (synchronously). */
export function captureLogger(service = "test"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(
        ...String(chunk)
          .split("\n")
          .filter((l) => l.length > 0),
      );
      cb();
    },
  });
  return { logger: createLogger({ service, level: "debug", destination: stream }), lines };
}
