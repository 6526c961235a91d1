/** Intel TDX: quote parsing and verification (`runtime/attestation/tdx`), re-exported by `runtime/attestation`. */
export { INTEL_SGX_ROOT_CA_PEM, INTEL_SGX_ROOT_CA_SHA256 } from "./intel-root.js";
export {
  checkValidity,
  parsePckExtensions,
  type PckChain,
  type PckExtensions,
  SGX_EXTENSION_OID,
  verifyPckChain,
} from "./pck.js";
export {
  decodeTdAttributes,
  type TdAttributes,
  INTEL_QE_VENDOR_ID,
  parseQeReport,
  parseTdxQuote,
  type QeReport,
  TDX_HEADER_SIZE,
  TDX_TEE_TYPE,
  type TdxBody,
  type TdxQuote,
} from "./quote.js";
export { PckChainCache, type VerifiedTdxQuote, verifyTdxQuote, type VerifyTdxOptions } from "./verify.js";
export {
  checkCurrent,
  type IsvLevel,
  memberSpan,
  parseTdQeIdentity,
  parseTdxTcbInfo,
  TCB_STATUSES,
  type TcbStatus,
  type TdQeIdentity,
  type TdxModuleIdentity,
  type TdxTcbInfo,
  type TdxTcbLevel,
  verifyCollateralSignature,
  verifyTcbSigningChain,
} from "./collateral.js";
export { checkTdxCollateral, type TdxCollateral, type TdxCollateralResult } from "./collateral-check.js";
export { converge, type EvaluatedLevel, evaluateTdxTcb, type TdxTcbEvaluation } from "./tcb.js";
export { readTdxCollateralDir, tdxCollateralFiles } from "./collateral-dir.js";
export { parseTdxPolicy, type TdxPolicy, tdxPolicySchema, type TdxValidation, validateTdxQuote } from "./policy.js";
export { type AppraiseTdxOptions, appraiseTdxQuote, type TdxVerdict } from "./appraise.js";
export {
  INTEL_PCS_URL,
  INTEL_ROOT_CRL_URL,
  type PcsFetch,
  type PcsOptions,
  pcsTdxGetter,
  type TdxCollateralGetter,
} from "./pcs.js";
