/**
 * Test fixtures for the key broker: a temporary state folder with its own SoftHSM2 token
 * directory, an operator PKI for the admin listener, a release signing key and signed golden
 * manifests, and broker start-up with listeners on loopback.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { requireTool } from "./system-tools.js";
import { signManifest, softwareSigner } from "../../measurements/manifest/sign.js";
import type { GoldenManifest, ManifestStatus, TcbFloors } from "../../measurements/manifest/types.js";
import { KeyBroker, type KeyBrokerOptions } from "../../runtime/keybroker/broker.js";
import { parseKeyBrokerConfig, type KeyBrokerConfig } from "../../runtime/keybroker/config.js";
import {
  buildCertificate,
  ecdsaSha384RawSigner,
  ecProfileSpec,
  jwkFromPoint,
  pointFromKey,
  toPem,
} from "../../core/index.js";
import { KeyBrokerError } from "../../runtime/keybroker/errors.js";
import { buildAdminApp } from "../../runtime/keybroker/http/admin-app.js";
import { buildKbsApp } from "../../runtime/keybroker/http/kbs-app.js";
import type {
  EvidenceVerdict,
  EvidenceVerifier,
  VerifyEvidenceRequest,
} from "../../runtime/keybroker/release/verifier-port.js";
import { snpEvidenceVerifier } from "../../runtime/keybroker/release/snp-verifier.js";
import { assessDrift } from "../../measurements/drift/classify.js";
import type { EvidenceClaims } from "../../measurements/drift/types.js";
import type { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import { parseAttestationPolicy } from "../../runtime/attestation/validate/attestation-policy.js";
import { ChainCache } from "../../runtime/attestation/verify/chain.js";

/** A fresh temporary folder. */
export function tempDir(prefix = "kb-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An operator CA and one operator client certificate (software keys; tests only). */
export function operatorPki(commonName = "alice"): { caPem: string; certPem: string; keyPem: string } {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const op = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const signer = ecdsaSha384RawSigner((tbs) => sign("sha384", tbs, { key: ca.privateKey, dsaEncoding: "ieee-p1363" }));
  const now = Date.now();
  const caDn = { commonName: "operator CA", organization: "tests" };
  const caDer = buildCertificate(
    ecProfileSpec({
      serial: randomBytes(8),
      issuer: caDn,
      subject: caDn,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 86_400_000),
      subjectPoint: pointFromKey(ca.publicKey),
      issuerPoint: pointFromKey(ca.publicKey),
      profile: "ca",
    }),
    signer,
  );
  const opDer = buildCertificate(
    ecProfileSpec({
      serial: randomBytes(8),
      issuer: caDn,
      subject: { commonName },
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 86_400_000),
      subjectPoint: pointFromKey(op.publicKey),
      issuerPoint: pointFromKey(ca.publicKey),
      profile: "tls",
    }),
    signer,
  );
  return {
    caPem: toPem(caDer),
    certPem: toPem(opDer),
    keyPem: op.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}

/** A release signing key pair (P-384) for golden manifests. */
export function releaseKey(): { privateKey: KeyObject; publicKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  return { privateKey, publicKey, publicPem: publicKey.export({ type: "spki", format: "pem" }) as string };
}

/** A measurement (96 hex) derived from a seed string. */
export function measurementOf(seed: string): string {
  return Buffer.concat([Buffer.from(seed.padEnd(48, "-").slice(0, 48), "utf8")]).toString("hex");
}

