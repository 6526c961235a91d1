/**
 * The bundled chat model: a directory in the layout of a Hugging Face Optimum `text-generation-with-past` export
 * (`model.onnx`, `config.json`, `generation_config.json`, `tokenizer.json`, `tokenizer_config.json`), generated
 * byte-for-byte reproducibly. The model repeats the last user message and ends its turn (see `decoder-weights.ts`);
 * the tokenizer is a byte-level BPE trained on a fixed corpus (see `bpe.ts`).
 *
 * @example
 * const files = buildBundledChatModel(); // [{ name: "config.json", bytes, sha256 }, ...]
 */
import { createHash } from "node:crypto";
import { buildChatTokenizer, type CHAT_SPECIAL_TOKENS } from "./bpe.js";
import { buildDecoderGraph, type DecoderShape } from "./decoder-graph.js";
import { buildEchoWeights } from "./decoder-weights.js";

/** One generated file of the chat model directory. */
export interface ChatModelFile {
  /** File name inside the model directory, e.g. `model.onnx`. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Lowercase hex SHA-256 of `bytes`. */
  readonly sha256: string;
}

/** File names of the chat model directory, in build order. */
export const CHAT_MODEL_FILE_NAMES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "model.onnx",
] as const;

/** The bundled chat model's shape (vocabulary size comes from the trained tokenizer). */
export function chatModelShape(vocab: number): DecoderShape {
  return {
    layers: 2,
    hidden: 240,
    heads: 4,
    kvHeads: 2,
    headDim: 160,
    rotaryDim: 16,
    ropeTheta: 10000,
    intermediate: 256,
    vocab,
    maxPositions: 512,
    rmsEps: 1e-6,
  };
}

const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** Builds every file of the chat model directory (deterministic). */
export function buildBundledChatModel(): ChatModelFile[] {
  const tok = buildChatTokenizer();
  const shape = chatModelShape(tok.tokens.length);
  const id = (t: (typeof CHAT_SPECIAL_TOKENS)[number]) => tok.tokens.indexOf(t);
  const config = {
    architectures: ["EchoForCausalLM"],
    model_type: "echo",
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    head_dim: shape.headDim,
    partial_rotary_factor: shape.rotaryDim / shape.headDim,
    rope_theta: shape.ropeTheta,
    rms_norm_eps: shape.rmsEps,
    hidden_act: "silu",
    max_position_embeddings: shape.maxPositions,
    vocab_size: shape.vocab,
    bos_token_id: null,
    eos_token_id: id("<|im_end|>"),
    pad_token_id: id("<|endoftext|>"),
    tie_word_embeddings: false,
    torch_dtype: "float32",
    use_cache: true,
  };
  const generationConfig = {
    eos_token_id: [id("<|im_end|>"), id("<|endoftext|>")],
    pad_token_id: id("<|endoftext|>"),
  };
  const model = buildDecoderGraph(shape, buildEchoWeights(shape, tok.tokens));
  const files: Array<[string, Uint8Array]> = [
    ["config.json", json(config)],
    ["generation_config.json", json(generationConfig)],
    ["tokenizer.json", json(tok.tokenizerJson)],
    ["tokenizer_config.json", json(tok.tokenizerConfig)],
    ["model.onnx", model],
  ];
  return files.map(([name, bytes]) => ({ name, bytes, sha256: createHash("sha256").update(bytes).digest("hex") }));
}
