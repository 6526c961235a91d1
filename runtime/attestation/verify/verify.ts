/**
 * `verifySnpEvidence`: authenticity and structure of an SEV-SNP report. Parses the report, resolves
 * the product line, obtains the VCEK/VLEK and intermediate (from the evidence or the injected
 * getter), verifies the chain to a pinned root, binds REPORTED_TCB and CHIP_ID to the VEK, checks
 * revocation when asked, and verifies the report signature. It never judges policy (see validate/).
 */
import { createHash, verify as cryptoVerify } from "node:crypto";
import type { EvidenceClaims } from "../../../measurements/drift/index.js";
import { productFromCpuId, type SnpProduct } from "../abi/product.js";
import { parseReport, signatureToP1363, signedBytes, type SnpReport } from "../abi/report.js";
import { tcbComponentNames, tcbComponents } from "../abi/tcb.js";
import { AttestationError } from "../errors.js";
import { readCertificates } from "./certificates.js";
import { type ChainCache, verifyChain, type VerifiedChain } from "./chain.js";
import { kdsCertChainPath, kdsCrlPath, kdsVcekPath, type CollateralGetter } from "./collateral.js";
import { checkRevocation } from "./crl.js";
import type { RootId, TrustAnchor } from "./trust.js";
import { parseVekExtensions, type VekInfo } from "./vek.js";

/** Certificates and CRL that came with the evidence (extended report, `--certs DIR`); DER or PEM. */
export interface SnpCollateral {
  /** VCEK or VLEK certificate. */
  readonly vek?: Uint8Array;
  /** ASK (for a VCEK) or ASVK (for a VLEK). */
  readonly intermediate?: Uint8Array;
  /** ARK; must be a pinned root when present. */
  readonly ark?: Uint8Array;
  /** ARK-signed CRL (DER); checked whenever present. */
  readonly crl?: Uint8Array;
}

/** Options of {@link verifySnpEvidence}. */
export interface VerifySnpOptions {
  /** The raw 1184-byte report. */
  readonly report: Uint8Array;
  /** Roots to trust: `amdTrustAnchors()`, or `anchorsFor(policy.allowedRoots, simulated)`. */
  readonly anchors: readonly TrustAnchor[];
  /** The time at which certificates (and the CRL) must be valid. */
  readonly now: Date;
  /** Collateral supplied with the evidence. */
  readonly collateral?: SnpCollateral;
  /** Source of missing collateral (KDS, offline directory); absent means "only what was supplied". */
  readonly getter?: CollateralGetter;
  /** Product line; required for v2 reports unless the VEK is supplied. Must agree with CPUID and the VEK. */
  readonly product?: SnpProduct;
  /** Fetch and check the CRL through the getter when none was supplied (default false). */
  readonly checkRevocation?: boolean;
  /** Shared chain cache (recommended for servers: verification then costs about one ECDSA verify). */
  readonly cache?: ChainCache;
}

/** What an authentic report says, with how it was authenticated. */
export interface VerifiedSnpEvidence {
  readonly tee: "sev-snp";
  /** The report, decoded with the verified product's TCB layout. */
  readonly report: SnpReport;
  readonly product: SnpProduct;
  /** The key that signed the report. */
  readonly signer: "vcek" | "vlek";
  /** Which trusted root the chain ends in. */
  readonly rootId: RootId;
  /** The VEK's extensions, validity and SHA-256 (hex). */
  readonly vek: VekInfo & { readonly notBefore: Date; readonly notAfter: Date; readonly sha256: string };
  /** True when CHIP_ID was compared with the VCEK hwID; false for VLEKs and masked (all-zero) CHIP_IDs. */
  readonly chipIdBound: boolean;
  /** True when a CRL was checked. */
  readonly revocationChecked: boolean;
  /** SHA-256 of the raw report, lower-case hex (for audit logs; never the report data itself). */
  readonly reportSha256: string;
  /** The TEE-neutral claims used for drift classification and tokens. */
  readonly claims: EvidenceClaims;
}

