/**
 * The boot sequence, behind one seam (`KeyRelease`): attest and obtain the released material from the key
 * broker, then for each model verify the signature, decrypt in memory, compare digests, load into onnxruntime
 * from the buffer (never written to disk) and wipe the plaintext copy. Nothing is served unless every step
 * succeeds; each failure is a typed `InferenceError`.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { Batcher, type BatcherOptions } from "./batching/batcher.js";
import { InferenceError } from "./errors.js";
import { containerKeyId, openVerifiedModel } from "./model/loader.js";
import { createServedModel, type ServedModelConfig } from "./model/served.js";
import { createOrtSession, type ModelSession, type OrtOptions } from "./model/session.js";
import type { ModelEntry } from "./server/routes.js";
import { loadTokenizer } from "./tokenizer.js";
import { embeddingSpec } from "./model/embedding.js";
import { type EngineOptions, GenerationEngine, isGenerationError, loadDecoderModel } from "./generation/index.js";
import type { GeneratorEntry } from "./server/routes.js";

/** What the key broker releases to an attested runtime (the KBS client's result). */
export interface ReleasedCredentials {
  /** AES-256 data keys (32 bytes) by container key id (the KBS resource path, e.g. `default/model/sentiment`). */
  readonly modelKeys: ReadonlyMap<string, Uint8Array>;
  /** PEM certificate (chain) for the runtime's TLS server, issued by the broker CA after attestation. */
  readonly serverCertificate: string;
  /** PEM private key of `serverCertificate` (generated inside the boundary). */
  readonly serverKey: string;
  /** PEM broker CA that issued `serverCertificate` (what the gateway trusts). */
  readonly brokerCa: string;
}

/**
 * The boot seam: produce attestation evidence, send it to the key broker and return what it releases for the
 * given key ids. Implemented by the key broker's KBS client (simulated SNP evidence in dev); tests inject fakes.
 * Any failure should reject; the runtime then never serves.
 */
export interface KeyRelease {
  release(request: { readonly keyIds: readonly string[] }): Promise<ReleasedCredentials>;
}

/** One model as stored: encrypted container, detached signature, optional tokenizer. */
export interface ModelArtifacts {
  readonly config: ServedModelConfig;
  /** `tensor` (default): one ONNX graph; `decoder`: a sealed model directory for the generation engine. */
  readonly kind?: "tensor" | "decoder";
  /** A text model's pooled output served on `/v1/embeddings`. */
  readonly embeddings?: { readonly output: string };
  /** Decoder: caps the model's context length. */
  readonly contextLength?: number;
  /** Encrypted container bytes (`*.onnx.enc`). */
  readonly container: Uint8Array;
  /** Detached registry signature (`*.onnx.enc.jws`, compact JWS). */
  readonly signature: string;
  /** Parsed `tokenizer.json`; required when `config.text` is set. */
  readonly tokenizerJson?: unknown;
  /** SHA-256 pin of the container bytes from the stack config; absent means not pinned. */
  readonly containerSha256?: string;
  /** Tokens per text when the graph's sequence axis is variable; ignored when the graph fixes it. */
  readonly sequenceLength?: number;
}

/** Boot inputs. */
export interface BootOptions {
  readonly artifacts: readonly ModelArtifacts[];
  readonly keyRelease: KeyRelease;
  /** The model registry's pinned signer key (P-384). */
  readonly signerKey: KeyObject;
  readonly batching: Omit<BatcherOptions, "batchable" | "onBatch">;
  readonly ort?: OrtOptions;
  /** Limits of each decoder model's generation engine. */
  readonly generation?: EngineOptions;
  /** Called after each batch run with model name and rows (metrics). */
  readonly onBatch?: (model: string, rows: number) => void;
  /** Session factory; absent means onnxruntime-node. */
  readonly createSession?: (bytes: Uint8Array, options: OrtOptions) => Promise<ModelSession>;
}

/** Boot result: loaded models and the TLS material for the server. */
export interface BootResult {
  readonly models: Map<string, ModelEntry>;
  /** Decoder models with their engines. */
  readonly generators: Map<string, GeneratorEntry>;
  readonly credentials: ReleasedCredentials;
}

/** Checks that the released server certificate matches its key and was issued by the released broker CA. */
export function checkServerCredentials(c: ReleasedCredentials): void {
  try {
    const cert = new X509Certificate(c.serverCertificate);
    const ca = new X509Certificate(c.brokerCa);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new Error("not issued by the broker CA");
    if (!cert.checkPrivateKey(createPrivateKey(c.serverKey))) throw new Error("key does not match the certificate");
  } catch (cause) {
    throw new InferenceError(
      "KEY_RELEASE_FAILED",
      `checking released TLS credentials: ${cause instanceof Error ? cause.message : "unreadable"}`,
      { cause },
    );
  }
}

