/**
 * A KBS client that behaves like Trustee's guest components, written from their sources
 * (guest-components `attestation-agent/kbs_protocol` rcar_client.rs and keypair.rs, `deps/crypto`
 * ec.rs and rsa.rs, `attester/src/snp`; kbs-types 0.18 serde shapes; virtee `sev` 6.x serde of
 * `AttestationReport` and `CertTableEntry`), independently of the broker's code: its own report
 * field reader (AMD SEV-SNP ABI offsets), its own certificate-table reader, its own JWE decryption
 * that rebuilds the protected header the way `kbs_types::ProtectedHeader::generate_aad` does
 * (`alg`, `enc`, then the other members in serde_json's sorted map order) and uses it as the AAD.
 * Tests only; loopback only.
 */
import {
  constants,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  privateDecrypt,
  type KeyObject,
} from "node:crypto";
import { request } from "node:https";
import { canonicalJson } from "../../core/index.js";

/** TEE key algorithms of guest-components `TeeKeyAlgorithm`. */
export type TrusteeKeyAlgorithm = "ECDH-ES+A256KW-P256" | "ECDH-ES+A256KW-P521" | "RSA-OAEP-256";

/** A TEE key pair and its `TeePubKey` as serde writes it (tag `kty` first, then the variant's fields in order). */
export function trusteeKeyPair(algorithm: TrusteeKeyAlgorithm): {
  privateKey: KeyObject;
  pubkey: Record<string, string>;
} {
  if (algorithm === "RSA-OAEP-256") {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const j = publicKey.export({ format: "jwk" });
    return { privateKey, pubkey: { kty: "RSA", alg: "RSA-OAEP-256", n: j.n as string, e: j.e as string } };
  }
  const crv = algorithm === "ECDH-ES+A256KW-P256" ? "P-256" : "P-521";
  const { privateKey, publicKey } = generateKeyPairSync("ec", {
    namedCurve: crv === "P-256" ? "prime256v1" : "secp521r1",
  });
  const j = publicKey.export({ format: "jwk" });
  return { privateKey, pubkey: { kty: "EC", crv, alg: "ECDH-ES+A256KW", x: j.x as string, y: j.y as string } };
}

const u32 = (b: Buffer, o: number) => b.readUInt32LE(o);
const arr = (b: Buffer, o: number, n: number) => [...b.subarray(o, o + n)];

/** sev's TcbVersion of 8 raw bytes, decoded for the report's generation (Turin: FMC first). */
function tcb(b: Buffer, o: number, turin: boolean) {
  return turin
    ? { fmc: b[o], bootloader: b[o + 1], tee: b[o + 2], snp: b[o + 3], microcode: b[o + 7] }
    : { fmc: null, bootloader: b[o], tee: b[o + 1], snp: b[o + 6], microcode: b[o + 7] };
}

/**
 * The JSON of sev's `AttestationReport` for raw report bytes (AMD SEV-SNP ABI spec 56860,
 * ATTESTATION_REPORT structure), as `serde_json::to_value` writes it in Trustee's SNP attester.
 */
export function sevReportJson(report: Buffer): Record<string, unknown> {
  const version = u32(report, 0x0);
  const fam = report[0x188] as number;
  const mod = report[0x189] as number;
  const turin = version >= 3 && fam === 0x1a && mod <= 0x11;
  const v64 = (o: number) => Number(report.readBigUInt64LE(o));
  return {
    version,
    guest_svn: u32(report, 0x4),
    policy: v64(0x8),
    family_id: arr(report, 0x10, 16),
    image_id: arr(report, 0x20, 16),
    vmpl: u32(report, 0x30),
    sig_algo: u32(report, 0x34),
    current_tcb: tcb(report, 0x38, turin),
    plat_info: v64(0x40),
    key_info: u32(report, 0x48),
    report_data: arr(report, 0x50, 64),
    measurement: arr(report, 0x90, 48),
    host_data: arr(report, 0xc0, 32),
    id_key_digest: arr(report, 0xe0, 48),
    author_key_digest: arr(report, 0x110, 48),
    report_id: arr(report, 0x140, 32),
    report_id_ma: arr(report, 0x160, 32),
    reported_tcb: tcb(report, 0x180, turin),
    cpuid_fam_id: version >= 3 ? fam : null,
    cpuid_mod_id: version >= 3 ? mod : null,
    cpuid_step: version >= 3 ? report[0x18a] : null,
    chip_id: arr(report, 0x1a0, 64),
    committed_tcb: tcb(report, 0x1e0, turin),
    current: { major: report[0x1ea], minor: report[0x1e9], build: report[0x1e8] },
    committed: { major: report[0x1ee], minor: report[0x1ed], build: report[0x1ec] },
    launch_tcb: tcb(report, 0x1f0, turin),
    launch_mit_vector: version >= 5 ? v64(0x1f8) : null,
    current_mit_vector: version >= 5 ? v64(0x200) : null,
    signature: { r: arr(report, 0x2a0, 72), s: arr(report, 0x2e8, 72) },
  };
}

