/**
 * `GoldenMeasurements`: builds the release's golden manifest from the pinned artifacts and launch
 * shapes (measurements computed by `measurements/snp` through the injected calculator), signs it
 * (JWS ES384) and exposes `goldenMeasurements` (the manifest), `goldenManifest` (the JWS) and
 * `verifierPolicy`. Signing happens at `pulumi up` only; in a preview the JWS is unknown.
 *
 * Where the signing key lives: in dev, a Pulumi secret config key (`releaseSigningKey`) holding a
 * PKCS#8 PEM; it is wrapped as a secret, used in memory and never exported. For staging and prod
 * the key belongs in the release HSM: sign with `attestctl golden sign` (a `ManifestSigner` over
 * PKCS#11) in the release pipeline; the stack still pins the public key (`golden.publicKey`), which
 * is what the broker verifies with.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  buildManifest,
  type LaunchDigestCalculator,
  ManifestError,
  type GoldenInputs,
  keyThumbprint,
  signManifest,
  softwareSigner,
  type GoldenManifest,
  type ManifestStatus,
} from "../../measurements/manifest/index.js";
import { throwIfInvalid, type ArgProblem } from "../args.js";
import { ComponentError } from "../errors.js";
import { verifierPolicy, type AttestationSettings, type VerifierPolicy } from "./verifier-policy.js";

/** Arguments of {@link GoldenMeasurements}. */
export interface GoldenMeasurementsArgs {
  /** Release, environment, pinned artifacts, launch shapes, TCB floors, chip allowlist (plain). */
  readonly release: GoldenInputs;
  /** Bytes of the images the digest hashes page by page (firmware, SVSM), by artifact name. */
  readonly images: ReadonlyMap<string, Uint8Array>;
  /** The launch-digest calculator (`snpLaunchDigest`, ideally memoised and shared with the guests). */
  readonly measure: LaunchDigestCalculator;
  /** `createdAt` of the manifest, ISO 8601 UTC (fixed per release so renders are reproducible). */
  readonly releasedAt: string;
  /** Manifest status; default `active` (what this stack deploys). */
  readonly status?: ManifestStatus;
  /** The release signing key pair: the pinned public key (SPKI PEM) and the private key (PKCS#8 PEM, a secret). */
  readonly signing: { readonly publicKey: string; readonly privateKey: pulumi.Input<string> };
  /** Attestation settings that go into the verifier policy. */
  readonly attestation: AttestationSettings;
}

/**
 * Signs `manifest` with `privateKeyPem` after checking it is the private half of `publicKeyPem`.
 * @throws ComponentError `SIGNING_KEY_MISMATCH` (the key would produce manifests the broker rejects).
 */
export async function signGoldenManifest(
  manifest: GoldenManifest,
  privateKeyPem: string,
  publicKeyPem: string,
): Promise<string> {
  let privateKey;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new ComponentError(
      "SIGNING_KEY_MISMATCH",
      "golden manifest: the release signing key is not a PEM private key",
      { cause },
    );
  }
  const publicKey = createPublicKey(publicKeyPem);
  const derived = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  if (!derived.equals(publicKey.export({ type: "spki", format: "der" })))
    throw new ComponentError(
      "SIGNING_KEY_MISMATCH",
      "golden manifest: the release signing key does not match golden.publicKey",
    );
  return signManifest(manifest, softwareSigner(privateKey, await keyThumbprint(publicKey)));
}

/**
 * The golden manifest of a release and the verifier policy derived from it.
 * @example
 * const golden = new GoldenMeasurements("golden", {
 *   release: goldenSourceFromStackConfig(config).inputs, images: new Map([["ovmf-amdsev", ovmf]]),
 *   measure, releasedAt: "2026-11-09T00:00:00Z",
 *   signing: { publicKey: config.golden.publicKey, privateKey: secrets.get("releaseSigningKey") },
 *   attestation: config.attestation,
 * });
 * export const goldenManifest = golden.goldenManifest; // compact JWS (ES384)
 */
export class GoldenMeasurements extends pulumi.ComponentResource {
  /** The manifest (release, artifacts, launch shapes and their measurements, floors, policy bits). */
  readonly goldenMeasurements: pulumi.Output<GoldenManifest>;
  /** The signed manifest, compact JWS (ES384, `typ` golden-manifest+jws); unknown until `pulumi up`. */
  readonly goldenManifest: pulumi.Output<string>;
  /** What the verifier enforces for this release. */
  readonly verifierPolicy: pulumi.Output<VerifierPolicy>;

  constructor(name: string, args: GoldenMeasurementsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("confidential-inference:index:GoldenMeasurements", name, {}, opts);
    const releasedAt = new Date(args.releasedAt);
    const problems: ArgProblem[] = [];
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(args.releasedAt) || Number.isNaN(releasedAt.getTime()))
      problems.push({
        propertyPath: "releasedAt",
        reason: "must be an ISO 8601 UTC time with seconds (2026-11-09T00:00:00Z)",
      });
    try {
      createPublicKey(args.signing.publicKey);
    } catch {
      problems.push({ propertyPath: "signing.publicKey", reason: "must be a PEM public key" });
    }
    throwIfInvalid("GoldenMeasurements", problems);
    let manifest: GoldenManifest;
    try {
      manifest = buildManifest(args.release, {
        createdAt: releasedAt,
        status: args.status ?? "active",
        artifactBytes: args.images,
        calculator: args.measure,
      });
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      const listed = error.problems.map((p) => ({ propertyPath: `release.${p.path}`, reason: p.message }));
      throwIfInvalid(
        "GoldenMeasurements",
        listed.length > 0 ? listed : [{ propertyPath: "release", reason: error.message }],
      );
      throw error;
    }
    this.goldenMeasurements = pulumi.output(manifest);
    this.verifierPolicy = pulumi.output(verifierPolicy(manifest, args.attestation, args.signing.publicKey));
    const privateKey = pulumi.secret(args.signing.privateKey);
    // The signature is made at `pulumi up`; a preview reports it as unknown rather than signing.
    this.goldenManifest = pulumi.runtime.isDryRun()
      ? pulumi.output(pulumi.unknown as unknown as string)
      : // The JWS is public: only the key that made it is secret.
        pulumi.unsecret(privateKey.apply((pem) => signGoldenManifest(manifest, pem, args.signing.publicKey)));
    this.registerOutputs({
      goldenMeasurements: this.goldenMeasurements,
      goldenManifest: this.goldenManifest,
      verifierPolicy: this.verifierPolicy,
    });
  }
}
