/**
 * bench/keybroker: full KBS handshakes over loopback TLS against a broker running as its own
 * process (real SoftHSM2, real verifier on simulated SNP evidence, fsync'd audit log), next to the
 * sum of the raw crypto operations one handshake needs, measured in the same run.
 *
 * One handshake = what an inference runtime does at boot: new P-384 key, POST /auth, simulated
 * report over the binding, POST /attest, GET the model data key, GET the runtime certificate.
 * Phases: sequential latency (c=1), a fixed offered load (open loop, default 100/s for 10 s), and
 * the closed-loop maximum (8 in flight). The load generator shares one keep-alive TLS connection
 * pool (the bench measures the KBS protocol, not TLS set-up) and decrypts with node:crypto.
 *
 * Raw crypto per handshake (each timed alone, same process): client P-384 key generation, the
 * report's ECDSA P-384 signature (the PSP's job on hardware), report signature verification, the
 * on-curve check of the TEE key, two ES384 signatures in the HSM (token, certificate), one
 * AES-256-GCM unwrap in the HSM, two ECDH-ES+A256KW/A256GCM encryptions and two decryptions. (The
 * resource requests carry the session's own token, whose claims the broker kept: no verification.)
 *
 * Usage: npm run bench -- keybroker [--rate 100] [--seconds 10] [--sequential 200]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createCipheriv, createHash, diffieHellman, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimulatedSnp } from "../../runtime/attestation/evidence/simulated.js";
import { KbsClient } from "../../runtime/keybroker/client/kbs-client.js";
import { simulatedSnpEvidence } from "../../runtime/keybroker/client/snp-evidence.js";
import { httpsTransport } from "../../runtime/keybroker/client/transport.js";
import { pointFromJwk } from "../../runtime/keybroker/crypto/ec.js";
import { buildCertificate, toPem } from "../../runtime/keybroker/crypto/x509.js";
import { Pkcs11Token } from "../../runtime/keybroker/hsm/pkcs11.js";
import { ensureSoftHsmToken, SOFTHSM2_MODULE, useSoftHsm } from "../../runtime/keybroker/hsm/softhsm.js";
import { concatKdf, decryptFromTeeKey, encryptToTeeKey } from "../../runtime/keybroker/protocol/jwe.js";
import { signManifest, softwareSigner } from "../../measurements/manifest/sign.js";
import type { GoldenManifest } from "../../measurements/manifest/types.js";

const ROOT = join(__dirname, "../..");
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const RATE = arg("rate", 100);
const SECONDS = arg("seconds", 10);
const SEQUENTIAL = arg("sequential", 200);
const MEASUREMENT = createHash("sha384").update("bench inference runtime").digest("hex");

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x: number, d = 2): string => x.toFixed(d);

function point(k: ReturnType<typeof generateKeyPairSync>["publicKey"]): Buffer {
  return pointFromJwk(k.export({ format: "jwk" }), "k");
}

/** Operator CA + client certificate (software; bench only). */
function operator(): { caPem: string; certPem: string; keyPem: string } {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const op = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const s = (tbs: Buffer) => sign("sha384", tbs, { key: ca.privateKey, dsaEncoding: "ieee-p1363" });
  const dn = { commonName: "bench operator CA" };
  const t = Date.now();
  const caDer = buildCertificate({ serial: randomBytes(8), issuer: dn, subject: dn, notBefore: new Date(t - 60_000), notAfter: new Date(t + 86_400_000), subjectPoint: point(ca.publicKey), issuerPoint: point(ca.publicKey), profile: "ca" }, s);
  const opDer = buildCertificate({ serial: randomBytes(8), issuer: dn, subject: { commonName: "bench" }, notBefore: new Date(t - 60_000), notAfter: new Date(t + 86_400_000), subjectPoint: point(op.publicKey), issuerPoint: point(ca.publicKey), profile: "tls" }, s);
  return { caPem: toPem(caDer), certPem: toPem(opDer), keyPem: op.privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}

function admin(url: string, ca: string, op: { certPem: string; keyPem: string }, path: string, body: Buffer, type: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: u.hostname, port: u.port, method: "POST", path, ca, cert: op.certPem, key: op.keyPem, headers: { "content-type": type, "content-length": String(body.length) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function startBroker(dir: string, simDir: string): Promise<{ child: ChildProcess; kbs: string; ca: string }> {
  const op = operator();
  const release = generateKeyPairSync("ec", { namedCurve: "P-384" });
  writeFileSync(join(dir, "pin"), `${randomBytes(12).toString("hex")}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "operator-ca.pem"), op.caPem);
  writeFileSync(join(dir, "release.pub.pem"), release.publicKey.export({ type: "spki", format: "pem" }) as string);
  const config = {
    stateDir: join(dir, "state"),
    hsm: { tokenLabel: "bench", pinFile: join(dir, "pin"), softhsm: { tokenDir: join(dir, "tokens") } },
    listen: { host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0 },
    admin: { operatorCaFile: join(dir, "operator-ca.pem") },
    manifests: { signerPublicKeyFile: join(dir, "release.pub.pem") },
    policy: { resourceRules: [{ resource: "runtime/*/*" }, { resource: "*/model/*", launchShapes: ["inference*"] }] },
    attestation: { policy: { allowedRoots: ["simulated"] }, simulatedSnpDir: simDir },
    limits: { bodyBytes: 262_144, maxSessions: 100_000 },
  };
  writeFileSync(join(dir, "keybroker.json"), JSON.stringify(config));
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "runtime/keybroker/main.ts"), "--config", join(dir, "keybroker.json")], { env: { ...process.env, KEYBROKER_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "inherit"] });
  const urls = await new Promise<{ kbs: string; admin: string }>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /keybroker ready kbs=(\S+) admin=(\S+)/.exec(out);
      if (m) resolve({ kbs: m[1] as string, admin: m[2] as string });
    });
    child.on("exit", (code) => reject(new Error(`broker exited with ${code}`)));
  });
  const ca = readFileSync(join(dir, "state", "ca.pem"), "utf8");
  const manifest: GoldenManifest = {
    schemaVersion: 1, release: "bench-1", environment: "dev", platform: "sev-snp", createdAt: "2026-11-01T00:00:00Z", status: "active",
    artifacts: { ovmf: { kind: "firmware", sha256: "a".repeat(64), size: 4096, source: "bench" } },
    launchShapes: { "inference-small": { inputs: { mode: "snp", firmware: "ovmf", vcpus: 2, vcpuType: "EPYC-v4", guestFeatures: "0x1", vmmType: "QEMU", policy: "0x30000" }, measurement: MEASUREMENT } },
    tcbFloors: {}, allowedPolicyBits: "0x30000",
  };
  const jws = await signManifest(manifest, softwareSigner(release.privateKey, "bench-release"));
  if ((await admin(urls.admin, ca, op, "/admin/v1/manifests", Buffer.from(JSON.stringify({ jws })), "application/json")) !== 201) throw new Error("manifest import failed");
  if ((await admin(urls.admin, ca, op, "/admin/v1/data-keys/default/model/bench", randomBytes(32), "application/octet-stream")) !== 200) throw new Error("data key import failed");
  return { child, kbs: urls.kbs, ca };
}

/** Mean ms of `fn` over `n` runs (after a short warm-up). */
async function timeOp(n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(20, n); i++) await fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t) / n;
}

async function rawCrypto(dir: string, sim: SimulatedSnp): Promise<Record<string, number>> {
  useSoftHsm({ tokenDir: join(dir, "raw-tokens"), confPath: join(dir, "raw-softhsm2.conf") });
  ensureSoftHsmToken(SOFTHSM2_MODULE, "raw", "1234");
  const token = Pkcs11Token.open({ modulePath: SOFTHSM2_MODULE, tokenLabel: "raw", pin: "1234" });
  try {
    const ec = token.generateEcKeyPair("raw-sign");
    const kek = token.generateAesKey("raw-kek");
    const iv = token.random(12);
    const aad = Buffer.from("ci-data-key|default/model/bench|v1");
    const wrapped = token.gcmEncrypt(kek, iv, aad, randomBytes(32));
    const tee = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const teePoint = point(tee.publicKey);
    const vek = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const report = randomBytes(0x2a0);
    const reportSig = sign("sha384", report, { key: vek.privateKey, dsaEncoding: "ieee-p1363" });
    const tokenInput = randomBytes(900);
    const teeJwk = tee.publicKey.export({ format: "jwk" });
    const jwe = encryptToTeeKey(teePoint, randomBytes(32));
    void sim;
    const ops: Record<string, number> = {
      client_keygen: await timeOp(200, () => generateKeyPairSync("ec", { namedCurve: "P-384" })),
      report_sign: await timeOp(200, () => sign("sha384", report, { key: vek.privateKey, dsaEncoding: "ieee-p1363" })),
      report_verify: await timeOp(200, () => verify("sha384", report, { key: vek.publicKey, dsaEncoding: "ieee-p1363" }, reportSig)),
      hsm_sign_x2: 2 * (await timeOp(200, () => token.signEs384(ec.privateKey, tokenInput))),
      hsm_unwrap: await timeOp(500, () => token.gcmDecrypt(kek, iv, aad, wrapped)),
      tee_key_check: await timeOp(200, () => createPublicKey({ key: teeJwk, format: "jwk" })),
      jwe_encrypt_x2: 2 * (await timeOp(200, () => rawJweEncrypt(tee.publicKey))),
      jwe_decrypt_x2: 2 * (await timeOp(200, () => decryptFromTeeKey(jwe, tee.privateKey))),
    };
    return ops;
  } finally {
    token.close();
  }
}

/** The primitives of one ECDH-ES+A256KW/A256GCM encryption, without JOSE framing. */
function rawJweEncrypt(recipient: ReturnType<typeof generateKeyPairSync>["publicKey"]): void {
  const eph = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const kek = concatKdf(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), "ECDH-ES+A256KW", 256);
  const cek = randomBytes(32);
  const w = createCipheriv("id-aes256-wrap", kek, Buffer.from("a6a6a6a6a6a6a6a6", "hex"));
  Buffer.concat([w.update(cek), w.final()]);
  eph.publicKey.export({ format: "jwk" });
  const g = createCipheriv("aes-256-gcm", cek, randomBytes(12));
  Buffer.concat([g.update(randomBytes(32)), g.final()]);
  g.getAuthTag();
}

async function main(): Promise<void> {
  const dir = join(ROOT, ".bench-tmp", `keybroker-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const simDir = join(tmpdir(), "confidential-inference-bench-snp-genoa");
  const sim = await SimulatedSnp.open({ dir: simDir, product: "Genoa" });
  const broker = await startBroker(dir, simDir);
  const transport = httpsTransport(broker.kbs, broker.ca);
  const evidence = simulatedSnpEvidence(sim, { measurement: MEASUREMENT });
  const handshake = async (): Promise<void> => {
    const c = new KbsClient({ transport, evidence, decrypt: decryptFromTeeKey });
    await c.attest();
    const key = await c.getResource("default/model/bench");
    const cert = await c.getResource("runtime/certificate/tls");
    if (key.length !== 32 || !cert.toString().includes("BEGIN CERTIFICATE")) throw new Error("bad resource");
  };
  try {
    for (let i = 0; i < 30; i++) await handshake();
    const seq: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const t = performance.now();
      await handshake();
      seq.push(performance.now() - t);
    }
    seq.sort((a, b) => a - b);
    const raw = await rawCrypto(dir, sim);
    const rawSum = Object.values(raw).reduce((a, b) => a + b, 0);
    const handshakeMs = mean(seq);

    // Fixed offered load, open loop: a handshake starts every 1000/RATE ms whatever happens.
    const lat: number[] = [];
    let errors = 0;
    const total = RATE * SECONDS;
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(
        handshake().then(
          () => void lat.push(performance.now() - due),
          () => void (errors += 1),
        ),
      );
    }
    await Promise.all(inflight);
    const loadElapsed = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);

    // Closed loop maximum: 8 handshakes in flight for 5 s.
    let done = 0;
    const stopAt = performance.now() + 5000;
    const tMax = performance.now();
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (performance.now() < stopAt) {
        await handshake();
        done += 1;
      }
    }));
    const maxRate = done / ((performance.now() - tMax) / 1000);

    const ratio = rawSum / handshakeMs;
    process.stdout.write(`\nraw crypto per handshake (ms, same run):\n`);
    for (const [k, v] of Object.entries(raw)) process.stdout.write(`  ${k.padEnd(16)} ${fmt(v, 3)}\n`);
    process.stdout.write(`  ${"sum".padEnd(16)} ${fmt(rawSum, 3)}\n\n`);
    process.stdout.write(`sequential handshake (c=1, n=${SEQUENTIAL}): mean ${fmt(handshakeMs)} ms, p50 ${fmt(pct(seq, 50))} ms, p99 ${fmt(pct(seq, 99))} ms\n`);
    process.stdout.write(`protocol overhead above raw crypto: ${fmt((handshakeMs / rawSum - 1) * 100, 1)} % (goal <= 30 %)\n`);
    process.stdout.write(`offered ${RATE}/s for ${SECONDS} s: achieved ${fmt(lat.length / loadElapsed, 1)}/s, p50 ${fmt(pct(lat, 50))} ms, p99 ${fmt(pct(lat, 99))} ms, errors ${errors} (goal p99 < 50 ms)\n`);
    process.stdout.write(`closed loop (8 in flight): ${fmt(maxRate, 1)} handshakes/s\n`);
    process.stdout.write(
      `bench keybroker: ratio=${fmt(ratio, 3)} handshake_ms=${fmt(handshakeMs)} raw_crypto_ms=${fmt(rawSum)} overhead_pct=${fmt((handshakeMs / rawSum - 1) * 100, 1)} offered_per_s=${RATE} achieved_per_s=${fmt(lat.length / loadElapsed, 1)} p50_ms=${fmt(pct(lat, 50))} p99_ms=${fmt(pct(lat, 99))} errors=${errors} max_per_s=${fmt(maxRate, 1)}\n`,
    );
  } finally {
    transport.close();
    broker.child.kill("SIGTERM");
    await new Promise((r) => broker.child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`bench keybroker failed: ${(e as Error).message}\n`);
  process.exit(1);
});
