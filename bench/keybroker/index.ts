/**
 * bench/keybroker: full KBS handshakes over loopback TLS against a broker running as its own
 * process (real SoftHSM2, real verifier on simulated SNP evidence, audit log written with
 * O_DSYNC, production log level), next to the sum of the raw crypto operations one handshake
 * needs on both sides, measured in the same run.
 *
 * One handshake = what an inference runtime does at boot, with the real guest client
 * (`KbsClient.release`, default decryptor): a new TLS connection to the broker (a booting guest has
 * none), new P-384 key, POST /auth asking for the runtime certificate, simulated report over the
 * binding, POST /attest (token + certificate), GET the model data key (JWE), close. With
 * `--keep-alive`, every handshake reuses one kept-alive connection instead (a long-running runtime
 * re-attesting), and the raw sum leaves the TLS handshake out.
 *
 * Raw crypto per handshake (raw.ts; each timed alone, same process): client P-384 key generation;
 * the TLS 1.3 handshake's X25519 on both sides, the listener's P-384 CertificateVerify signature
 * and the client's two P-384 verifications (CertificateVerify, the leaf by the broker CA); the
 * report's ECDSA P-384 signature (the PSP's job on hardware); report signature verification; the
 * TEE key's point validation; two ES384 signatures in the HSM (token, certificate); one
 * AES-256-GCM unwrap in the HSM; one ECDH-ES+A256KW/A256GCM encryption and its decryption.
 *
 * Phases: sequential handshakes (c=1), raw crypto and the transport floor (a new connection and
 * three GET /healthz: HTTPS alone) in 5 interleaved rounds, so machine load drifts alike for all
 * three; per-phase times (client view, the broker's request times) and the CPU both processes
 * spent per handshake; fixed offered loads (open loop, each `--seconds`); the closed-loop maximum.
 *
 * Usage: npm run bench -- keybroker [--rate 100] [--rates 60,80,100] [--seconds 10]
 *        [--sequential 200] [--keep-alive] [--profile DIR]
 * (`--profile DIR`: the broker runs with --cpu-prof into DIR; run the bench itself with
 * `node --cpu-prof --import tsx bench/keybroker/index.ts` to profile the client side.)
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import { KbsClient, type KbsEvidenceProvider } from "../../runtime/attester/kbs/client.js";
import { simulatedSnpEvidence } from "../../runtime/simulators/index.js";
import { httpsTransport, type Transport } from "../../runtime/attester/kbs/transport.js";
import { decryptFromTeeKey } from "../../runtime/kbs-protocol/jwe.js";
import { startBenchBroker } from "./broker.js";
import { rawCrypto } from "./raw.js";

const ROOT = join(__dirname, "../..");
const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const num = (name: string, dflt: number): number => Number(argOf(name) ?? dflt);
const RATE = num("rate", 100);
const RATES = [...new Set([...(argOf("rates") ?? "60,80").split(",").map(Number), RATE])].sort((a, b) => a - b);
const SECONDS = num("seconds", 10);
const SEQUENTIAL = num("sequential", 200);
const ROUNDS = 5;
const KEEP_ALIVE = process.argv.includes("--keep-alive");
const PROFILE = argOf("profile");
const MEASUREMENT = createHash("sha384").update("bench inference runtime").digest("hex");

/** User + system CPU of a process in ms (/proc/PID/stat utime + stime, clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
const ownCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : sum(xs) / xs.length);
const fmt = (x: number, d = 2): string => x.toFixed(d);

/** Client-side phase times (ms), recorded while `on` is true. */
class Phases {
  on = false;
  readonly times = new Map<string, number[]>();
  add(name: string, ms: number): void {
    if (!this.on) return;
    this.times.set(name, [...(this.times.get(name) ?? []), ms]);
  }
  transport(inner: Transport, keepOpen = false): Transport {
    return {
      send: async (method, path, o) => {
        const t = performance.now();
        try {
          return await inner.send(method, path, o);
        } finally {
          this.add(
            path.startsWith("/kbs/v0/resource/")
              ? "resource round trip"
              : path === "/kbs/v0/auth" && !KEEP_ALIVE
                ? "auth round trip (+ TLS handshake)"
                : `${path.slice(8)} round trip`,
            performance.now() - t,
          );
        }
      },
      close: () => (keepOpen ? undefined : inner.close()),
    };
  }
  evidence(inner: KbsEvidenceProvider): KbsEvidenceProvider {
    return {
      tee: inner.tee,
      getEvidence: async (rd) => {
        const t = performance.now();
        try {
          return await inner.getEvidence(rd);
        } finally {
          this.add("evidence (report signature)", performance.now() - t);
        }
      },
    };
  }
}

