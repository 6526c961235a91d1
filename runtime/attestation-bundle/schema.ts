/**
 * The attestation bundle (version 1): what a runtime publishes so a client can check, before it
 * sends anything, that a key belongs to an attested runtime. JSON, parsed strictly (unknown keys
 * refused, every problem reported at once by field path):
 *
 * ```json
 * { "version": 1, "tee": "sev-snp",
 *   "keyConfig": "<base64: RFC 9458 key configuration>",
 *   "notBefore": "2026-12-01T10:00:00Z", "notAfter": "2026-12-01T11:00:00Z",
 *   "nonce": "<hex, 16..64 bytes: present when made for a client's nonce>",
 *   "evidence": { "report": "<base64: 1184-byte SNP report>", "certTable": "<base64: extended-report certificate table>" },
 *   "manifest": "<compact JWS: the signed golden manifest>",
 *   "launch": { "release": "2026.11.0", "launchShape": "runtime-small" } }
 * ```
 *
 * The report's REPORT_DATA binds `keyConfig`, `notBefore`, `notAfter` and `nonce` (binding.ts);
 * `manifest` is checked with the pinned release key; `launch` is informational (the verdict says
 * which release the measurement belongs to). The gateway's list of a model's bundles
 * (`GET /v1/attestation/{model}`) is `{ "model": m, "runtimes": [{ "id": "<16 hex>", "bundle": ... }] }`.
 */
import { z } from "zod";
import { formatProblems, problemCount, problemsFromIssues, type Problem } from "../../core/index.js";
import { decodeKeyConfig, isOhttpError, type KeyConfig } from "../ohttp/index.js";
import { NONCE_BYTES } from "./binding.js";
import { BundleError } from "./errors.js";

/** Size of an SNP ATTESTATION_REPORT in bytes (AMD SEV-SNP ABI, table 22). */
const SNP_REPORT_BYTES = 1184;

const base64 = (what: string) =>
  z
    .string()
    .min(4)
    .max(1 << 20)
    .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, `${what}: standard base64 with padding`);
const isoSeconds = z
  .string()
  .regex(
    /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/,
    "a UTC time in whole seconds (2026-12-01T10:00:00Z)",
  )
  .refine((s) => !Number.isNaN(Date.parse(s)), "not a valid time");
const label = z
  .string()
  .regex(/^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/, "letters, digits, '.', '_', '-' (at most 64)")
  .optional();

/** zod schema of the bundle JSON. */
export const attestationBundleSchema = z.strictObject({
  version: z.literal(1),
  tee: z.literal("sev-snp"),
  keyConfig: base64("keyConfig"),
  notBefore: isoSeconds,
  notAfter: isoSeconds,
  nonce: z
    .string()
    .regex(
      new RegExp(`^(?:[0-9a-f]{2}){${NONCE_BYTES.min},${NONCE_BYTES.max}}$`),
      `${NONCE_BYTES.min}..${NONCE_BYTES.max} bytes in lower-case hex`,
    )
    .optional(),
  evidence: z.strictObject({ report: base64("report"), certTable: base64("certTable").optional() }),
  manifest: z
    .string()
    .max(1 << 20)
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "a compact JWS")
    .optional(),
  launch: z.strictObject({ release: label, launchShape: label }).optional(),
});

/** The bundle as JSON (what the runtime serves and the gateway relays). */
export type AttestationBundleJson = z.infer<typeof attestationBundleSchema>;

/** A parsed bundle: bytes decoded, times as dates. */
export interface AttestationBundle {
  readonly version: 1;
  readonly tee: "sev-snp";
  /** The key configuration bytes (what REPORT_DATA binds) and their decoded form. */
  readonly keyConfigBytes: Uint8Array;
  readonly keyConfig: KeyConfig;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly nonce?: Uint8Array;
  readonly evidence: { readonly report: Uint8Array; readonly certTable?: Uint8Array };
  readonly manifest?: string;
  readonly launch?: { readonly release?: string; readonly launchShape?: string };
}

function malformed(problems: readonly Problem[], prefix: string): BundleError {
  return new BundleError(
    "BUNDLE_MALFORMED",
    `invalid attestation bundle (${problemCount(problems)}): ${formatProblems(problems)}`,
    {
      problems: problems.map((p) => ({
        path: p.path.startsWith(prefix) ? p.path : `${prefix}.${p.path}`,
        message: p.message,
      })),
    },
  );
}

