/** Module face of `core`: everything other modules may import from it. */
export { canonicalJson, canonicalManifestBytes, formatManifest } from "./canonical-json.js";
export {
  children,
  decodeBitString,
  decodeInteger,
  decodeString,
  decodeTime,
  expectTag,
  readOne,
  TAG,
  type Tlv,
} from "./der.js";
export { readJsonFile, writeFileAtomic } from "./durable-file.js";
export {
  checkedKeyFromJwk,
  checkedPointFromJwk,
  type EcPublicJwk,
  jwkFromPoint,
  jwkThumbprint,
  keyFromJwk,
  pointFromJwk,
  spkiFromPoint,
} from "./ec-jwk.js";
export { CodedError, type Problem } from "./errors.js";
export {
  authorityKeyIdentifier,
  basicConstraints,
  buildCertificate,
  buildCrl,
  type CertificateSpec,
  crlDistributionPoint,
  keyUsageCertSign,
  type NameSpec,
  subjectKeyIdentifier,
} from "./x509/build.js";
export {
  type Certificate,
  findExtension,
  isSignedBy,
  nameValue,
  OID,
  parseCertificates,
  parseSignatureAlgorithm,
  type SignatureAlgorithm,
  verifySignature,
} from "./x509/certificate.js";
export {
  type AltNames,
  buildCertificate as buildCertificateWithSigner,
  buildCertificateAsync,
  toPem,
} from "./x509/hsm-build.js";
