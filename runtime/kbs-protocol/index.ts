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
export { EVIDENCE_MAX_DEPTH, type EvidenceShapeProblem, evidenceShapeProblems } from "./evidence-shape.js";
export {
  decryptFromTeeKey,
  encryptToTeeKey,
  type FlattenedJwe,
  JWE_ALG,
  JWE_ENC,
  type JweRecipient,
  type PreparedJwe,
  prepareJwe,
  sealJwe,
} from "./jwe.js";
export { initDataDigest, type InitDataDigest, INIT_DATA_FORMAT } from "./init-data.js";
export {
  isTrusteeSnpEvidence,
  SEV_CERT_TYPE_GUID,
  type SnpJsonProblem,
  type SnpJsonResult,
  snpReportFromTrusteeJson,
} from "./snp-evidence-json.js";
export {
  type TdxJsonProblem,
  type TdxJsonResult,
  tdxQuoteFromTrusteeJson,
  trusteeTdxEvidenceJson,
} from "./tdx-evidence-json.js";
export {
  ECDH_ES_A256KW,
  type EcTeeJwk,
  parseTeeKey,
  RSA_OAEP_256,
  type RsaTeeJwk,
  type TeeKey,
  TEE_KEY_CURVES,
  type TeeKeyCurve,
  teeKeyThumbprint,
  type TeePublicJwk,
  teePublicJwk,
} from "./tee-key.js";
export {
  attestationSchema,
  CERTIFICATE_PARAM,
  initDataSchema,
  KBS_PROTOCOL_VERSION,
  type KbsAttestation,
  REFUSED_TEES,
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
