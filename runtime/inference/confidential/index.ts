/**
 * The runtime's confidential endpoint (issue 13): OHTTP keys made inside the runtime and bound to
 * its SNP evidence in attestation bundles, and the OHTTP gateway resource that opens requests and
 * dispatches them into the runtime's own APIs. docs/confidential-requests.md describes the protocol.
 */
export { attestationConfigSchema, type AttestationConfig, parseAttestationConfig } from "./config.js";
export {
  CONFIDENTIAL_ERROR_CODES,
  CONFIDENTIAL_ERROR_MEANINGS,
  CONFIDENTIAL_ERROR_STATUS,
  ConfidentialError,
  type ConfidentialErrorCode,
} from "./errors.js";
export { CLOCK_SKEW_MS, KeyRing, type KeyRingOptions } from "./key-ring.js";
export { ReplayCache } from "./replay.js";
export { confidentialRoutes, type ConfidentialOptions, OHTTP_KEY_PROBLEM } from "./resource.js";
