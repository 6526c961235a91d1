/**
 * SNP evidence as Trustee's SNP attester writes it (guest-components `attester/src/snp`: serde JSON of
 * virtee `sev` 6.x `AttestationReport` and `Vec<CertTableEntry>`, which Trustee's verifier reads with
 * sev 7.x, same shape):
 *
 *   { "attestation_report": { "version": 3, "guest_svn": 0, "policy": 196608,
 *       "family_id": [16 bytes], "image_id": [16], "vmpl": 0, "sig_algo": 1,
 *       "current_tcb": { "fmc": null, "bootloader": 9, "tee": 0, "snp": 23, "microcode": 72 },
 *       "plat_info": 3, "key_info": 0, "report_data": [64], "measurement": [48], "host_data": [32],
 *       "id_key_digest": [48], "author_key_digest": [48], "report_id": [32], "report_id_ma": [32],
 *       "reported_tcb": {...}, "cpuid_fam_id": 25, "cpuid_mod_id": 17, "cpuid_step": 1,
 *       "chip_id": [64], "committed_tcb": {...}, "current": { "major", "minor", "build" },
 *       "committed": {...}, "launch_tcb": {...}, "launch_mit_vector": null, "current_mit_vector": null,
 *       "signature": { "r": [72], "s": [72] } },
 *     "cert_chain": [ { "cert_type": "VCEK", "data": [DER bytes] }, ... ] | null }
 *
 * Byte strings are arrays of numbers, bit fields (policy, platform info, key info) plain integers,
 * TCBs decoded per product (`fmc` set only on Turin). {@link snpReportFromTrusteeJson} checks every
 * field and re-serialises the exact 1184 report bytes through `runtime/attestation`'s ABI
 * (`serializeReport`, reserved bytes zero, as in every report the parser accepts), so the verifier
 * checks the signature over the bytes the firmware signed. u64 fields above 2^53 - 1 cannot cross
 * JSON.parse intact and are refused (evidence-shape.ts).
 */
import { CERT_TABLE_GUID, encodeTcb, serializeCertTable, serializeReport } from "../attestation/index.js";

/** One problem with its field path. */
export interface SnpJsonProblem {
  readonly path: string;
  readonly message: string;
}

/** The report bytes and certificate table rebuilt from Trustee's JSON, or every problem found. */
export type SnpJsonResult =
  | { readonly ok: true; readonly report: Buffer; readonly certTable: Buffer | undefined }
  | { readonly ok: false; readonly problems: readonly SnpJsonProblem[] };

