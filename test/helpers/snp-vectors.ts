/** The real SEV-SNP evidence vendored under test/vectors/attestation/snp (see its manifest.json). */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Root of the SNP vectors. */
export const SNP_VECTORS = join(__dirname, "../vectors/attestation/snp");

/** TCB facts as the manifest states them. */
export interface ManifestTcb {
  readonly raw_hex: string;
  readonly layout: string;
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  readonly fmc?: number;
}

/** One report entry of manifest.json (the fields the tests use). */
export interface ReportEntry {
  readonly file: string;
  readonly facts: {
    readonly version: number;
    readonly guest_svn: number;
    readonly policy: Record<string, unknown> & { readonly hex: string };
    readonly family_id: string;
    readonly image_id: string;
    readonly vmpl: number;
    readonly signature_algo: number;
    readonly product_line_assumed_for_tcb: string | null;
    readonly current_tcb: ManifestTcb;
    readonly platform_info: Record<string, unknown> & { readonly hex: string };
    readonly key_info: {
      readonly hex: string;
      readonly author_key_en: boolean;
      readonly mask_chip_key: boolean;
      readonly signing_key: string;
    };
    readonly report_data: string;
    readonly measurement: string;
    readonly host_data: string;
    readonly id_key_digest: string;
    readonly author_key_digest: string;
    readonly report_id: string;
    readonly report_id_ma: string;
    readonly reported_tcb: ManifestTcb;
    readonly cpuid_fam_id: number | null;
    readonly cpuid_mod_id: number | null;
    readonly cpuid_step: number | null;
    readonly chip_id: string;
    readonly committed_tcb: ManifestTcb;
    readonly current_version: string;
    readonly committed_version: string;
    readonly launch_tcb: ManifestTcb;
    readonly launch_mit_vector: string | number | null;
    readonly current_mit_vector: string | number | null;
    readonly signature_r_hex_be: string;
    readonly signature_s_hex_be: string;
    readonly sha256: string;
  };
  readonly verification?: {
    readonly signing_key_cert?: string;
    readonly chain?: { readonly ark: string; readonly intermediate: string };
    readonly valid_at?: string;
    readonly end_to_end?: boolean;
    readonly vek_product_name?: string;
    readonly kds_vcek_url_from_report?: string;
    readonly chip_id_equals_vcek_hwid?: boolean;
  };
}

interface Manifest {
  readonly entries: readonly (ReportEntry & { readonly kind: string })[];
}

const manifest = JSON.parse(readFileSync(join(SNP_VECTORS, "manifest.json"), "utf8")) as Manifest;

/** Every report entry (20). */
export const REPORT_ENTRIES: readonly ReportEntry[] = manifest.entries.filter((e) => e.kind === "report");

/** The 19 reports that verify end to end. */
export const VERIFIABLE: readonly ReportEntry[] = REPORT_ENTRIES.filter((e) => e.verification?.end_to_end === true);

/** Reads a vector file relative to the SNP vectors root. */
export function vector(rel: string): Buffer {
  return readFileSync(join(SNP_VECTORS, rel));
}

/** Raw bytes, VEK and valid_at of a verifiable report, by file name fragment. */
export function realCase(fragment: string): {
  readonly entry: ReportEntry;
  readonly report: Buffer;
  readonly vek: Buffer;
  readonly now: Date;
} {
  const entry = VERIFIABLE.find((e) => e.file.includes(fragment));
  if (!entry?.verification?.signing_key_cert || !entry.verification.valid_at)
    throw new Error(`no verifiable vector matches ${fragment}`);
  return {
    entry,
    report: vector(entry.file),
    vek: vector(entry.verification.signing_key_cert),
    now: new Date(entry.verification.valid_at),
  };
}