function fail(
  code:
    | "UNTRUSTED_ROOT"
    | "PRODUCT_UNKNOWN"
    | "PRODUCT_MISMATCH"
    | "REPORT_UNSIGNED"
    | "COLLATERAL_UNAVAILABLE"
    | "SIGNER_MISMATCH"
    | "TCB_MISMATCH"
    | "CHIP_ID_MISMATCH"
    | "REPORT_SIGNATURE",
  message: string,
  path: string,
): never {
  throw new AttestationError(code, message, { path });
}

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/** Product from CPUID (v3+), the caller, or the supplied VEK's productName, all of which must agree. */
function resolveProduct(first: SnpReport, opts: VerifySnpOptions, cache: ChainCache | undefined): SnpProduct {
  const fromCpuid = first.cpuid ? productFromCpuId(first.cpuid) : undefined;
  if (first.cpuid && !fromCpuid) {
    fail(
      "PRODUCT_UNKNOWN",
      `resolving product: CPUID family 0x${first.cpuid.family.toString(16)} model 0x${first.cpuid.model.toString(16)} is not a known SEV-SNP part`,
      "report.cpuid",
    );
  }
  if (fromCpuid && opts.product && fromCpuid !== opts.product)
    fail(
      "PRODUCT_MISMATCH",
      `resolving product: the report's CPUID says ${fromCpuid}, the caller says ${opts.product}`,
      "report.cpuid",
    );
  const known = fromCpuid ?? opts.product;
  if (known) return known;
  if (!opts.collateral?.vek)
    fail(
      "PRODUCT_UNKNOWN",
      "resolving product: a v2 report does not name its product; give the product or the VEK",
      "report.version",
    );
  const vekBytes = opts.collateral.vek;
  const parse = () => {
    const list = readCertificates(vekBytes);
    if (list.length !== 1)
      throw new AttestationError(
        "CERTIFICATE_MALFORMED",
        "resolving product: the VEK must be exactly one certificate",
        { path: "vek" },
      );
    return list[0] as ReturnType<typeof readCertificates>[number];
  };
  const sha = createHash("sha256").update(vekBytes).digest("hex");
  return parseVekExtensions(cache ? cache.certificate(sha, parse) : parse()).product;
}

async function obtainVek(
  report: SnpReport,
  product: SnpProduct,
  signer: "vcek" | "vlek",
  opts: VerifySnpOptions,
): Promise<Uint8Array> {
  if (opts.collateral?.vek) return opts.collateral.vek;
  if (signer === "vlek")
    fail(
      "COLLATERAL_UNAVAILABLE",
      "obtaining VLEK: a VLEK-signed report needs its VLEK certificate with the evidence (KDS serves VLEKs only to cloud providers)",
      "collateral.vek",
    );
  if (isZero(report.chipId))
    fail(
      "COLLATERAL_UNAVAILABLE",
      "obtaining VCEK: CHIP_ID is masked, so the VCEK cannot be looked up; supply it with the evidence",
      "collateral.vek",
    );
  if (!opts.getter)
    fail(
      "COLLATERAL_UNAVAILABLE",
      "obtaining VCEK: no VCEK supplied and no collateral getter configured",
      "collateral.vek",
    );
  return opts.getter.get(kdsVcekPath(product, report.chipId, tcbComponents(report.reportedTcb)));
}

async function obtainIntermediate(
  product: SnpProduct,
  signer: "vcek" | "vlek",
  opts: VerifySnpOptions,
): Promise<{ intermediate?: Uint8Array; ark?: Uint8Array }> {
  if (opts.collateral?.intermediate) return { intermediate: opts.collateral.intermediate, ark: opts.collateral.ark };
  const pinned = opts.anchors.some((a) => a.product === product && (signer === "vcek" ? a.ask : a.asvk));
  if (pinned || !opts.getter) return { ark: opts.collateral?.ark };
  const certs = readCertificates(await opts.getter.get(kdsCertChainPath(product, signer)));
  if (certs.length !== 2)
    fail(
      "COLLATERAL_UNAVAILABLE",
      `obtaining cert_chain: expected 2 certificates, got ${certs.length}`,
      "collateral.intermediate",
    );
  return { intermediate: (certs[0] as (typeof certs)[number]).der, ark: (certs[1] as (typeof certs)[number]).der };
}

function bindReport(report: SnpReport, chain: VerifiedChain, product: SnpProduct): boolean {
  const info = chain.vekInfo;
  for (const name of tcbComponentNames(report.reportedTcb.layout)) {
    const reported = report.reportedTcb[name];
    const certified = info.tcb[name];
    if (reported !== certified)
      fail(
        "TCB_MISMATCH",
        `binding report to ${info.role.toUpperCase()}: REPORTED_TCB ${name} is ${reported}, the certificate was issued for ${certified ?? "none"}`,
        `report.reportedTcb.${name}`,
      );
  }
  if (info.role === "vlek" || isZero(report.chipId)) return false;
  const hw = info.hwId as Buffer;
  const idLen = product === "Turin" ? 8 : 64;
  if (!report.chipId.subarray(0, idLen).equals(hw) || !isZero(report.chipId.subarray(idLen))) {
    fail("CHIP_ID_MISMATCH", "binding report to VCEK: CHIP_ID differs from the certificate's hwID", "report.chipId");
  }
  return true;
}

