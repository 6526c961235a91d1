/**
 * Module face of `runtime/attestation-bundle`: the attestation bundle a runtime publishes (its OHTTP
 * key configuration with SNP evidence binding it, validity times, the signed golden manifest), the
 * REPORT_DATA binding, and the gateway's bundle list. Pure: shared by the runtime, the gateway and
 * the client library. docs/confidential-requests.md describes the format.
 */
export { BINDING_LABEL_V1, type BindingInput, bundleReportData, NONCE_BYTES } from "./binding.js";
export {
  BUNDLE_ERROR_CODES,
  BUNDLE_ERROR_MEANINGS,
  BundleError,
  type BundleErrorCode,
  isBundleError,
} from "./errors.js";
export {
  type AttestationBundle,
  type AttestationBundleJson,
  attestationBundleSchema,
  type BundleContents,
  type BundleList,
  bundleListSchema,
  formatAttestationBundle,
  parseAttestationBundle,
  parseBundleList,
} from "./schema.js";
