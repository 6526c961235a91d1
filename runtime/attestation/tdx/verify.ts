/**
 * `verifyTdxQuote`: authenticity of an Intel TDX quote (v4 or v5), the TDX counterpart of `verifySnpEvidence`.
 * Parses the quote, verifies the PCK chain to a pinned Intel SGX Root CA and its validity at `now`, the QE report
 * signature by the PCK key, the QE report data's binding of the attestation key (SHA-256(key || QE auth data) || 0^32)
 * and the quote signature by the attestation key over header and body. It never judges policy.
 */
import { createHash, createPublicKey, type KeyObject, verify as cryptoVerify } from "node:crypto";
import { AttestationError } from "../errors.js";
import { INTEL_SGX_ROOT_CA_SHA256 } from "./intel-root.js";
import { checkValidity, type PckChain, type PckExtensions, verifyPckChain } from "./pck.js";
import { parseTdxQuote, type TdxQuote } from "./quote.js";
import { checkTdxCollateral, type TdxCollateral, type TdxCollateralResult } from "./collateral-check.js";

/** Options of {@link verifyTdxQuote}. */
export interface VerifyTdxOptions {
  /** The raw quote (trailing padding allowed). */
  readonly quote: Uint8Array;
  /** The time at which certificates must be valid. */
  readonly now: Date;
  /** SHA-256 (hex) of the roots to trust; default the Intel SGX Root CA. Tests add their own. */
  readonly roots?: readonly string[];
  /** Shared cache of verified PCK chains (servers: a quote then costs two ECDSA verifications). */
  readonly cache?: PckChainCache;
  /** Intel PCS collateral; when given, it is verified and the TCB level evaluated (`tcb` in the result). */
  readonly collateral?: TdxCollateral;
}

/** What an authentic quote says, with how it was authenticated. */
export interface VerifiedTdxQuote {
  readonly tee: "tdx";
  readonly quote: TdxQuote;
  /** The PCK certificate's platform facts (FMSPC, PCE-ID, TCB). */
  readonly pck: PckExtensions;
  /** Which PCK CA issued the leaf (selects the PCK CRL). */
  readonly pckCa: "platform" | "processor";
  readonly chain: PckChain;
  /** SHA-256 of the signed region (header and body), lower-case hex: for audit logs, never the report data itself. */
  readonly quoteSha256: string;
  /** The collateral's verdict, when collateral was given. */
  readonly collateral?: TdxCollateralResult;
}

/**
 * Verified PCK chains by the SHA-256 of their PEM text, and imported attestation keys by their bytes (a platform's
 * Quoting Enclave keeps its key across quotes; importing checks the point and costs more than a verification).
 * Bounded; oldest entries leave first.
 */
export class PckChainCache {
  private readonly entries = new Map<string, PckChain>();
  private readonly keys = new Map<string, KeyObject>();
  constructor(private readonly max = 1024) {}
  /** The attestation key for `xy`, imported (and checked to be on the curve) on a miss. */
  attestationKey(xy: Buffer): KeyObject {
    const id = xy.toString("hex");
    const hit = this.keys.get(id);
    if (hit) return hit;
    const key = attestationKeyOf(xy);
    if (this.keys.size >= this.max) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(id, key);
    return key;
  }
  /** The chain verified for `pem` against `roots`, verifying it on a miss. */
  get(pem: string, roots: ReadonlySet<string>): PckChain {
    const key = `${[...roots].sort().join(",")}:${createHash("sha256").update(pem).digest("hex")}`;
    const hit = this.entries.get(key);
    if (hit) return hit;
    const chain = verifyPckChain(pem, roots);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, chain);
    return chain;
  }
}

/** The raw P-256 point X||Y as a key; `QUOTE_SIGNATURE` when it is not a point on the curve. */
function attestationKeyOf(xy: Buffer): KeyObject {
  try {
    return createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: xy.subarray(0, 32).toString("base64url"),
        y: xy.subarray(32, 64).toString("base64url"),
      },
      format: "jwk",
    });
  } catch (cause) {
    throw new AttestationError("QUOTE_SIGNATURE", "verifying the TDX quote: the attestation key is not a P-256 point", {
      path: "quote.signatureData.attestationKey",
      cause,
    });
  }
}

const p1363 = (key: KeyObject, data: Buffer, signature: Buffer) => {
  try {
    return cryptoVerify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
};

/**
 * Verifies a quote's authenticity.
 *
 * @example
 * const v = verifyTdxQuote({ quote: readFileSync("quote.bin"), now: new Date() });
 * v.quote.body.mrTd.toString("hex"); v.pck.fmspc.toString("hex");
 */
export function verifyTdxQuote(o: VerifyTdxOptions): VerifiedTdxQuote {
  const quote = parseTdxQuote(o.quote);
  const roots = new Set(o.roots ?? [INTEL_SGX_ROOT_CA_SHA256]);
  const chain = o.cache ? o.cache.get(quote.pckChainPem, roots) : verifyPckChain(quote.pckChainPem, roots);
  checkValidity([chain.leaf, chain.intermediate, chain.root], o.now, "verifying the PCK chain");
  if (!p1363(chain.leaf.publicKey, quote.qeReport.raw, quote.qeReportSignature))
    throw new AttestationError(
      "QE_REPORT_SIGNATURE",
      "verifying the TDX quote: the QE report is not signed by the PCK key",
      { path: "quote.qeReportSignature" },
    );
  const binding = createHash("sha256").update(quote.attestationKey).update(quote.qeAuthData).digest();
  const rd = quote.qeReport.reportData;
  if (!rd.subarray(0, 32).equals(binding) || rd.subarray(32).some((b) => b !== 0))
    throw new AttestationError(
      "QE_REPORT_BINDING",
      "verifying the TDX quote: the QE report data does not bind the attestation key",
      { path: "quote.qeReport.reportData" },
    );
  const key = o.cache ? o.cache.attestationKey(quote.attestationKey) : attestationKeyOf(quote.attestationKey);
  if (!p1363(key, quote.signedBytes, quote.signature))
    throw new AttestationError(
      "QUOTE_SIGNATURE",
      "verifying the TDX quote: the quote signature does not verify with the attestation key",
      { path: "quote.signature" },
    );
  return {
    tee: "tdx",
    quote,
    pck: chain.extensions,
    pckCa: chain.ca,
    chain,
    quoteSha256: createHash("sha256").update(quote.signedBytes).digest("hex"),
    ...(o.collateral ? { collateral: checkTdxCollateral(quote, chain, o.collateral, roots, o.now) } : {}),
  };
}