/**
 * Parses a bundle (a JSON value).
 *
 * @example const bundle = parseAttestationBundle(await response.json());
 * @throws BundleError `BUNDLE_MALFORMED` listing every problem by field path (`bundle.evidence.report`).
 */
export function parseAttestationBundle(value: unknown, prefix = "bundle"): AttestationBundle {
  const r = attestationBundleSchema.safeParse(value);
  if (!r.success) throw malformed(problemsFromIssues(r.error.issues, { prefix }), prefix);
  const j = r.data;
  const problems: Problem[] = [];
  const report = Buffer.from(j.evidence.report, "base64");
  if (report.length !== SNP_REPORT_BYTES)
    problems.push({
      path: `${prefix}.evidence.report`,
      message: `${report.length} bytes, an SNP report has ${SNP_REPORT_BYTES}`,
    });
  const keyConfigBytes = Uint8Array.from(Buffer.from(j.keyConfig, "base64"));
  let keyConfig: KeyConfig | undefined;
  try {
    keyConfig = decodeKeyConfig(keyConfigBytes);
  } catch (e) {
    if (!isOhttpError(e)) throw e;
    problems.push({ path: `${prefix}.keyConfig`, message: `not an RFC 9458 key configuration (${e.code})` });
  }
  const notBefore = new Date(j.notBefore);
  const notAfter = new Date(j.notAfter);
  if (notAfter.getTime() <= notBefore.getTime())
    problems.push({ path: `${prefix}.notAfter`, message: "must be after notBefore" });
  if (problems.length > 0 || keyConfig === undefined) throw malformed(problems, prefix);
  return {
    version: 1,
    tee: "sev-snp",
    keyConfigBytes,
    keyConfig,
    notBefore,
    notAfter,
    ...(j.nonce !== undefined ? { nonce: Uint8Array.from(Buffer.from(j.nonce, "hex")) } : {}),
    evidence: {
      report,
      ...(j.evidence.certTable !== undefined ? { certTable: Buffer.from(j.evidence.certTable, "base64") } : {}),
    },
    ...(j.manifest !== undefined ? { manifest: j.manifest } : {}),
    ...(j.launch !== undefined ? { launch: j.launch } : {}),
  };
}

/** What a runtime puts in a bundle. */
export interface BundleContents {
  readonly keyConfig: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly nonce?: Uint8Array;
  readonly report: Uint8Array;
  readonly certTable?: Uint8Array;
  readonly manifest?: string;
  readonly launch?: { readonly release?: string; readonly launchShape?: string };
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");

/**
 * The JSON form of a bundle (the runtime's side).
 * @throws TypeError when a time is not whole seconds.
 */
export function formatAttestationBundle(c: BundleContents): AttestationBundleJson {
  for (const [what, d] of [
    ["notBefore", c.notBefore],
    ["notAfter", c.notAfter],
  ] as const)
    if (d.getTime() % 1000 !== 0) throw new TypeError(`formatAttestationBundle: ${what} must be whole seconds`);
  return {
    version: 1,
    tee: "sev-snp",
    keyConfig: b64(c.keyConfig),
    notBefore: iso(c.notBefore),
    notAfter: iso(c.notAfter),
    ...(c.nonce !== undefined ? { nonce: Buffer.from(c.nonce).toString("hex") } : {}),
    evidence: { report: b64(c.report), ...(c.certTable !== undefined ? { certTable: b64(c.certTable) } : {}) },
    ...(c.manifest !== undefined ? { manifest: c.manifest } : {}),
    ...(c.launch !== undefined ? { launch: c.launch } : {}),
  };
}

/** zod schema of the gateway's bundle list; each bundle is parsed on its own. */
export const bundleListSchema = z.strictObject({
  model: z.string().min(1).max(128),
  runtimes: z
    .array(z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/, "16 lower-case hex"), bundle: z.unknown() }))
    .max(256),
});

/** The gateway's list of a model's runtimes and their (unparsed) bundles. */
export type BundleList = z.infer<typeof bundleListSchema>;

/**
 * Parses the gateway's bundle list (each bundle stays unparsed: one bad bundle must not hide the others).
 * @throws BundleError `BUNDLE_MALFORMED`.
 */
export function parseBundleList(value: unknown): BundleList {
  const r = bundleListSchema.safeParse(value);
  if (!r.success) throw malformed(problemsFromIssues(r.error.issues, { prefix: "list" }), "list");
  return r.data;
}
