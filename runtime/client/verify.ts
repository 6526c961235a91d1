/**
 * `verifyBundle`: may this client encrypt to the key in an attestation bundle? Pure (bytes, the
 * trust policy and `now` in; a verdict or a typed refusal out). The checks, in order, each with its
 * own code:
 *
 * 1. the bundle fits its schema (`BUNDLE_MALFORMED`) and, when asked for one, carries the client's
 *    nonce (`NONCE_MISMATCH`);
 * 2. `now` is inside `notBefore..notAfter` (`BUNDLE_NOT_YET_VALID`, `BUNDLE_EXPIRED`);
 * 3. the golden manifest verifies with a pinned release key (`MANIFEST_UNVERIFIED`);
 * 4. the project's verifier appraises the evidence (runtime/attestation `appraiseSnpEvidence`):
 *    signature and chain to a pinned root (`ROOT_UNTRUSTED`, `EVIDENCE_INVALID`), REPORT_DATA equal to
 *    the binding of the key configuration, window and nonce (`KEY_NOT_BOUND`), measurement in an
 *    active manifest (`MEASUREMENT_UNKNOWN`), no debug (`DEBUG_POLICY`), TCB floors
 *    (`TCB_BELOW_FLOOR`), the rest of the policy (`POLICY_VIOLATION`);
 * 5. the key configuration offers a suite this client implements (`KEY_CONFIG_UNSUPPORTED`).
 */
import {
  appraiseSnpEvidence,
  collateralFromCertTable,
  type ChainCache,
  type PolicyFailure,
} from "../attestation/index.js";
import {
  bundleReportData,
  isBundleError,
  parseAttestationBundle,
  type AttestationBundle,
} from "../attestation-bundle/index.js";
import { verifySignedManifest, type GoldenManifest } from "../../measurements/manifest/index.js";
import { chooseSuite, isOhttpError, type KeyConfig } from "../ohttp/index.js";
import { ClientError, type ClientErrorCode } from "./errors.js";
import type { ClientTrust } from "./policy.js";

/** What the client learned about a runtime it may encrypt to. */
export interface VerifiedRuntime {
  readonly keyConfig: KeyConfig;
  readonly notBefore: Date;
  /** The key may be used until then (the verdict's cache lifetime). */
  readonly notAfter: Date;
  /** Launch measurement (96 hex) and the release of the active manifest holding it. */
  readonly measurement: string;
  readonly release: string | undefined;
  readonly product: string;
}

/** Options of {@link verifyBundle}. */
export interface VerifyBundleOptions {
  readonly trust: ClientTrust;
  readonly now: Date;
  /** The nonce the client asked the bundle for; absent: any bundle of the runtime's current key. */
  readonly nonce?: Uint8Array;
  /** Shared chain cache (repeat verifications then cost about one ECDSA verify). */
  readonly cache?: ChainCache;
}

const AUTHENTICITY_TO_CLIENT: Readonly<Record<string, ClientErrorCode>> = { UNTRUSTED_ROOT: "ROOT_UNTRUSTED" };

/** Which check a verdict's failures name, most specific first. */
const POLICY_ORDER: readonly (readonly [string, ClientErrorCode])[] = [
  ["REPORT_DATA_MISMATCH", "KEY_NOT_BOUND"],
  ["MEASUREMENT_NOT_ALLOWED", "MEASUREMENT_UNKNOWN"],
  ["DEBUG_ALLOWED", "DEBUG_POLICY"],
  ["TCB_BELOW_FLOOR", "TCB_BELOW_FLOOR"],
];

function refusal(failures: readonly PolicyFailure[], authentic: boolean): ClientError {
  const list = failures.map((f) => ({ code: f.code, path: f.path }));
  const text = failures.map((f) => `${f.code} at ${f.path}`).join("; ");
  if (!authentic) {
    const code = AUTHENTICITY_TO_CLIENT[failures[0]?.code ?? ""] ?? "EVIDENCE_INVALID";
    return new ClientError(code, `appraising the runtime's evidence: ${text}`, { details: { failures: list } });
  }
  const hit = POLICY_ORDER.find(([verifier]) => failures.some((f) => f.code === verifier));
  return new ClientError(hit?.[1] ?? "POLICY_VIOLATION", `appraising the runtime's evidence: ${text}`, {
    details: { failures: list },
  });
}