async function main(): Promise<void> {
  const dir = join(ROOT, ".bench-tmp", `keybroker-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const simDir = join(tmpdir(), "confidential-inference-bench-snp-genoa");
  const sim = await SimulatedSnp.open({ dir: simDir, product: "Genoa" });
  const broker = await startBenchBroker(dir, simDir, MEASUREMENT, PROFILE);
  const brokerCpu = (): number => processCpuMs(broker.child.pid as number);
  const phases = new Phases();
  const evidence = phases.evidence(simulatedSnpEvidence(sim, { measurement: MEASUREMENT }));
  const decrypt = (
    jwe: Parameters<typeof decryptFromTeeKey>[0],
    key: Parameters<typeof decryptFromTeeKey>[1],
  ): Buffer => {
    const t = performance.now();
    try {
      return decryptFromTeeKey(jwe, key);
    } finally {
      phases.add("decrypt", performance.now() - t);
    }
  };
  // --keep-alive: long-running runtimes, each re-attesting over its own open connection (idle ones are reused).
  const idle: Transport[] = [];
  const connections: Transport[] = [];
  const connection = (): Transport => {
    const t = idle.pop();
    if (t) return t;
    const fresh = httpsTransport(broker.kbs, broker.ca);
    if (KEEP_ALIVE) connections.push(fresh);
    return fresh;
  };
  const handshake = async (): Promise<void> => {
    // Without --keep-alive a fresh transport per handshake: one new TLS connection for its requests.
    const transport = connection();
    const c = new KbsClient({ transport: phases.transport(transport, KEEP_ALIVE), evidence, decrypt });
    try {
      const creds = await c.release({ keyIds: ["default/model/bench"] });
      if (
        creds.modelKeys.get("default/model/bench")?.length !== 32 ||
        !creds.serverCertificate.includes("BEGIN CERTIFICATE")
      )
        throw new Error("bad release");
    } finally {
      c.close();
      if (KEEP_ALIVE) idle.push(transport);
    }
  };
  const out = (s: string): boolean => process.stdout.write(`${s}\n`);
  try {
    // A long-running broker is JIT-compiled: warm both processes up before measuring.
    for (let i = 0; i < 200; i++) await handshake();

    const seq: number[] = [];
    const floor: number[] = [];
    const raws: Record<string, number>[] = [];
    const serverTimes = new Map<string, number>();
    const cpu = { client: 0, broker: 0, floor: 0 };
    const per = Math.ceil(SEQUENTIAL / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      broker.serverTimes.clear();
      phases.on = true;
      let c0 = ownCpuMs();
      let b0 = brokerCpu();
      for (let i = 0; i < per; i++) {
        const t = performance.now();
        await handshake();
        seq.push(performance.now() - t);
      }
      cpu.client += ownCpuMs() - c0;
      cpu.broker += brokerCpu() - b0;
      phases.on = false;
      await new Promise((r) => setTimeout(r, 50)); // the broker's request lines of this round
      for (const [k, v] of broker.serverTimes)
        if (k.startsWith("/kbs/")) serverTimes.set(k, (serverTimes.get(k) ?? 0) + sum(v));
      raws.push(await rawCrypto(dir, round));
      c0 = ownCpuMs();
      b0 = brokerCpu();
      for (let i = 0; i < per; i++) {
        const t = performance.now();
        const tr = connection();
        for (let r = 0; r < 3; r++)
          if ((await tr.send("GET", "/healthz")).status !== 200) throw new Error("healthz failed");
        if (KEEP_ALIVE) idle.push(tr);
        else tr.close();
        floor.push(performance.now() - t);
      }
      cpu.floor += ownCpuMs() - c0 + (brokerCpu() - b0);
    }
    const n = seq.length;
    const raw: Record<string, number> = {};
    for (const k of Object.keys(raws[0] ?? {}))
      if (!(KEEP_ALIVE && k.startsWith("tls_"))) raw[k] = mean(raws.map((r) => r[k] as number));
    const rawSum = sum(Object.values(raw));
    const tlsRaw = sum(
      Object.entries(raw)
        .filter(([k]) => k.startsWith("tls_"))
        .map(([, v]) => v),
    );
    const handshakeMs = mean(seq);
    seq.sort((a, b) => a - b);

    // Fixed offered loads, open loop: a handshake starts every 1000/rate ms whatever happens.
    const loads: { rate: number; achieved: number; p50: number; p99: number; errors: number }[] = [];
    for (const rate of RATES) {
      const lat: number[] = [];
      let errors = 0;
      const t0 = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < rate * SECONDS; i++) {
        const due = t0 + (i * 1000) / rate;
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
      lat.sort((a, b) => a - b);
      loads.push({
        rate,
        achieved: lat.length / ((performance.now() - t0) / 1000),
        p50: pct(lat, 50),
        p99: pct(lat, 99),
        errors,
      });
    }

    // Closed loop maximum: 8 handshakes in flight for 5 s.
    let done = 0;
    const stopAt = performance.now() + 5000;
    const tMax = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < stopAt) {
          await handshake();
          done += 1;
        }
      }),
    );
    const maxRate = done / ((performance.now() - tMax) / 1000);

    const cpuMs = (cpu.client + cpu.broker) / n;
    const main = loads.find((l) => l.rate === RATE) as (typeof loads)[number];
    const within = loads.filter((l) => l.p99 < 50 && l.errors === 0).map((l) => l.rate);
    out(`\n${KEEP_ALIVE ? "keep-alive: one connection for every handshake" : "a new TLS connection per handshake"}`);
    out(`raw crypto per handshake (ms, mean of ${ROUNDS} rounds interleaved with the handshakes):`);
    for (const [k, v] of Object.entries(raw)) out(`  ${k.padEnd(28)} ${fmt(v, 3)}`);
    out(`  ${"sum".padEnd(28)} ${fmt(rawSum, 3)}\n`);
    out(`sequential phases (mean ms per handshake; client view, round trips include the broker's time):`);
    for (const [k, v] of phases.times) out(`  ${k.padEnd(36)} ${fmt(sum(v) / n, 3)}`);
    out(`broker request times (mean ms per handshake, fastify elapsedTime):`);
    for (const [k, v] of serverTimes) out(`  ${k.padEnd(44)} ${fmt(v / n, 3)}`);
    out(
      `CPU per sequential handshake: client ${fmt(cpu.client / n)} ms + broker ${fmt(cpu.broker / n)} ms = ${fmt(cpuMs)} ms (${fmt((cpuMs / rawSum - 1) * 100, 1)} % above raw crypto; /proc ticks are 10 ms)`,
    );
    out(
      `transport floor (${KEEP_ALIVE ? "" : "new TLS connection + "}3 GET /healthz, no KBS work): ${fmt(mean(floor))} ms, CPU ${fmt(cpu.floor / floor.length)} ms${KEEP_ALIVE ? "" : ` (of which TLS crypto ${fmt(tlsRaw)} ms)`}\n`,
    );
    out(
      `sequential handshake (c=1, n=${n}): mean ${fmt(handshakeMs)} ms, p50 ${fmt(pct(seq, 50))} ms, p99 ${fmt(pct(seq, 99))} ms`,
    );
    out(`protocol overhead above raw crypto: ${fmt((handshakeMs / rawSum - 1) * 100, 1)} % (goal <= 30 %)`);
    for (const l of loads)
      out(
        `offered ${l.rate}/s for ${SECONDS} s: achieved ${fmt(l.achieved, 1)}/s, p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms, errors ${l.errors}${l.rate === RATE ? " (goal p99 < 50 ms)" : ""}`,
      );
    out(
      `closed loop (8 in flight): ${fmt(maxRate, 1)} handshakes/s; highest offered rate with p99 < 50 ms: ${within.length > 0 ? `${Math.max(...within)}/s` : "none of the rates tried"}`,
    );
    out(
      `bench keybroker: ratio=${fmt(rawSum / handshakeMs, 3)} handshake_ms=${fmt(handshakeMs)} raw_crypto_ms=${fmt(rawSum)} overhead_pct=${fmt((handshakeMs / rawSum - 1) * 100, 1)} cpu_ms=${fmt(cpuMs)} floor_ms=${fmt(mean(floor))} offered_per_s=${RATE} achieved_per_s=${fmt(main.achieved, 1)} p50_ms=${fmt(main.p50)} p99_ms=${fmt(main.p99)} errors=${main.errors} max_per_s=${fmt(maxRate, 1)}`,
    );
  } finally {
    for (const t of connections) t.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`bench keybroker failed: ${(e as Error).message}\n`);
  process.exit(1);
});
