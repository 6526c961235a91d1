/**
 * bench/keybroker: the broker under test, started as its own process (runtime/keybroker/main.ts)
 * with a fresh SoftHSM2 token, a signed golden manifest and one model data key, plus the
 * server-side request times it logs (pino `request` lines, `ms` per route).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { buildCertificate, ecdsaSha384Signer, ecProfileSpec, pointFromKey, toPem } from "../../core/index.js";
import { signManifest, softwareSigner } from "../../measurements/manifest/sign.js";
import type { GoldenManifest } from "../../measurements/manifest/types.js";

const ROOT = join(__dirname, "../..");

/** A running broker process. */
export interface BenchBroker {
  readonly child: ChildProcess;
  readonly kbs: string;
  readonly ca: string;
  /** Server-side request times in ms by route, since the last `resetServerTimes()`. */
  readonly serverTimes: Map<string, number[]>;
  stop(): Promise<void>;
}

/** Operator CA + client certificate (software; bench only). */
function operator(): { caPem: string; certPem: string; keyPem: string } {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const op = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const s = ecdsaSha384Signer(ca.privateKey);
  const dn = { commonName: "bench operator CA" };
  const t = Date.now();
  const caDer = buildCertificate(
    ecProfileSpec({
      serial: randomBytes(8),
      issuer: dn,
      subject: dn,
      notBefore: new Date(t - 60_000),
      notAfter: new Date(t + 86_400_000),
      subjectPoint: pointFromKey(ca.publicKey),
      issuerPoint: pointFromKey(ca.publicKey),
      profile: "ca",
    }),
    s,
  );
  const opDer = buildCertificate(
    ecProfileSpec({
      serial: randomBytes(8),
      issuer: dn,
      subject: { commonName: "bench" },
      notBefore: new Date(t - 60_000),
      notAfter: new Date(t + 86_400_000),
      subjectPoint: pointFromKey(op.publicKey),
      issuerPoint: pointFromKey(ca.publicKey),
      profile: "tls",
    }),
    s,
  );
  return {
    caPem: toPem(caDer),
    certPem: toPem(opDer),
    keyPem: op.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}

function admin(
  url: string,
  ca: string,
  op: { certPem: string; keyPem: string },
  path: string,
  body: Buffer,
  type: string,
): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: u.hostname,
        port: u.port,
        method: "POST",
        path,
        ca,
        cert: op.certPem,
        key: op.keyPem,
        headers: { "content-type": type, "content-length": String(body.length) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Starts the broker in `dir` trusting the simulated platform in `simDir`, imports an active
 * manifest holding `measurement` and the data key `default/model/bench`. `profileDir`: run the
 * broker with `--cpu-prof` into that folder.
 */
export async function startBenchBroker(
  dir: string,
  simDir: string,
  measurement: string,
  profileDir?: string,
): Promise<BenchBroker> {
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
    // One load generator stands for many runtimes from one address.
    limits: { bodyBytes: 262_144, maxSessions: 100_000, sessionsPerPeer: 100_000 },
  };
  writeFileSync(join(dir, "keybroker.json"), JSON.stringify(config));
  const nodeArgs = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  // Production log level (info): one metadata line per request, which the bench also reads for server-side times.
  const child = spawn(
    process.execPath,
    // The compiled broker, as deployed (bench/run.cjs rebuilds dist/ when it is stale).
    [...nodeArgs, join(ROOT, "dist/runtime/keybroker/main.js"), "--config", join(dir, "keybroker.json")],
    {
      env: { ...process.env, KEYBROKER_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const serverTimes = new Map<string, number[]>();
  let pending = "";
  const urls = await new Promise<{ kbs: string; admin: string }>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      pending += c.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const m = /keybroker ready kbs=(\S+) admin=(\S+)/.exec(line);
        if (m) resolve({ kbs: m[1] as string, admin: m[2] as string });
        if (!line.startsWith("{")) continue;
        const o = JSON.parse(line) as { msg?: string; route?: string; ms?: number };
        if (o.msg === "request" && o.route && typeof o.ms === "number") {
          const list = serverTimes.get(o.route) ?? [];
          list.push(o.ms);
          serverTimes.set(o.route, list);
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`broker exited with ${code}`)));
  });
  const ca = readFileSync(join(dir, "state", "ca.pem"), "utf8");
  const manifest: GoldenManifest = {
    schemaVersion: 1,
    release: "bench-1",
    environment: "dev",
    platform: "sev-snp",
    createdAt: "2026-11-01T00:00:00Z",
    status: "active",
    artifacts: { ovmf: { kind: "firmware", sha256: "a".repeat(64), size: 4096, source: "bench" } },
    launchShapes: {
      "inference-small": {
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
      },
    },
    tcbFloors: {},
    allowedPolicyBits: "0x30000",
  };
  const jws = await signManifest(manifest, softwareSigner(release.privateKey, "bench-release"));
  if (
    (await admin(
      urls.admin,
      ca,
      op,
      "/admin/v1/manifests",
      Buffer.from(JSON.stringify({ jws })),
      "application/json",
    )) !== 201
  )
    throw new Error("manifest import failed");
  if (
    (await admin(
      urls.admin,
      ca,
      op,
      "/admin/v1/data-keys/default/model/bench",
      randomBytes(32),
      "application/octet-stream",
    )) !== 200
  )
    throw new Error("data key import failed");
  return {
    child,
    kbs: urls.kbs,
    ca,
    serverTimes,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}
