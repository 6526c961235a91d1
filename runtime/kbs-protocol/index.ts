/** Module face of `runtime/kbs-protocol`: everything other modules may import from it. */
export { expectedReportData } from "./binding.js";
export {
  CA_BUNDLE_JWS_TYPE,
  type CaBundleDocument,
  type CaBundleRejection,
  type CaBundleVerdict,
  signCaBundle,
  verifyCaBundle,
} from "./ca-bundle.js";
export { EphemeralKeys } from "./ephemeral-keys.js";
export { decryptFromTeeKey, type FlattenedJwe, JWE_ALG, type PreparedJwe, prepareJwe, sealJwe } from "./jwe.js";
export {
  attestationSchema,
  CERTIFICATE_PARAM,
  KBS_PROTOCOL_VERSION,
  type KbsAttestation,
  type KbsChallenge,
  requestSchema,
  SESSION_COOKIE,
  SUPPORTED_TEES,
} from "./messages.js";
export {
  RUNTIME_CERTIFICATE_RESOURCE,
  type RuntimeCertificate,
  SESSION_KEY_RESOURCE,
  type SessionKey,
  type SnpWireEvidence,
} from "./resources.js";