/** A minimal valid golden manifest with the given shapes (name -> measurement). */
export function goldenManifest(o: {
  release: string;
  status: ManifestStatus;
  shapes: Record<string, string>;
  tcbFloors?: TcbFloors;
  chipAllowlist?: string[];
}): GoldenManifest {
  const launchShapes: Record<string, GoldenManifest["launchShapes"][string]> = {};
  for (const [name, measurement] of Object.entries(o.shapes)) {
    launchShapes[name] = {
      inputs: {
        mode: "snp",
        firmware: "ovmf",
        vcpus: 2,
        vcpuType: "EPYC-v4",
        guestFeatures: "0x1",
        vmmType: "QEMU",
        policy: "0x30000",
      },
      measurement,
    };
  }
  return {
    schemaVersion: 1,
    release: o.release,
    environment: "dev",
    platform: "sev-snp",
    createdAt: "2026-11-01T10:00:00Z",
    status: o.status,
    artifacts: { ovmf: { kind: "firmware", sha256: "a".repeat(64), size: 4096, source: "tests" } },
    launchShapes,
    tcbFloors: o.tcbFloors ?? {},
    allowedPolicyBits: "0x30000",
    ...(o.chipAllowlist ? { chipAllowlist: o.chipAllowlist } : {}),
  };
}

/** Signs a manifest with the release key. */
export function signedManifest(m: GoldenManifest, key: KeyObject): Promise<string> {
  return signManifest(m, softwareSigner(key, "release-key"));
}

/** Everything a test broker needs on disk. */
export interface BrokerFixture {
  readonly dir: string;
  readonly pin: string;
  readonly release: ReturnType<typeof releaseKey>;
  readonly operator: ReturnType<typeof operatorPki>;
  readonly config: KeyBrokerConfig;
}

/** Writes a configuration (own SoftHSM2 token folder, PIN file, operator CA, release key) under a new temp folder. */
export function brokerFixture(overrides: Record<string, unknown> = {}, dir = tempDir()): BrokerFixture {
  requireTool("softhsm2");
  const pin = randomBytes(12).toString("hex");
  const release = releaseKey();
  const operator = operatorPki();
  writeFileSync(join(dir, "pin"), `${pin}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "operator-ca.pem"), operator.caPem);
  if (!("manifests" in overrides)) writeFileSync(join(dir, "release.pub.pem"), release.publicPem);
  const raw = {
    stateDir: join(dir, "state"),
    issuer: "https://keybroker.test",
    hsm: { tokenLabel: "kb-test", pinFile: join(dir, "pin"), softhsm: { tokenDir: join(dir, "tokens") } },
    admin: { operatorCaFile: join(dir, "operator-ca.pem") },
    manifests: { signerPublicKeyFile: join(dir, "release.pub.pem") },
    policy: { resourceRules: [{ resource: "runtime/*/*" }, { resource: "*/model/*", launchShapes: ["inference*"] }] },
    ...overrides,
  };
  return { dir, pin, release, operator, config: parseKeyBrokerConfig(raw) };
}

/** A silent logger (tests assert on the audit log, not on logs). */
export function quietLogger() {
  return pino({ level: "silent" });
}

/** Starts a broker for a fixture. */
export function startBroker(
  f: BrokerFixture,
  verifier: EvidenceVerifier,
  extra: Partial<KeyBrokerOptions> = {},
): Promise<KeyBroker> {
  return KeyBroker.start({ config: f.config, verifier, logger: quietLogger(), ...extra });
}

/** KBS and admin listeners on loopback with real TLS; returns their URLs. */
export async function listen(
  broker: KeyBroker,
  f: BrokerFixture,
): Promise<{
  kbsUrl: string;
  adminUrl: string;
  ca: string;
  close: () => Promise<void>;
  kbs: FastifyInstance;
  admin: FastifyInstance;
}> {
  const tls = broker.listenerTls();
  const kbs = buildKbsApp(broker, { https: tls });
  const admin = buildAdminApp(broker, { https: { ...tls, operatorCa: f.operator.caPem } });
  await kbs.listen({ host: "127.0.0.1", port: 0 });
  await admin.listen({ host: "127.0.0.1", port: 0 });
  const port = (a: FastifyInstance) => (a.server.address() as AddressInfo).port;
  return {
    kbsUrl: `https://127.0.0.1:${port(kbs)}`,
    adminUrl: `https://127.0.0.1:${port(admin)}`,
    ca: tls.caBundle,
    kbs,
    admin,
    close: async () => {
      await kbs.close();
      await admin.close();
    },
  };
}

