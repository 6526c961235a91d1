/**
 * File adapters of `attestctl golden`: read a golden config (stack file or dedicated format) with
 * its artifact bytes, manifests and keys. Thin: all decisions are in `measurements/manifest`.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { FileError, loadGoldenConfig, readInput, type LoadedGoldenConfig } from "../../stacks/index.js";

export { FileError, loadGoldenConfig, readInput, type LoadedGoldenConfig };

/**
 * Reads a PEM (PKCS#8, SEC1, SPKI or certificate) or JWK key file.
 * @throws FileError when the file cannot be read or is not a key.
 */
export function readKey(path: string, cwd: string, type: "private" | "public"): KeyObject {
  const text = readInput(path, cwd).toString("utf8");
  try {
    if (text.trimStart().startsWith("{")) {
      const jwk = JSON.parse(text) as JsonWebKey;
      return type === "private"
        ? createPrivateKey({ key: jwk, format: "jwk" })
        : createPublicKey({ key: jwk, format: "jwk" });
    }
    return type === "private" ? createPrivateKey(text) : createPublicKey(text);
  } catch (cause) {
    throw new FileError(`cannot use ${path} as a ${type} key: ${(cause as Error).message}`, { cause });
  }
}