/** sev `CertType` names and the GUIDs of the certificate table (GHCB spec 56421). */
export const SEV_CERT_TYPE_GUID: Readonly<Record<string, string>> = {
  ARK: CERT_TABLE_GUID.ark,
  ASK: CERT_TABLE_GUID.ask,
  VCEK: CERT_TABLE_GUID.vcek,
  VLEK: CERT_TABLE_GUID.vlek,
  CRL: "92f81bc3-5811-4d3d-97ff-d19f88dc67ea",
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `primary_evidence` has Trustee's shape (an `attestation_report` object). */
export function isTrusteeSnpEvidence(evidence: unknown): boolean {
  return (
    typeof evidence === "object" &&
    evidence !== null &&
    typeof (evidence as { attestation_report?: unknown }).attestation_report === "object"
  );
}

/**
 * Rebuilds the report bytes (and certificate table) from Trustee's SNP evidence JSON; `path` is the
 * evidence's field path in the request.
 *
 * @example
 * const r = snpReportFromTrusteeJson(att["tee-evidence"].primary_evidence, "tee-evidence.primary_evidence");
 * if (r.ok) appraise(r.report, r.certTable);
 */
export function snpReportFromTrusteeJson(evidence: unknown, path: string): SnpJsonResult {
  const problems: SnpJsonProblem[] = [];
  const ev = obj(evidence, path, problems);
  const p = `${path}.attestation_report`;
  const r = obj(ev?.attestation_report, p, problems);
  if (!r) return { ok: false, problems };
  const u = (name: string, max: number): number => int(r[name], `${p}.${name}`, max, problems);
  const bytes = (name: string, n: number): Buffer => byteArray(r[name], `${p}.${name}`, n, problems);
  const opt = (name: string, max: number): number | undefined =>
    r[name] === null || r[name] === undefined ? undefined : u(name, max);
  const tcb = (name: string) => {
    const t = obj(r[name], `${p}.${name}`, problems);
    const c = (k: string) => int(t?.[k], `${p}.${name}.${k}`, 255, problems);
    const fmc = t?.fmc === null || t?.fmc === undefined ? undefined : c("fmc");
    const comps = { bootloader: c("bootloader"), tee: c("tee"), snp: c("snp"), microcode: c("microcode") };
    const raw = encodeTcb(fmc === undefined ? comps : { ...comps, fmc }, fmc === undefined ? "milan-genoa" : "turin");
    return { raw };
  };
  const version = (name: string) => {
    const v = obj(r[name], `${p}.${name}`, problems);
    const c = (k: string) => int(v?.[k], `${p}.${name}.${k}`, 255, problems);
    return { major: c("major"), minor: c("minor"), build: c("build") };
  };
  const sig = obj(r.signature, `${p}.signature`, problems);
  const U32 = 0xffff_ffff;
  const U64 = Number.MAX_SAFE_INTEGER;
  const fields = {
    version: u("version", U32),
    guestSvn: u("guest_svn", U32),
    policy: { raw: BigInt(u("policy", U64)) },
    familyId: bytes("family_id", 16),
    imageId: bytes("image_id", 16),
    vmpl: u("vmpl", U32),
    signatureAlgo: u("sig_algo", U32),
    currentTcb: tcb("current_tcb"),
    platformInfo: { raw: BigInt(u("plat_info", U64)) },
    keyInfo: { raw: u("key_info", U32) },
    reportData: bytes("report_data", 64),
    measurement: bytes("measurement", 48),
    hostData: bytes("host_data", 32),
    idKeyDigest: bytes("id_key_digest", 48),
    authorKeyDigest: bytes("author_key_digest", 48),
    reportId: bytes("report_id", 32),
    reportIdMa: bytes("report_id_ma", 32),
    reportedTcb: tcb("reported_tcb"),
    chipId: bytes("chip_id", 64),
    committedTcb: tcb("committed_tcb"),
    currentVersion: version("current"),
    committedVersion: version("committed"),
    launchTcb: tcb("launch_tcb"),
    launchMitVector: opt("launch_mit_vector", U64),
    currentMitVector: opt("current_mit_vector", U64),
    signature: {
      r: byteArray(sig?.r, `${p}.signature.r`, 72, problems),
      s: byteArray(sig?.s, `${p}.signature.s`, 72, problems),
    },
  };
  const fam = opt("cpuid_fam_id", 255);
  const mod = opt("cpuid_mod_id", 255);
  const step = opt("cpuid_step", 255);
  if (fields.version >= 3 && (fam === undefined || mod === undefined || step === undefined))
    problems.push({ path: `${p}.cpuid_fam_id`, message: "a report of version 3 or later carries its CPUID" });
  const certTable = certChain(ev?.cert_chain, `${path}.cert_chain`, problems);
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, 20) };
  const report = serializeReport({
    ...fields,
    cpuid:
      fam === undefined || mod === undefined || step === undefined
        ? undefined
        : { family: fam, model: mod, stepping: step },
    launchMitVector: fields.launchMitVector === undefined ? undefined : BigInt(fields.launchMitVector),
    currentMitVector: fields.currentMitVector === undefined ? undefined : BigInt(fields.currentMitVector),
  });
  return { ok: true, report, certTable };
}

function certChain(value: unknown, path: string, problems: SnpJsonProblem[]): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Array.isArray(value)) {
    problems.push({ path, message: "must be an array of certificate table entries or null" });
    return undefined;
  }
  const entries = value.map((e, i) => {
    const o = obj(e, `${path}[${i}]`, problems);
    const t = o?.cert_type;
    let guid: string | undefined;
    if (typeof t === "string") guid = SEV_CERT_TYPE_GUID[t];
    else if (typeof t === "object" && t !== null && typeof (t as { OTHER?: unknown }).OTHER === "string")
      guid = GUID.test((t as { OTHER: string }).OTHER) ? (t as { OTHER: string }).OTHER.toLowerCase() : undefined;
    if (guid === undefined)
      problems.push({
        path: `${path}[${i}].cert_type`,
        message: 'must be "ARK", "ASK", "VCEK", "VLEK", "CRL" or {"OTHER": "<guid>"}',
      });
    const data = Array.isArray(o?.data) ? byteArray(o.data, `${path}[${i}].data`, o.data.length, problems) : undefined;
    if (data === undefined) problems.push({ path: `${path}[${i}].data`, message: "must be an array of bytes" });
    return { guid: guid ?? "", data: data ?? Buffer.alloc(0) };
  });
  return serializeCertTable(entries);
}

function obj(v: unknown, path: string, problems: SnpJsonProblem[]): Record<string, unknown> | undefined {
  if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  problems.push({ path, message: "must be an object" });
  return undefined;
}

function int(v: unknown, path: string, max: number, problems: SnpJsonProblem[]): number {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= max) return v;
  problems.push({ path, message: `must be an integer 0-${max}` });
  return 0;
}

function byteArray(v: unknown, path: string, n: number, problems: SnpJsonProblem[]): Buffer {
  if (!Array.isArray(v) || v.length !== n) {
    problems.push({ path, message: `must be an array of ${n} bytes` });
    return Buffer.alloc(n);
  }
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    const b = v[i] as unknown;
    if (typeof b !== "number" || !Number.isInteger(b) || b < 0 || b > 255) {
      problems.push({ path: `${path}[${i}]`, message: "must be a byte (0-255)" });
      return out;
    }
    out[i] = b;
  }
  return out;
}
