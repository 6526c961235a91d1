/**
 * bench/keybroker-fleet: capacity as a fleet sees it. Broker replicas run as their own processes
 * (the compiled main, production log level) on one PostgreSQL server (started here, in a temp
 * folder) and one SoftHSM2 token; the real verifier on simulated SNP reports. One handshake = a
 * booting runtime's `KbsClient.release` on a NEW TLS connection (runtimes renew every few minutes,
 * so connections are not kept alive), to one replica chosen round robin (a Service spreads
 * connections): /auth, report, /attest (token + certificate), GET the model key (JWE).
 *
 * For 1 replica, then for 3: the sustained maximum (closed loop, `--inflight` handshakes in flight
 * for `--seconds`), then open-loop offered loads at 50 % and 90 % of it and at the fleet goal of
 * 33/s (10,000 runtimes renewing every 5 minutes), each with p50/p99 latency and errors. The load
 * generator (the guests' side: key generation, TLS, report signing, JWE decryption) runs on the same
 * machine and takes its share of the cores: the numbers are what this machine serves, not a server's.
 *
 * `--replicas file,1,3` adds a single replica on the file store (no database) as the baseline of the
 * store's own cost, measured in the same run.
 *
 * Usage: npm run bench -- keybroker-fleet [--seconds 10] [--inflight 8] [--replicas file,1,3]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import { httpsTransport } from "../../runtime/attester/kbs/transport.js";
import { signManifest, softwareSigner } from "../../measurements/manifest/sign.js";
import { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import { simulatedSnpEvidence } from "../../runtime/simulators/index.js";
import { startTestPostgres } from "../../test/helpers/postgres.js";
import { adminRequest, goldenManifest, operatorPki } from "../../test/helpers/keybroker.js";

const ROOT = join(__dirname, "../..");
const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const SECONDS = Number(argOf("seconds") ?? 10);
const INFLIGHT = Number(argOf("inflight") ?? 8);
const FLEETS = (argOf("replicas") ?? "file,1,3").split(",").map((x) => (x === "file" ? 0 : Number(x)));
const GOAL = 33;
const MEASUREMENT = createHash("sha384").update("bench fleet runtime").digest("hex");
const pct = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
const fmt = (x: number, d = 1): string => x.toFixed(d);
const out = (s: string): boolean => process.stdout.write(`${s}\n`);

interface Fleet {
  readonly kbs: string[];
  readonly ca: string;
  /** CPU ms spent so far by the broker replicas, and by the PostgreSQL server's processes. */
  cpu(): { broker: number; postgres: number };
  stop(): Promise<void>;
}

/** User + system CPU of a process in ms (/proc/PID/stat utime + stime, clock ticks of 10 ms); 0 once gone. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
      .replace(/^.*\) /, "")
      .split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The PostgreSQL server's processes: the postmaster (data/postmaster.pid) and its children. */
function postgresPids(dataDir: string): number[] {
  let main: number;
  try {
    main = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return [];
  }
  const kids = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return (
          readFileSync(`/proc/${d}/stat`, "utf8")
            .replace(/^.*\) /, "")
            .split(" ")[1] === String(main)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
  return [main, ...kids];
}

/**
 * Starts `n` replicas on a fresh database and token (`n` = 0: one replica on the file store);
 * imports an active manifest and the model key.
 */
