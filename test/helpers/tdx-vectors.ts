/** The real Intel TDX quotes and collateral in test/vectors/attestation/tdx, with the facts of their manifest. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The folder of the TDX vectors. */
export const TDX_VECTORS = join(__dirname, "../vectors/attestation/tdx");

/** Facts an independent parser derived for one quote (subset used by the tests). */
export interface QuoteEntry {
  readonly file: string;
  readonly facts: {
    readonly header: { readonly version: number; readonly qe_vendor_id: string; readonly user_data: string };
    readonly body_type: number | null;
    readonly body: Record<string, string>;
    readonly signed_region_len: number;
    readonly trailing_bytes_after_signature_data: number;
    readonly quote_signature_rs_be: string;
    readonly attestation_key_xy: string;
    readonly qe_report: {
      readonly mr_signer: string;
      readonly isv_prod_id: number;
      readonly isv_svn: number;
      readonly report_data: string;
    };
    readonly qe_auth_data: string;
  };
  readonly verification: {
    readonly valid_at: string;
    readonly pck_chain: { readonly intermediate_cn: string; readonly common_validity_window: [string, string] };
    readonly pck_extensions: {
      readonly ppid: string;
      readonly pcesvn: number;
      readonly cpusvn: string;
      readonly sgx_tcb_comp_svn: number[];
      readonly pceid: string;
      readonly fmspc: string;
      readonly sgx_type: number;
    };
  };
}

const manifest = JSON.parse(readFileSync(join(TDX_VECTORS, "manifest.json"), "utf8")) as {
  entries: Array<{ kind: string } & QuoteEntry>;
};

/** The 7 quotes. */
export const QUOTES: readonly QuoteEntry[] = manifest.entries.filter((e) => e.kind === "quote");

/** A vector file's bytes. */
export function tdxVector(file: string): Buffer {
  return readFileSync(join(TDX_VECTORS, file));
}

/** Trustee's quote 4 with its complete 2023 collateral (TCB info, QE identity, TCB Signing chain, both CRLs). */
export function quote4Collateral(): {
  tcbInfo: Buffer;
  qeIdentity: Buffer;
  tcbSigningChain: string;
  pckCrl: Buffer;
  rootCrl: Buffer;
} {
  return {
    tcbInfo: tdxVector("collateral/tcbinfo-tdx-fmspc-50806f000000-issued-2023-06-18.json"),
    qeIdentity: tdxVector("collateral/qe-identity-td_qe-issued-2023-06-08.json"),
    tcbSigningChain: tdxVector("certs/intel-sgx-tcb-signing-chain-2018.pem").toString(),
    pckCrl: tdxVector("collateral/pck-crl-platform-ca-2023-06-08.der"),
    rootCrl: tdxVector("collateral/root-ca-crl-2023-04-03.der"),
  };
}
