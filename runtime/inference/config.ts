/**
 * The runtime's config file (JSON), parsed strictly with every problem reported at once by field path.
 * Paths are relative to the config file's folder. Pure: takes the parsed document.
 */
import { z } from "zod";
import { formatProblems, type Problem, problemCount, problemsFromIssues } from "../../core/index.js";
import { InferenceError } from "./errors.js";

const hostPort = (port: number) =>
  z.strictObject({
    host: z.string().min(1).default("0.0.0.0"),
    port: z.number().int().min(0).max(65535).default(port),
  });

const modelSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: "must be a DNS label" }),
  kind: z
    .enum(["tensor", "decoder"])
    .default("tensor")
    .describe(
      "tensor: one ONNX graph served over OIP v2 (and /v1/embeddings with `embeddings`); decoder: a sealed model directory served by /v1/chat/completions and /v1/completions",
    ),
  version: z.string().min(1).max(64).optional(),
  container: z.string().min(1).describe("path of the encrypted container (*.onnx.enc)"),
  signature: z.string().min(1).describe("path of the detached signature (*.onnx.enc.jws)"),
  tokenizer: z.string().min(1).optional().describe("path of tokenizer.json; required for text models"),
  containerSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  sequenceLength: z.number().int().min(2).max(8192).optional(),
  text: z
    .strictObject({
      input: z.string().optional(),
      idsInput: z.string().optional(),
      maskInput: z.string().optional(),
      typeIdsInput: z.string().optional(),
    })
    .optional(),
  labels: z
    .strictObject({ from: z.string().min(1), names: z.array(z.string().min(1)).min(2), output: z.string().optional() })
    .optional(),
  embeddings: z
    .strictObject({
      output: z.string().min(1).describe("graph output holding one pooled vector per text, [batch, dimensions]"),
    })
    .optional()
    .describe("serve this text model on /v1/embeddings"),
  contextLength: z
    .number()
    .int()
    .min(16)
    .max(1_048_576)
    .optional()
    .describe("decoder: caps the model's own context length (bounds the KV cache)"),
});

const generationSchema = z.strictObject({
  maxBatch: z.number().int().min(1).max(256).default(8).describe("most sequences in one decode step"),
  maxQueued: z.number().int().min(1).max(100_000).default(64).describe("most generations waiting for a slot"),
  prefillChunk: z.number().int().min(1).max(65_536).default(256).describe("prompt tokens per prefill step"),
});

const TENSOR_ONLY = ["tokenizer", "sequenceLength", "text", "labels", "embeddings"] as const;

function modelProblems(models: readonly z.infer<typeof modelSchema>[]): Problem[] {
  return models.flatMap((m, i) => {
    const at = `models[${i}]`;
    if (m.kind === "decoder")
      return TENSOR_ONLY.filter((k) => m[k] !== undefined).map((k) => ({
        path: `${at}.${k}`,
        message: "not for a decoder model (its directory holds tokenizer and configs)",
      }));
    const p: Problem[] = [];
    if (m.text && !m.tokenizer) p.push({ path: `${at}.tokenizer`, message: "required for a text model" });
    if (m.embeddings && !m.text) p.push({ path: `${at}.embeddings`, message: "needs a text model (set text)" });
    if (m.contextLength !== undefined) p.push({ path: `${at}.contextLength`, message: "only for a decoder model" });
    return p;
  });
}

/** The runtime config schema. */
export const runtimeConfigSchema = z.strictObject({
  listen: hostPort(8443).default({ host: "0.0.0.0", port: 8443 }),
  ops: hostPort(9464).default({ host: "0.0.0.0", port: 9464 }),
  models: z.array(modelSchema).min(1),
  signerPublicKeyFile: z.string().min(1).describe("PEM SPKI of the model registry's P-384 key (pinned)"),
  gatewayCaFile: z.string().min(1).describe("PEM CA bundle whose client certificates are accepted"),
  batching: z
    .strictObject({
      maxBatchSize: z.number().int().min(1).max(1024).default(8),
      maxBatchDelayMs: z.number().int().min(0).max(10_000).default(5),
      maxQueue: z.number().int().min(1).max(100_000).default(256),
      requestTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
      retryAfterSeconds: z.number().int().min(1).max(3600).default(1),
    })
    .default({ maxBatchSize: 8, maxBatchDelayMs: 5, maxQueue: 256, requestTimeoutMs: 10_000, retryAfterSeconds: 1 }),
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024),
  generation: generationSchema
    .default({ maxBatch: 8, maxQueued: 64, prefillChunk: 256 })
    .describe("the generation engine of each decoder model"),
  intraOpThreads: z.number().int().min(1).max(256).optional(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug"]).default("info"),
  keyBroker: z.record(z.string(), z.unknown()).describe("options of the key broker's KBS client (passed through)"),
  attestation: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("OHTTP keys and attestation bundles (runtime/inference/confidential/config.ts; passed through)"),
});

/** A parsed runtime config. */
export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

/** Parses a config document; every problem is listed with its path -> `CONFIG_INVALID`. */
export function parseRuntimeConfig(doc: unknown): RuntimeConfig {
  const r = runtimeConfigSchema.safeParse(doc);
  const problems = r.success ? modelProblems(r.data.models) : problemsFromIssues(r.error.issues);
  if (r.success && problems.length === 0) return r.data;
  throw new InferenceError(
    "CONFIG_INVALID",
    `invalid runtime config (${problemCount(problems)}):\n${formatProblems(problems, "\n")}`,
    { problems },
  );
}