async function verifiedManifest(bundle: AttestationBundle, trust: ClientTrust): Promise<GoldenManifest[]> {
  if (bundle.manifest === undefined) return [];
  for (const key of trust.releaseKeys) {
    try {
      return [await verifySignedManifest(bundle.manifest, key)];
    } catch {
      // try the next pinned key
    }
  }
  throw new ClientError(
    "MANIFEST_UNVERIFIED",
    `bundle.manifest: does not verify with any of the ${trust.releaseKeys.length} pinned release key(s)`,
  );
}

/**
 * Verifies a bundle (a JSON value) against the client's trust policy.
 *
 * @example const runtime = await verifyBundle(json, { trust, now: new Date() });
 * @throws ClientError with the code of the first failed check; nothing has been sent.
 */
export async function verifyBundle(value: unknown, o: VerifyBundleOptions): Promise<VerifiedRuntime> {
  let bundle: AttestationBundle;
  try {
    bundle = parseAttestationBundle(value);
  } catch (e) {
    if (!isBundleError(e)) throw e;
    throw new ClientError("BUNDLE_MALFORMED", e.message, { problems: e.problems });
  }
  if (o.nonce !== undefined && (bundle.nonce === undefined || !Buffer.from(bundle.nonce).equals(Buffer.from(o.nonce))))
    throw new ClientError("NONCE_MISMATCH", "bundle.nonce: not the nonce the client asked for");
  const t = o.now.getTime();
  if (t < bundle.notBefore.getTime())
    throw new ClientError(
      "BUNDLE_NOT_YET_VALID",
      `bundle.notBefore: ${bundle.notBefore.toISOString()} is in the future`,
    );
  if (t >= bundle.notAfter.getTime())
    throw new ClientError("BUNDLE_EXPIRED", `bundle.notAfter: ${bundle.notAfter.toISOString()} has passed`);
  const manifests = await verifiedManifest(bundle, o.trust);
  if (manifests.length === 0 && o.trust.policy.measurements === undefined)
    throw new ClientError("MEASUREMENT_UNKNOWN", "bundle.manifest: absent, and the trust policy lists no measurements");
  let collateral;
  try {
    collateral = bundle.evidence.certTable ? collateralFromCertTable(bundle.evidence.certTable) : undefined;
  } catch (e) {
    throw new ClientError("EVIDENCE_INVALID", `bundle.evidence.certTable: ${(e as Error).message}`);
  }
  const verdict = await appraiseSnpEvidence({
    report: bundle.evidence.report,
    anchors: o.trust.anchors,
    now: o.now,
    policy: o.trust.policy,
    ...(manifests.length > 0 ? { manifests } : {}),
    expectedReportData: bundleReportData({
      keyConfig: bundle.keyConfigBytes,
      notBefore: bundle.notBefore,
      notAfter: bundle.notAfter,
      ...(bundle.nonce ? { nonce: bundle.nonce } : {}),
    }),
    ...(collateral ? { collateral } : {}),
    ...(o.cache ? { cache: o.cache } : {}),
  });
  if (!verdict.accepted || verdict.claims === undefined)
    throw refusal(verdict.failures, verdict.evidence !== undefined);
  try {
    chooseSuite(bundle.keyConfig, {});
  } catch (e) {
    if (!isOhttpError(e)) throw e;
    throw new ClientError("KEY_CONFIG_UNSUPPORTED", `bundle.keyConfig: ${e.message}`);
  }
  return {
    keyConfig: bundle.keyConfig,
    notBefore: bundle.notBefore,
    notAfter: bundle.notAfter,
    measurement: verdict.claims.measurement,
    release: verdict.release,
    product: verdict.claims.product,
  };
}