/** The JWK of a point (re-export for tests). */
export { jwkFromPoint };

/** One admin request over mTLS (client certificate from the operator PKI). */
export function adminRequest(
  url: string,
  ca: string,
  operator: { certPem: string; keyPem: string } | undefined,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<{ status: number; body: any }> {
  const u = new URL(url);
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        ca,
        ...(operator ? { cert: operator.certPem, key: operator.keyPem } : {}),
        headers: payload ? { "content-type": contentType, "content-length": String(payload.length) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/**
 * A stand-in verifier for tests that exercise the broker without SNP reports: the evidence is
 * `{ reportData: hex, claims }`, authentic when the report data matches, classified by the real
 * drift classifier (measurements/drift). The end-to-end tests use the real verifier instead.
 */
export class FakeVerifier implements EvidenceVerifier {
  calls = 0;
  /** When true, behaves like a verifier whose collateral is unreachable. */
  unavailable = false;
  async verify(req: VerifyEvidenceRequest): Promise<EvidenceVerdict> {
    this.calls += 1;
    if (this.unavailable)
      throw new KeyBrokerError("VERIFIER_UNAVAILABLE", "appraising evidence: collateral unavailable (test)");
    const ev = req.evidence as { reportData?: string; claims?: EvidenceClaims };
    if (ev?.reportData !== req.expectedReportData.toString("hex") || !ev.claims) {
      return {
        accepted: false,
        driftClass: "invalid-evidence",
        reason: "binding failed",
        failures: [
          {
            code: "REPORT_DATA_MISMATCH",
            path: "report.reportData",
            message: "report data does not bind the nonce and key",
          },
        ],
      };
    }
    const a = assessDrift({
      claims: ev.claims,
      evidenceValid: true,
      manifests: req.manifests,
      ...(req.inventory ? { inventory: req.inventory } : {}),
    });
    const failures =
      a.driftClass === "ok" || a.driftClass === "platform-updated"
        ? []
        : [{ code: "MEASUREMENT_NOT_ALLOWED", path: "report.measurement", message: a.reason }];
    return { accepted: failures.length === 0, driftClass: a.driftClass, reason: a.reason, failures, claims: ev.claims };
  }
}

/** The real verifier over the shared simulated SNP platform (trusting only its simulated root). */
export function simulatedVerifier(sim: SimulatedSnp, policy: Record<string, unknown> = {}): EvidenceVerifier {
  return snpEvidenceVerifier({
    anchors: [sim.anchor()],
    policy: parseAttestationPolicy({ allowedRoots: ["simulated"], ...policy }),
    getter: sim.getter(),
    cache: new ChainCache(),
  });
}

/** Claims of a fake node. */
export function fakeClaims(
  measurement: string,
  o: { chipId?: string; tcb?: { bootloader: number; tee: number; snp: number; microcode: number } } = {},
) {
  return {
    tee: "sev-snp" as const,
    measurement,
    product: "Genoa",
    reportedTcb: o.tcb ?? { bootloader: 9, tee: 0, snp: 23, microcode: 72 },
    chipId: o.chipId ?? "ab".repeat(64),
  };
}

/** An evidence provider for FakeVerifier. */
export function fakeEvidence(claims: ReturnType<typeof fakeClaims>) {
  return {
    tee: "snp",
    getEvidence: async (reportData: Buffer) => ({ reportData: reportData.toString("hex"), claims }),
  };
}

/** A mutable test clock starting now (whole seconds). */
export function testClock(start = Date.now()) {
  let t = Math.floor(start / 1000) * 1000;
  return {
    now: () => new Date(t),
    advance: (seconds: number) => void (t += seconds * 1000),
    set: (d: Date) => void (t = d.getTime()),
  };
}

/** Reads the audit log of a fixture as parsed lines. */
export function auditLines(f: BrokerFixture): any[] {
  return readFileSync(join(f.config.stateDir, "audit.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
