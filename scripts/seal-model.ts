/**
 * The model registry's tool: encrypts a plaintext ONNX model into a container and writes its detached
 * signature beside it, then prints the digests to pin (`inference.model` artifacts in the stack config).
 *
 *   npx tsx scripts/seal-model.ts --model models/sentiment.onnx --name sentiment --key-id default/model/sentiment \
 *     --data-key-file sentiment.key --signer-key registry-key.pem [--out DIR]
 *   npx tsx scripts/seal-model.ts --dir out/qwen2.5-0.5b --name chat --key-id default/model/chat \
 *     --data-key-file chat.key --signer-key registry-key.pem [--out DIR]
 *
 * `--dir` seals a decoder model directory (an Optimum or transformers.js export: the graph, `config.json`,
 * `generation_config.json`, `tokenizer.json`, `tokenizer_config.json`) as one `CI-MDIR` bundle whose signature
 * lists every file; it writes `<out>/<name>.enc` and `.enc.jws` (serve it with `kind: "decoder"`).
 * `--data-key-file` holds the 32-byte AES-256 data key (raw); `--signer-key` the registry's P-384 private key
 * (PEM). Writes `<out>/<name>.onnx.enc` and `<out>/<name>.onnx.enc.jws` (default out: the model's folder).
 */
import { createPrivateKey } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DECODER_MODEL_FILES, readModelDirectory } from "../runtime/inference/generation/index.js";
import { sealAndSignModel, sealAndSignModelDirectory } from "../runtime/inference/model/seal.js";

/** Seals one model; returns the lines to print. Throws TypeError on usage errors. */
export async function sealModelFiles(argv: readonly string[]): Promise<string[]> {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const model = get("--model");
  const dir = get("--dir");
  const name = get("--name");
  const keyId = get("--key-id");
  const keyFile = get("--data-key-file");
  const signer = get("--signer-key");
  if ((!model && !dir) || (model && dir) || !name || !keyId || !keyFile || !signer) {
    throw new TypeError(
      "usage: seal-model --model FILE | --dir DIR --name NAME --key-id REPO/TYPE/TAG --data-key-file FILE --signer-key PEM [--out DIR]",
    );
  }
  const dataKey = readFileSync(keyFile);
  if (dataKey.length !== 32) throw new TypeError(`--data-key-file must hold exactly 32 bytes (has ${dataKey.length})`);
  const common = { modelName: name, keyId, dataKey, signerKey: createPrivateKey(readFileSync(signer, "utf8")) };
  let sealed;
  if (dir) {
    const files = readModelDirectory(dir);
    if (!DECODER_MODEL_FILES.some((f) => files.has(f)))
      throw new TypeError(`--dir ${dir}: no ONNX graph (${DECODER_MODEL_FILES.join(", ")})`);
    sealed = await sealAndSignModelDirectory({ ...common, files });
  } else sealed = await sealAndSignModel({ ...common, plaintext: readFileSync(model!) });
  const out = get("--out") ?? (dir ? dir : dirname(model!));
  const container = join(out, dir ? `${name}.enc` : `${name}.onnx.enc`);
  writeFileSync(container, sealed.container);
  writeFileSync(`${container}.jws`, `${sealed.signature}\n`);
  return [
    `model_sha256 ${sealed.modelSha256}`,
    `container_sha256 ${sealed.containerSha256}  ${container}`,
    `signature ${container}.jws`,
  ];
}

if (require.main === module) {
  sealModelFiles(process.argv.slice(2)).then(
    (lines) => process.stdout.write(`${lines.join("\n")}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(e instanceof TypeError ? 2 : 1);
    },
  );
}