const CERT_TYPES: Record<string, string> = {
  "c0b406a4-a803-4952-9743-3fb6014cd0ae": "ARK",
  "4ab7b379-bbac-4fe4-a02f-05aef327c782": "ASK",
  "63da758d-e664-4564-adc5-f4b93be8accd": "VCEK",
  "a8074bc2-a25a-483e-aae6-39c045a0b8a1": "VLEK",
};

/** sev's `Vec<CertTableEntry>` JSON of an extended-report certificate table (GHCB spec 56421). */
export function sevCertChainJson(table: Buffer): { cert_type: unknown; data: number[] }[] {
  const out: { cert_type: unknown; data: number[] }[] = [];
  for (let off = 0; ; off += 24) {
    const g = table.subarray(off, off + 16).toString("hex");
    const offset = table.readUInt32LE(off + 16);
    const length = table.readUInt32LE(off + 20);
    if (/^0+$/.test(g) && offset === 0 && length === 0) return out;
    const guid = `${g.slice(0, 8)}-${g.slice(8, 12)}-${g.slice(12, 16)}-${g.slice(16, 20)}-${g.slice(20)}`;
    out.push({ cert_type: CERT_TYPES[guid] ?? { OTHER: guid }, data: [...table.subarray(offset, offset + length)] });
  }
}

/** serde_json's text of a `ProtectedHeader`: `alg`, `enc`, then the flattened members sorted, nested maps sorted. */
export function serdeProtectedHeader(h: Record<string, unknown>): string {
  const { alg, enc, ...other } = h;
  const sorted = (v: unknown): unknown =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
        )
      : v;
  const rest = JSON.stringify(sorted(other));
  return `{"alg":${JSON.stringify(alg)},"enc":${JSON.stringify(enc)}${rest === "{}" ? "}" : `,${rest.slice(1)}`}`;
}

/** Trustee's `TeeKeyPair::decrypt_response`: unwrap the CEK, rebuild the AAD from the parsed header, AES-256-GCM. */
export function trusteeDecrypt(response: Record<string, string>, privateKey: KeyObject): Buffer {
  const header = JSON.parse(Buffer.from(response.protected as string, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
  const wrapped = Buffer.from(response.encrypted_key as string, "base64url");
  let cek: Buffer;
  if (header.alg === "RSA-OAEP-256") {
    cek = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, wrapped);
  } else if (header.alg === "ECDH-ES+A256KW") {
    const epk = header.epk as { crv: string; x: string; y: string };
    const z = diffieHellman({
      privateKey,
      publicKey: createPublicKey({ key: { kty: "EC", crv: epk.crv, x: epk.x, y: epk.y }, format: "jwk" }),
    });
    // Concat KDF (guest-components deps/crypto ec.rs): SHA-256(1 || Z || len||"ECDH-ES+A256KW" || 0 || 0 || 256).
    const alg = Buffer.from("ECDH-ES+A256KW");
    const be32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const kek = createHash("sha256")
      .update(Buffer.concat([be32(1), z, be32(alg.length), alg, be32(0), be32(0), be32(256)]))
      .digest();
    const unwrap = createDecipheriv("id-aes256-wrap", kek, Buffer.from("a6a6a6a6a6a6a6a6", "hex"));
    cek = Buffer.concat([unwrap.update(wrapped), unwrap.final()]);
  } else throw new Error(`Unsupported algorithm: ${String(header.alg)}`);
  const aad = Buffer.from(serdeProtectedHeader(header)).toString("base64url");
  const gcm = createDecipheriv("aes-256-gcm", cek, Buffer.from(response.iv as string, "base64url"));
  gcm.setAAD(Buffer.from(aad));
  gcm.setAuthTag(Buffer.from(response.tag as string, "base64url"));
  return Buffer.concat([gcm.update(Buffer.from(response.ciphertext as string, "base64url")), gcm.final()]);
}

/** One HTTPS exchange with a cookie jar of one cookie (reqwest's cookie store, for this use). */
export class TrusteeHttp {
  private cookie: string | undefined;
  constructor(
    private readonly base: string,
    private readonly ca: string,
  ) {}

  send(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const u = new URL(this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          method,
          path,
          ca: this.ca,
          headers: {
            ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}),
            ...(this.cookie ? { cookie: this.cookie } : {}),
          },
        },
        (res) => {
          const set = res.headers["set-cookie"]?.[0];
          if (set) this.cookie = set.split(";")[0];
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
}

/** The runtime-data digest of rcar_client.rs `get_composite_evidence` (JCS, then the selected hash), padded to 64 bytes by the SNP attester. */
export function trusteeReportData(
  pubkey: Record<string, string>,
  nonce: string,
  additionalEvidence: string,
  hash = "sha384",
): Buffer {
  const digest = createHash(hash)
    .update(canonicalJson({ "tee-pubkey": pubkey, nonce, "additional-evidence": additionalEvidence }))
    .digest();
  const out = Buffer.alloc(64);
  digest.copy(out);
  return out;
}
