/**
 * Fixtures for confidential requests: a release key and a signed golden manifest (the dev stack's
 * measurement, vector a02), a client trust policy pinning the shared simulated platform, and
 * bundles issued the way a runtime does (or deliberately wrong for refusal tests).
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { join } from "node:path";
import { toPem } from "../../core/index.js";
import { bundleReportData, formatAttestationBundle } from "../../runtime/attestation-bundle/index.js";
import { parseClientTrust, type ClientTrust } from "../../runtime/client/index.js";
import { signManifest, softwareSigner, type GoldenManifest } from "../../measurements/manifest/index.js";
import { encodeKeyConfig, generateServerKey, type OhttpServerKey } from "../../runtime/ohttp/index.js";
import { SIMULATED_DEFAULT_TCB, SimulatedSnp, type SimulatedReportInput } from "../../runtime/simulators/index.js";
import { A02_MEASUREMENT, devManifest } from "./golden.js";
import { SIMULATED_SNP_ROOT, sharedSimulatedSnp } from "./simulated-snp.js";

/** A P-384 release signing key pair. */
export function releaseKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "P-384" });
}

/** The dev manifest (measurement a02) signed with `key`. */
export function signedDevManifest(key: KeyObject, manifest: GoldenManifest = devManifest()): Promise<string> {
  return signManifest(manifest, softwareSigner(key, "test-release"));
}

/** A trust policy pinning `sim`'s root, the release key and the Genoa floor of the simulator. */
export function trustFor(sim: SimulatedSnp, releaseKey: KeyObject, extra: Record<string, unknown> = {}): ClientTrust {
  return parseClientTrust({
    attestation: { allowedRoots: ["simulated"], tcbFloors: { Genoa: SIMULATED_DEFAULT_TCB.Genoa }, ...extra },
    releaseKeys: [releaseKey.export({ type: "spki", format: "pem" }) as string],
    simulatedRoot: {
      product: sim.product,
      ark: toPem(sim.roots.ark),
      ask: toPem(sim.roots.ask),
      asvk: toPem(sim.roots.asvk),
    },
  });
}

/** A second simulated Genoa platform with its own root (a chain the client does not pin). */
export function foreignSimulatedSnp(): Promise<SimulatedSnp> {
  return SimulatedSnp.open({ dir: join(SIMULATED_SNP_ROOT, "genoa-foreign"), product: "Genoa" });
}

/** How to issue a test bundle; every field defaults to what a genuine runtime publishes. */
export interface IssueOptions {
  readonly sim?: SimulatedSnp;
  readonly key?: OhttpServerKey;
  readonly report?: Omit<SimulatedReportInput, "reportData">;
  readonly notBefore?: Date;
  readonly lifetimeMs?: number;
  readonly nonce?: Uint8Array;
  readonly manifest?: string;
  /** Bind this configuration in REPORT_DATA instead of the published one. */
  readonly boundKeyConfig?: Uint8Array;
}

/** Issues a bundle as a runtime would (genuine unless told otherwise). */
export async function issueBundle(
  o: IssueOptions = {},
): Promise<{ json: Record<string, unknown>; key: OhttpServerKey }> {
  const sim = o.sim ?? (await sharedSimulatedSnp("Genoa"));
  const key = o.key ?? (await generateServerKey({ keyId: 3 }));
  const keyConfig = encodeKeyConfig(key.config);
  const notBefore = new Date(Math.floor((o.notBefore?.getTime() ?? Date.now() - 60_000) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (o.lifetimeMs ?? 3_600_000));
  const reportData = bundleReportData({
    keyConfig: o.boundKeyConfig ?? keyConfig,
    notBefore,
    notAfter,
    ...(o.nonce ? { nonce: o.nonce } : {}),
  });
  const ev = await sim.sign({ measurement: A02_MEASUREMENT, ...o.report, reportData });
  const json = formatAttestationBundle({
    keyConfig,
    notBefore,
    notAfter,
    ...(o.nonce ? { nonce: o.nonce } : {}),
    report: ev.report,
    certTable: ev.certTable,
    ...(o.manifest !== undefined ? { manifest: o.manifest } : {}),
  });
  return { json: json as unknown as Record<string, unknown>, key };
}
