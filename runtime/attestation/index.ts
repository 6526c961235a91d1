/**
 * The attestation verifier (RATS Verifier): entry point of `runtime/attestation`.
 *
 * @example
 * import { amdTrustAnchors, anchorsFor, appraiseSnpEvidence, parseAttestationPolicy } from "../attestation/index.js";
 * const policy = parseAttestationPolicy(json);
 * const verdict = await appraiseSnpEvidence({ report, collateral, anchors: anchorsFor(policy.allowedRoots), now: new Date(), policy, manifests, expectedReportData });
 */
export { appraiseSnpEvidence, type AppraiseSnpOptions, type SnpVerdict, type VerdictBase } from "./appraise.js";
export {
  ATTESTATION_ERROR_CODES,
  ATTESTATION_ERROR_MEANINGS,
  AttestationError,
  isAttestationError,
  type AttestationErrorCode,
} from "./errors.js";
export {
  decodeKeyInfo,
  decodePlatformInfo,
  decodePolicy,
  encodeKeyInfo,
  encodePolicy,
  type GuestPolicy,
  type GuestPolicyFlags,
  type KeyInfo,
  type PlatformInfo,
  type SigningKey,
} from "./abi/bits.js";
export {
  CERT_TABLE_GUID,
  collateralFromCertTable,
  parseCertTable,
  serializeCertTable,
  type CertTableEntry,
} from "./abi/certtable.js";
export { isSnpProduct, productFromCpuId, SNP_PRODUCTS, type CpuId, type SnpProduct } from "./abi/product.js";
export {
  parseReport,
  REPORT_SIZE,
  serializeReport,
  signatureFromP1363,
  signatureToP1363,
  type FirmwareVersion,
  type ParseReportOptions,
  type SnpReport,
  type SnpReportFields,
} from "./abi/report.js";
export { decodeTcb, encodeTcb, tcbComponents, type TcbLayout, type TcbVersion } from "./abi/tcb.js";
export {
  MAX_RESULT_TTL_SECONDS,
  RESULT_TOKEN_TYPE,
  signAttestationResult,
  verifyAttestationResult,
  type AttestationResultClaims,
  type ResultSigner,
  type SignResultOptions,
  type VerifyResultOptions,
} from "./result/token.js";
export {
  defaultAttestationPolicy,
  parseAttestationPolicy,
  attestationPolicyFromVerifierPolicy,
  attestationPolicySchema,
  type SnpAttestationPolicy,
  type SnpAttestationPolicyInput,
} from "./validate/attestation-policy.js";
export { memoryReplayGuard, type MemoryReplayGuardOptions, type ReplayGuard } from "./validate/replay.js";
export {
  validateSnpReport,
  type PolicyFailure,
  type SnpValidation,
  type ValidateSnpOptions,
} from "./validate/validate.js";
export { readCertificates } from "./verify/certificates.js";
export { ChainCache, type VerifiedChain } from "./verify/chain.js";
export {
  cachedGetter,
  kdsCertChainPath,
  kdsCrlPath,
  kdsGetter,
  kdsVcekPath,
  mapGetter,
  type CollateralGetter,
  type KdsGetterOptions,
} from "./verify/collateral.js";
export { directoryGetter, kdsPathToFile } from "./verify/collateral-dir.js";
export {
  amdTrustAnchor,
  amdTrustAnchors,
  anchorsFor,
  ROOT_IDS,
  trustAnchor,
  type RootId,
  type TrustAnchor,
} from "./verify/trust.js";
export {
  verifySnpEvidence,
  type SnpCollateral,
  type VerifiedSnpEvidence,
  type VerifySnpOptions,
} from "./verify/verify.js";
export { type ReportSignature, SIG_ALGO_ECDSA_P384_SHA384, SIZE } from "./abi/report.js";
export { tcbLayoutOf } from "./abi/tcb.js";
export { evidenceToJson, verdictToJson } from "./result/json.js";
export { AMD_OID } from "./verify/vek.js";
export {
  INTEL_PCS_URL,
  INTEL_ROOT_CRL_URL,
  type PcsFetch,
  type PcsOptions,
  pcsTdxGetter,
  type TdxCollateralGetter,
  type AppraiseTdxOptions,
  appraiseTdxQuote,
  parseTdxPolicy,
  type TdxPolicy,
  tdxPolicySchema,
  type TdxValidation,
  type TdxVerdict,
  validateTdxQuote,
  readTdxCollateralDir,
  tdxCollateralFiles,
  checkTdxCollateral,
  converge,
  type EvaluatedLevel,
  evaluateTdxTcb,
  parseTdQeIdentity,
  parseTdxTcbInfo,
  TCB_STATUSES,
  type TcbStatus,
  type TdQeIdentity,
  type TdxCollateral,
  type TdxCollateralResult,
  type TdxTcbEvaluation,
  type TdxTcbInfo,
  checkValidity,
  decodeTdAttributes,
  INTEL_QE_VENDOR_ID,
  INTEL_SGX_ROOT_CA_PEM,
  INTEL_SGX_ROOT_CA_SHA256,
  parsePckExtensions,
  parseQeReport,
  parseTdxQuote,
  type PckChain,
  PckChainCache,
  type PckExtensions,
  type QeReport,
  SGX_EXTENSION_OID,
  type TdAttributes,
  TDX_HEADER_SIZE,
  TDX_TEE_TYPE,
  type TdxBody,
  type TdxQuote,
  type VerifiedTdxQuote,
  verifyPckChain,
  verifyTdxQuote,
  type VerifyTdxOptions,
} from "./tdx/index.js";