/**
 * Verifies an SEV-SNP report's authenticity. Throws {@link AttestationError} with the first failure's
 * code (see errors.ts); `COLLATERAL_UNAVAILABLE` means the verdict could not be reached.
 *
 * @example
 * const evidence = await verifySnpEvidence({
 *   report, collateral: { vek }, anchors: amdTrustAnchors(), now: new Date(),
 *   getter: cachedGetter(kdsGetter()), cache: new ChainCache(),
 * });
 * evidence.claims.measurement; // 96 hex characters
 */
export async function verifySnpEvidence(opts: VerifySnpOptions): Promise<VerifiedSnpEvidence> {
  if (!(opts.now instanceof Date) || Number.isNaN(opts.now.getTime()))
    throw new TypeError("verifySnpEvidence: now must be a valid Date");
  const first = parseReport(opts.report, opts.product ? { product: opts.product } : {});
  const { keyInfo } = first;
  if (keyInfo.signingKey === "none" || keyInfo.maskChipKey)
    fail(
      "REPORT_UNSIGNED",
      "verifying report: the firmware did not sign this report (SIGNING_KEY none or MASK_CHIP_KEY set)",
      "report.keyInfo",
    );
  const signer = keyInfo.signingKey;
  const product = resolveProduct(first, opts, opts.cache);
  const report = first.product === product ? first : parseReport(opts.report, { product });
  if (!opts.anchors.some((a) => a.product === product)) {
    fail(
      "UNTRUSTED_ROOT",
      `verifying report: no trusted root for ${product} (trusted: ${opts.anchors.map((a) => `${a.id}/${a.product}`).join(", ") || "none"})`,
      "anchors",
    );
  }
  const vek = await obtainVek(report, product, signer, opts);
  const { intermediate, ark } = await obtainIntermediate(product, signer, opts);
  const chain = verifyChain({
    anchors: opts.anchors,
    product,
    vek,
    intermediate,
    ark,
    now: opts.now,
    cache: opts.cache,
  });
  if (chain.vekInfo.role !== signer)
    fail(
      "SIGNER_MISMATCH",
      `verifying report: KEY_INFO says ${signer.toUpperCase()}, the certificate is a ${chain.vekInfo.role.toUpperCase()}`,
      "report.keyInfo.signingKey",
    );
  let revocationChecked = false;
  const crl =
    opts.collateral?.crl ??
    (opts.checkRevocation && opts.getter ? await opts.getter.get(kdsCrlPath(product, signer)) : undefined);
  if (crl) {
    checkRevocation(crl, chain.anchor.ark, chain.intermediate, opts.now);
    revocationChecked = true;
  } else if (opts.checkRevocation)
    fail(
      "COLLATERAL_UNAVAILABLE",
      "checking revocation: no CRL supplied and no collateral getter configured",
      "collateral.crl",
    );
  const chipIdBound = bindReport(report, chain, product);
  const ok = cryptoVerify(
    "sha384",
    signedBytes(opts.report),
    { key: chain.vek.publicKey, dsaEncoding: "ieee-p1363" },
    signatureToP1363(report.signature),
  );
  if (!ok)
    fail(
      "REPORT_SIGNATURE",
      `verifying report: the ECDSA P-384 signature does not verify with the ${signer.toUpperCase()}`,
      "report.signature",
    );
  const chipHex = chipIdBound ? report.chipId.toString("hex") : "0".repeat(128);
  return {
    tee: "sev-snp",
    report,
    product,
    signer,
    rootId: chain.anchor.id,
    vek: { ...chain.vekInfo, notBefore: chain.vek.notBefore, notAfter: chain.vek.notAfter, sha256: chain.vekSha256 },
    chipIdBound,
    revocationChecked,
    reportSha256: createHash("sha256").update(opts.report).digest("hex"),
    claims: {
      tee: "sev-snp",
      measurement: report.measurement.toString("hex"),
      product,
      reportedTcb: tcbComponents(report.reportedTcb),
      chipId: chipHex,
    },
  };
}
