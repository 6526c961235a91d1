/**
 * Golden manifests: the signed, per-release statement of which launch measurements an environment
 * trusts. Entry point of `measurements/manifest`.
 *
 * @example
 * import { parseManifest, signManifest, softwareSigner, verifySignedManifest } from "../measurements/manifest/index.js";
 * const manifest = parseManifest(readFileSync("stacks/golden/dev.json"));
 * const jws = await signManifest(manifest, softwareSigner(privateKey, kid));
 * const verified = await verifySignedManifest(jws, pinnedPublicKey);
 *
 * // building one (what `attestctl golden compute` and the GoldenMeasurements component do)
 * const { inputs, createdAt } = goldenSourceFromStackConfig(stackConfig); // stacks/
 * const built = buildManifest(inputs, { createdAt: createdAt ?? now, status: "active", artifactBytes, calculator: snpLaunchDigest });
 */
export {
  buildManifest,
  checkArtifactBytes,
  type BuildManifestOptions,
  type LaunchDigestCalculator,
  type LaunchDigestRequest,
  type LaunchDigestResult,
} from "./build.js";
export { canonicalJson } from "../../core/index.js";
export { canonicalManifestBytes, formatManifest } from "./canonical.js";
export {
  MANIFEST_ERROR_CODES,
  MANIFEST_ERROR_MEANINGS,
  ManifestError,
  formatManifestProblem,
  isManifestError,
  type ManifestErrorCode,
  type ManifestProblem,
} from "./errors.js";
export { parseGoldenConfig } from "./golden-config.js";
export type { GoldenInputs, GoldenSource, LaunchShapeSpec } from "./inputs.js";
export { keyThumbprint, type ManifestKey } from "./keys.js";
export {
  POLICY_BITS,
  disallowedPolicyBits,
  encodeGuestPolicy,
  fromHex,
  policyFlagBits,
  toCanonicalHex,
  type GuestPolicySettings,
} from "./policy.js";
export { manifestSchema } from "./schema.js";
export { ManifestSet, STATUS_PRECEDENCE, type MeasurementMatch } from "./set.js";
export { snpLaunchDigest } from "./snp-digest.js";
export { hexInteger } from "./hex-integer.js";
export { ES384_SIGNATURE_BYTES, MANIFEST_JWS_TYPE, signManifest, softwareSigner, type ManifestSigner } from "./sign.js";
export {
  ARTIFACT_KINDS,
  ENVIRONMENTS,
  LAUNCH_MODES,
  MANIFEST_SCHEMA_VERSION,
  MANIFEST_STATUSES,
  SNP_PRODUCTS,
  VMM_TYPES,
  type ArtifactKind,
  type ArtifactPin,
  type Environment,
  type GoldenManifest,
  type LaunchInputs,
  type LaunchMode,
  type LaunchShape,
  type ManifestStatus,
  type SnpProduct,
  type TcbComponents,
  type TcbFloors,
  type VmmType,
} from "./types.js";
export { manifestFromJson, parseManifest, validateManifest } from "./validate.js";
export { verifySignedManifest, type VerifyManifestOptions } from "./verify.js";