/**
 * Runs the boot sequence.
 *
 * @example
 * const { models, credentials } = await bootModels({ artifacts, keyRelease, signerKey, batching });
 */
export async function bootModels(opts: BootOptions): Promise<BootResult> {
  const keyIds = [...new Set(opts.artifacts.map((a) => containerKeyId(a.container)))];
  let credentials: ReleasedCredentials;
  try {
    credentials = await opts.keyRelease.release({ keyIds });
  } catch (cause) {
    if (cause instanceof InferenceError) throw cause;
    throw new InferenceError("KEY_RELEASE_FAILED", "attesting to the key broker: key release refused or unavailable", {
      cause,
    });
  }
  checkServerCredentials(credentials);
  const create = opts.createSession ?? createOrtSession;
  const models = new Map<string, ModelEntry>();
  const generators = new Map<string, GeneratorEntry>();
  const created = Math.floor(Date.now() / 1000);
  try {
    for (const a of opts.artifacts) {
      const keyId = containerKeyId(a.container);
      const dataKey = credentials.modelKeys.get(keyId);
      if (!dataKey)
        throw new InferenceError(
          "KEY_RELEASE_FAILED",
          `attesting to the key broker: no data key released for ${keyId}`,
        );
      const verified = await openVerifiedModel({
        modelName: a.config.name,
        container: a.container,
        signature: a.signature,
        dataKey,
        signerKey: opts.signerKey,
        ...(a.containerSha256 ? { containerSha256: a.containerSha256 } : {}),
      });
      if (a.kind === "decoder") {
        generators.set(a.config.name, await loadGenerator(a, verified, opts, created));
        continue;
      }
      let session: ModelSession;
      try {
        if (verified.files !== undefined)
          throw new InferenceError(
            "MODEL_LOAD_FAILED",
            `loading model ${a.config.name}: a model directory needs kind "decoder"; a tensor model is one ONNX file`,
          );
        session = await create(verified.plaintext, opts.ort ?? {});
      } finally {
        verified.plaintext.fill(0);
      }
      const graphSeq = session.inputs[0]?.shape[1];
      const sequenceLength = graphSeq !== undefined && graphSeq > 0 ? graphSeq : (a.sequenceLength ?? 128);
      const tokenizer = a.config.text ? loadTokenizer(a.tokenizerJson, { sequenceLength }) : undefined;
      const model = createServedModel({
        config: a.config,
        session,
        sha256: verified.sha256,
        maxBatchSize: opts.batching.maxBatchSize,
        ...(tokenizer ? { tokenizer } : {}),
      });
      const batcher = new Batcher((feeds) => session.run(feeds), {
        ...opts.batching,
        batchable: model.batchable,
        onBatch: ({ rows }) => opts.onBatch?.(model.name, rows),
      });
      const embeddings = a.embeddings ? embeddingSpec(model, a.embeddings.output) : undefined;
      models.set(model.name, { model, batcher, created, ...(embeddings ? { embeddings } : {}) });
    }
  } catch (e) {
    await Promise.all([...models.values()].map((m) => m.model.session.release()));
    for (const g of generators.values()) g.engine.close();
    await Promise.all([...generators.values()].map((g) => g.model.release()));
    throw e;
  }
  return { models, generators, credentials };
}

/** Loads a decoder model from its verified directory and starts its engine; the plaintext is wiped after. */
async function loadGenerator(
  a: ModelArtifacts,
  verified: { plaintext: Buffer; sha256: string; files?: ReadonlyMap<string, Uint8Array> },
  opts: BootOptions,
  created: number,
): Promise<GeneratorEntry> {
  const name = a.config.name;
  try {
    if (verified.files === undefined)
      throw new InferenceError(
        "MODEL_LOAD_FAILED",
        `loading model ${name}: a decoder model must be a sealed model directory (CI-MDIR bundle)`,
      );
    const model = await loadDecoderModel(verified.files, {
      ...(opts.ort?.intraOpThreads ? { intraOpThreads: opts.ort.intraOpThreads } : {}),
      ...(a.contextLength ? { contextLength: a.contextLength } : {}),
    });
    return { name, sha256: verified.sha256, model, engine: new GenerationEngine(model, opts.generation), created };
  } catch (e) {
    if (!isGenerationError(e)) throw e;
    const code = e.code === "TOKENIZER_INVALID" ? "TOKENIZER_INVALID" : "MODEL_LOAD_FAILED";
    throw new InferenceError(code, `loading model ${name}: ${e.message}`, { cause: e });
  } finally {
    verified.plaintext.fill(0);
  }
}