async function startFleet(n: number, simDir: string): Promise<Fleet> {
  const dir = join(ROOT, ".bench-tmp", `keybroker-fleet-${process.pid}-${n}`);
  mkdirSync(dir, { recursive: true });
  const db = n === 0 ? undefined : await startTestPostgres();
  const op = operatorPki("bench");
  const release = generateKeyPairSync("ec", { namedCurve: "P-384" });
  writeFileSync(join(dir, "pin"), `${randomBytes(12).toString("hex")}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "operator-ca.pem"), op.caPem);
  writeFileSync(join(dir, "release.pub.pem"), release.publicKey.export({ type: "spki", format: "pem" }) as string);
  const children: ChildProcess[] = [];
  const start = (i: number): Promise<{ kbs: string; admin: string }> => {
    const config = {
      stateDir: join(dir, `r${i}`, "state"),
      hsm: { tokenLabel: "bench", pinFile: join(dir, "pin"), softhsm: { tokenDir: join(dir, "tokens") } },
      listen: { host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0 },
      admin: { operatorCaFile: join(dir, "operator-ca.pem") },
      manifests: { signerPublicKeyFile: join(dir, "release.pub.pem") },
      policy: { resourceRules: [{ resource: "runtime/*/*" }, { resource: "*/model/*", launchShapes: ["inference*"] }] },
      attestation: { policy: { allowedRoots: ["simulated"] }, simulatedSnpDir: simDir },
      // One load generator stands for thousands of runtimes from one address.
      limits: { bodyBytes: 262_144, maxSessions: 100_000, sessionsPerPeer: 100_000 },
      store: db ? { kind: "postgres", connectionEnv: "KB_PG_URL", replica: `r${i}` } : { kind: "file" },
    };
    mkdirSync(join(dir, `r${i}`), { recursive: true });
    writeFileSync(join(dir, `r${i}`, "keybroker.json"), JSON.stringify(config));
    const child = spawn(
      process.execPath,
      [join(ROOT, "dist/runtime/keybroker/main.js"), "--config", join(dir, `r${i}`, "keybroker.json")],
      {
        env: { ...process.env, KEYBROKER_LOG_LEVEL: "info", KB_PG_URL: db?.url ?? "" },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    children.push(child);
    return new Promise((resolve, reject) => {
      let text = "";
      child.stdout?.on("data", (c: Buffer) => {
        text += c.toString();
        const m = /keybroker ready kbs=(\S+) admin=(\S+)/.exec(text);
        if (m) resolve({ kbs: m[1] as string, admin: m[2] as string });
        if (text.length > 65_536) text = text.slice(-4096);
      });
      child.on("exit", (code) => reject(new Error(`replica ${i} exited with ${code}`)));
    });
  };
  const first = await start(0);
  const rest = await Promise.all(Array.from({ length: Math.max(0, n - 1) }, (_, i) => start(i + 1)));
  const ca = readFileSync(join(dir, "r0", "state", "ca.pem"), "utf8");
  const manifest = goldenManifest({ release: "bench-1", status: "active", shapes: { "inference-small": MEASUREMENT } });
  const jws = await signManifest(manifest, softwareSigner(release.privateKey, "bench-release"));
  if ((await adminRequest(first.admin, ca, op, "POST", "/admin/v1/manifests", { jws })).status !== 201)
    throw new Error("manifest import failed");
  const key = await adminRequest(
    first.admin,
    ca,
    op,
    "POST",
    "/admin/v1/data-keys/default/model/bench",
    randomBytes(32),
    "application/octet-stream",
  );
  if (key.status !== 200) throw new Error("data key import failed");
  return {
    kbs: [first.kbs, ...rest.map((r) => r.kbs)],
    ca,
    cpu: () => ({
      broker: children.reduce((a, c) => a + processCpuMs(c.pid as number), 0),
      // Backends come and go with pool connections; those alive now carry the load of this phase.
      postgres: db ? postgresPids(join(db.dir, "data")).reduce((a, p) => a + processCpuMs(p), 0) : 0,
    }),
    async stop() {
      for (const c of children) c.kill("SIGTERM");
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
      db?.close();
    },
  };
}

async function main(): Promise<void> {
  const simDir = join(tmpdir(), "confidential-inference-bench-snp-genoa");
  const sim = await SimulatedSnp.open({ dir: simDir, product: "Genoa" });
  const evidence = simulatedSnpEvidence(sim, { measurement: MEASUREMENT });
  const summary: string[] = [];
  const cpuSummary: string[] = [];
  for (const n of FLEETS) {
    const fleet = await startFleet(n, simDir);
    const label = n === 0 ? "file store, 1 replica" : `postgres, ${n} replica(s)`;
    const key = n === 0 ? "file" : `r${n}`;
    let next = 0;
    const handshake = async (): Promise<number> => {
      const url = fleet.kbs[next++ % fleet.kbs.length] as string;
      const t = performance.now();
      const c = new KbsClient({ transport: httpsTransport(url, fleet.ca), evidence });
      try {
        const creds = await c.release({ keyIds: ["default/model/bench"] });
        if (creds.modelKeys.get("default/model/bench")?.length !== 32) throw new Error("bad release");
      } finally {
        c.close();
      }
      return performance.now() - t;
    };
    try {
      for (let i = 0; i < 100; i++) await handshake(); // JIT warm-up of every process
      // Sustained maximum: a closed loop with INFLIGHT handshakes in flight.
      let done = 0;
      let errors = 0;
      const cpu0 = { ...fleet.cpu(), client: process.cpuUsage() };
      const until = performance.now() + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: INFLIGHT }, async () => {
          while (performance.now() < until)
            await handshake().then(
              () => void (done += 1),
              () => void (errors += 1),
            );
        }),
      );
      const max = done / SECONDS;
      const cpu1 = fleet.cpu();
      const client = process.cpuUsage(cpu0.client);
      const per = {
        broker: (cpu1.broker - cpu0.broker) / done,
        postgres: (cpu1.postgres - cpu0.postgres) / done,
        client: (client.user + client.system) / 1000 / done,
      };
      out(
        `${label}: sustained ${fmt(max)} handshakes/s (closed loop, ${INFLIGHT} in flight, ${errors} errors); CPU per handshake: broker ${fmt(per.broker, 2)} ms, postgres ${fmt(per.postgres, 2)} ms, client ${fmt(per.client, 2)} ms`,
      );
      cpuSummary.push(
        `${key}_cpu_broker_ms=${fmt(per.broker, 2)} ${key}_cpu_postgres_ms=${fmt(per.postgres, 2)} ${key}_cpu_client_ms=${fmt(per.client, 2)}`,
      );
      const loads = [Math.round(max * 0.5), Math.round(max * 0.9), GOAL].filter((r) => r > 0);
      const results: Record<number, { p50: number; p99: number; errors: number; achieved: number }> = {};
      for (const rate of [...new Set(loads)].sort((a, b) => a - b)) {
        await new Promise((r) => setTimeout(r, 2000)); // let the previous phase's backlog drain
        const lat: number[] = [];
        let failed = 0;
        const t0 = performance.now();
        const inflight: Promise<void>[] = [];
        for (let i = 0; i < rate * SECONDS; i++) {
          const due = t0 + (i * 1000) / rate;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          inflight.push(
            handshake().then(
              (ms) => void lat.push(ms),
              () => void (failed += 1),
            ),
          );
        }
        await Promise.all(inflight);
        const elapsed = (performance.now() - t0) / 1000;
        lat.sort((a, b) => a - b);
        results[rate] = { p50: pct(lat, 50), p99: pct(lat, 99), errors: failed, achieved: lat.length / elapsed };
        out(
          `${label}: offered ${rate}/s -> achieved ${fmt(lat.length / elapsed)}/s, p50 ${fmt(pct(lat, 50))} ms, p99 ${fmt(pct(lat, 99))} ms, ${failed} errors`,
        );
      }
      const r50 = results[Math.round(max * 0.5)];
      const r90 = results[Math.round(max * 0.9)];
      const goal = results[GOAL];
      summary.push(
        `${key}_max_per_s=${fmt(max)} ${key}_p50_at50=${fmt(r50?.p50 ?? NaN)} ${key}_p99_at50=${fmt(r50?.p99 ?? NaN)} ${key}_p50_at90=${fmt(r90?.p50 ?? NaN)} ${key}_p99_at90=${fmt(r90?.p99 ?? NaN)} ${key}_p99_at33=${fmt(goal?.p99 ?? NaN)}`,
      );
    } finally {
      await fleet.stop();
    }
  }
  // ratio: the largest fleet's sustained maximum over one PostgreSQL replica's (how capacity grows with replicas).
  const maxOf = (n: number): number => {
    const line = summary.find((x) => x.startsWith(n === 0 ? "file_" : `r${n}_`)) ?? "";
    return Number(/max_per_s=([0-9.]+)/.exec(line)?.[1] ?? Number.NaN);
  };
  const pgFleets = FLEETS.filter((n) => n > 0);
  const ratio = pgFleets.length > 1 ? maxOf(Math.max(...pgFleets)) / maxOf(Math.min(...pgFleets)) : 1;
  out(`bench keybroker-fleet: ratio=${fmt(ratio, 2)} ${summary.join(" ")} ${cpuSummary.join(" ")}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
