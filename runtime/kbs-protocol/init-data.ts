/**
 * Trustee's initdata (trustee kbs/docs/initdata.md; attestation-service `parse_init_data`): the
 * Attestation's `init-data` `{"format":"toml","body":"<TOML text>"}` is parsed as the `Initdata`
 * structure (`version` string, `algorithm` one of `sha256`/`sha384`/`sha512`, `data` a table of
 * strings) and its digest is `algorithm` over the body's UTF-8 bytes, exactly as sent. For SNP that
 * digest, truncated or zero-padded to 32 bytes, must equal the report's HOST_DATA (the host set it
 * at launch; Trustee's verifier checks it when init-data is present and skips the check when it is
 * `null`). `sm3` (which Trustee also names) is accepted when this Node's OpenSSL has it.
 */
import { createHash, getHashes } from "node:crypto";
import { parse as parseToml } from "smol-toml";

/** The only `init-data.format` Trustee's KBS accepts. */
export const INIT_DATA_FORMAT = "toml";

/** HOST_DATA size in an SNP report (AMD SEV-SNP ABI, ATTESTATION_REPORT, offset 0xC0). */
const HOST_DATA_BYTES = 32;

/** The digest of an initdata document, or every problem with its field path. */
export type InitDataDigest =
  | {
      readonly ok: true;
      readonly algorithm: string;
      /** The full digest (hex), as Trustee's claims name it. */
      readonly digest: string;
      /** The digest truncated / zero-padded to 32 bytes: the expected SNP HOST_DATA. */
      readonly hostData: Buffer;
    }
  | { readonly ok: false; readonly problems: readonly { readonly path: string; readonly message: string }[] };

const ALGORITHMS: Readonly<Record<string, string>> = {
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
  sm3: "sm3",
};

/**
 * Checks an `init-data` member and computes its digest (see the file comment). `path` is its field
 * path in the request (`init-data`).
 *
 * @example initDataDigest({ format: "toml", body: 'version = "0.1.0"\nalgorithm = "sha384"\n[data]\n' }, "init-data")
 */
export function initDataDigest(initData: { format: string; body: string }, path: string): InitDataDigest {
  const problems: { path: string; message: string }[] = [];
  if (initData.format !== INIT_DATA_FORMAT) {
    problems.push({
      path: `${path}.format`,
      message: `must be "${INIT_DATA_FORMAT}" (Trustee's only initdata format)`,
    });
    return { ok: false, problems };
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(initData.body) as Record<string, unknown>;
  } catch (e) {
    const line = (e as { line?: number }).line;
    problems.push({ path: `${path}.body`, message: `not valid TOML${line === undefined ? "" : ` (line ${line})`}` });
    return { ok: false, problems };
  }
  if (typeof doc.version !== "string") problems.push({ path: `${path}.body.version`, message: "must be a string" });
  const alg = typeof doc.algorithm === "string" ? ALGORITHMS[doc.algorithm] : undefined;
  if (alg === undefined || !getHashes().includes(alg))
    problems.push({ path: `${path}.body.algorithm`, message: "must be sha256, sha384 or sha512" });
  const data = doc.data;
  if (typeof data !== "object" || data === null || Array.isArray(data) || data instanceof Date)
    problems.push({ path: `${path}.body.data`, message: "must be a table of strings" });
  else
    for (const [k, v] of Object.entries(data))
      if (typeof v !== "string") problems.push({ path: `${path}.body.data.${k}`, message: "must be a string" });
  if (problems.length > 0 || alg === undefined) return { ok: false, problems };
  const digest = createHash(alg).update(initData.body, "utf8").digest();
  const hostData = Buffer.alloc(HOST_DATA_BYTES);
  digest.copy(hostData, 0, 0, Math.min(digest.length, HOST_DATA_BYTES));
  return { ok: true, algorithm: doc.algorithm as string, digest: digest.toString("hex"), hostData };
}
