/**
 * Checks a verified quote against Intel PCS collateral: the TCB Signing chain to a pinned root, the signatures and
 * validity windows of TCB info and QE identity, the CRLs when given (the root CA CRL: issued and signed by the root,
 * current, listing neither the PCK intermediate nor the TCB Signing certificate; the PCK CRL: issued and signed by the
 * PCK intermediate, current, not listing the PCK certificate), then the TCB level (`evaluateTdxTcb`).
 */
import type { Certificate } from "../../../core/index.js";
import { verifySignature } from "../../../core/index.js";
import { AttestationError } from "../errors.js";
import { parseCrl } from "../verify/crl.js";
import {
  checkCurrent,
  parseTdQeIdentity,
  parseTdxTcbInfo,
  verifyCollateralSignature,
  verifyTcbSigningChain,
} from "./collateral.js";
import type { PckChain } from "./pck.js";
import type { TdxQuote } from "./quote.js";
import { evaluateTdxTcb, type TdxTcbEvaluation } from "./tcb.js";

/** Collateral as Intel PCS (or a PCCS, or an offline directory) serves it. */
export interface TdxCollateral {
  /** The TCB info response for the platform's FMSPC (`/tdx/certification/v4/tcb?fmspc=`), bytes as received. */
  readonly tcbInfo: Uint8Array;
  /** The TD QE identity response (`/tdx/certification/v4/qe/identity`), bytes as received. */
  readonly qeIdentity: Uint8Array;
  /** The `TCB-Info-Issuer-Chain` (TCB Signing certificate, root), PEM. */
  readonly tcbSigningChain: string;
  /** The PCK CRL of the quote's PCK CA (DER); checked when present. */
  readonly pckCrl?: Uint8Array;
  /** The Intel SGX Root CA CRL (DER); checked when present. */
  readonly rootCrl?: Uint8Array;
}

/** What the collateral says about a quote. */
export interface TdxCollateralResult {
  readonly tcb: TdxTcbEvaluation;
  /** True when both CRLs were checked. */
  readonly revocationChecked: boolean;
  readonly tcbInfoIssueDate: Date;
}

function crlCheck(
  der: Uint8Array,
  issuer: Certificate,
  listed: ReadonlyArray<[Certificate, string]>,
  now: Date,
  what: string,
): void {
  const bad = (message: string) =>
    new AttestationError("CRL_INVALID", `checking the ${what}: ${message}`, { path: `collateral.${what}` });
  const crl = parseCrl(der);
  if (!crl.issuerRaw.equals(issuer.subjectRaw)) throw bad("not issued by the expected CA");
  if (!verifySignature(crl.signatureAlgorithm, crl.tbs, crl.signature, issuer.publicKey))
    throw bad("not signed by the expected CA");
  if (now.getTime() < crl.thisUpdate.getTime() || (crl.nextUpdate && now.getTime() > crl.nextUpdate.getTime()))
    throw bad(`not current at ${now.toISOString()}`);
  for (const [cert, name] of listed)
    if (crl.revokedSerials.has(cert.serial))
      throw new AttestationError("CERTIFICATE_REVOKED", `checking the ${what}: the ${name} certificate is revoked`, {
        path: `collateral.${what}`,
      });
}

/**
 * Verifies the collateral and evaluates the quote's TCB level.
 * Codes: `COLLATERAL_INVALID`, `COLLATERAL_EXPIRED`, `COLLATERAL_MISMATCH`, `TCB_LEVEL_UNKNOWN`, `CRL_INVALID`,
 * `CERTIFICATE_REVOKED`, and the chain codes for the TCB Signing chain.
 */
export function checkTdxCollateral(
  quote: TdxQuote,
  chain: PckChain,
  c: TdxCollateral,
  roots: ReadonlySet<string>,
  now: Date,
): TdxCollateralResult {
  const signing = verifyTcbSigningChain(c.tcbSigningChain, roots, now);
  const tcb = parseTdxTcbInfo(c.tcbInfo);
  verifyCollateralSignature("tcbInfo", tcb.signed, tcb.signature, signing.publicKey);
  checkCurrent("tcbInfo", tcb.info.issueDate, tcb.info.nextUpdate, now);
  const qe = parseTdQeIdentity(c.qeIdentity);
  verifyCollateralSignature("enclaveIdentity", qe.signed, qe.signature, signing.publicKey);
  checkCurrent("enclaveIdentity", qe.identity.issueDate, qe.identity.nextUpdate, now);
  if (c.rootCrl)
    crlCheck(
      c.rootCrl,
      chain.root,
      [
        [chain.intermediate, "PCK intermediate"],
        [signing, "TCB Signing"],
      ],
      now,
      "rootCrl",
    );
  if (c.pckCrl) crlCheck(c.pckCrl, chain.intermediate, [[chain.leaf, "PCK"]], now, "pckCrl");
  return {
    tcb: evaluateTdxTcb(quote, chain.extensions, tcb.info, qe.identity),
    revocationChecked: c.rootCrl !== undefined && c.pckCrl !== undefined,
    tcbInfoIssueDate: tcb.info.issueDate,
  };
}
