/**
 * TDX collateral from Intel PCS (or a PCCS with the same API, v4): the TCB info for the platform's FMSPC, the TD QE
 * identity, the PCK CRL of its CA and the root CA CRL, each response's issuer chain from its URL-encoded header. The
 * fetch is injected (tests serve the real vector files from loopback). Any failure is `COLLATERAL_UNAVAILABLE`: the
 * caller chooses to fail open or closed, as for SNP.
 */
import { AttestationError } from "../errors.js";
import type { TdxCollateral } from "./collateral-check.js";

/** Intel's public PCS. */
export const INTEL_PCS_URL = "https://api.trustedservices.intel.com";
/** The Intel SGX Root CA's CRL (the root certificate's CRL distribution point). */
export const INTEL_ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

/** The part of `fetch` the getter uses. */
export type PcsFetch = (url: string) => Promise<{
  readonly status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Source of a platform's collateral. */
export interface TdxCollateralGetter {
  get(fmspc: string, ca: "platform" | "processor"): Promise<TdxCollateral>;
}

/** Options of {@link pcsTdxGetter}. */
export interface PcsOptions {
  /** PCS or PCCS base URL; default Intel's. */
  readonly baseUrl?: string;
  readonly rootCrlUrl?: string;
  /** Check revocation (fetch both CRLs); default true. */
  readonly crls?: boolean;
  readonly fetch?: PcsFetch;
}

function unavailable(what: string, message: string, cause?: unknown): AttestationError {
  return new AttestationError("COLLATERAL_UNAVAILABLE", `fetching TDX collateral: ${what}: ${message}`, {
    path: `collateral.${what}`,
    cause,
  });
}

/**
 * A getter over Intel PCS v4.
 *
 * @example
 * const collateral = await pcsTdxGetter().get("50806f000000", "platform");
 */
export function pcsTdxGetter(o: PcsOptions = {}): TdxCollateralGetter {
  const base = (o.baseUrl ?? INTEL_PCS_URL).replace(/\/$/, "");
  const doFetch: PcsFetch = o.fetch ?? ((url) => fetch(url));
  const get = async (what: string, url: string, chainHeader?: string) => {
    let res;
    try {
      res = await doFetch(url);
    } catch (cause) {
      throw unavailable(what, `${url} is unreachable`, cause);
    }
    if (res.status !== 200) throw unavailable(what, `${url} answered HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (chainHeader === undefined) return { body, chain: "" };
    const raw = res.headers.get(chainHeader);
    if (!raw) throw unavailable(what, `${url} sent no ${chainHeader} header`);
    let chain: string;
    try {
      chain = decodeURIComponent(raw);
    } catch (cause) {
      throw unavailable(what, `${chainHeader} is not URL-encoded PEM`, cause);
    }
    return { body, chain };
  };
  return {
    async get(fmspc, ca) {
      if (!/^[0-9a-fA-F]{12}$/.test(fmspc)) throw new TypeError("pcsTdxGetter: fmspc must be 12 hex characters");
      const tcb = await get(
        "tcbInfo",
        `${base}/tdx/certification/v4/tcb?fmspc=${fmspc.toLowerCase()}`,
        "TCB-Info-Issuer-Chain",
      );
      const qe = await get(
        "qeIdentity",
        `${base}/tdx/certification/v4/qe/identity`,
        "SGX-Enclave-Identity-Issuer-Chain",
      );
      if (qe.chain.replace(/\s/g, "") !== tcb.chain.replace(/\s/g, ""))
        throw unavailable(
          "qeIdentity",
          "its issuer chain differs from the TCB info's (both are the TCB Signing chain)",
        );
      if (o.crls === false) return { tcbInfo: tcb.body, qeIdentity: qe.body, tcbSigningChain: tcb.chain };
      const pckCrl = await get("pckCrl", `${base}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`);
      const rootCrl = await get("rootCrl", o.rootCrlUrl ?? INTEL_ROOT_CRL_URL);
      return {
        tcbInfo: tcb.body,
        qeIdentity: qe.body,
        tcbSigningChain: tcb.chain,
        pckCrl: pckCrl.body,
        rootCrl: rootCrl.body,
      };
    },
  };
}
