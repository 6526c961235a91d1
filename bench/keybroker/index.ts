/**
 * bench/keybroker: full KBS handshakes over loopback TLS against a broker running as its own
 * process (real SoftHSM2, real verifier on simulated SNP evidence, audit log written with
 * O_DSYNC, production log level), next to the sum of the raw crypto operations one handshake
 * needs on both sides, measured in the same run.
 *
 * One handshake = what an inference runtime does at boot, with the real guest client
 * (`KbsClient.release`, default decryptor): a new TLS connection to the broker (a booting guest has
 * none), new P-384 key, POST /auth asking for the runtime certificate, simulated report over the
 * binding, POST /attest (token + certificate), GET the model data key (JWE), close.
 * Phases: sequential latency (c=1) with a per-phase breakdown (client view and the broker's own
 * request times) and the CPU both processes spent per handshake, a fixed offered load (open loop,
 * default 100/s for 10 s), and the closed-loop maximum (8 in flight).
 *
 * Raw crypto per handshake (raw.ts; each timed alone, same process): client P-384 key generation;
 * the TLS 1.3 handshake's X25519 on both sides, the listener's P-384 CertificateVerify signature
 * and the client's two P-384 verifications (CertificateVerify, the leaf by the broker CA); the
 * report's ECDSA P-384 signature (the PSP's job on hardware); report signature verification; the
 * on-curve check of the TEE key; two ES384 signatures in the HSM (token, certificate); one
 * AES-256-GCM unwrap in the HSM; one ECDH-ES+A256KW/A256GCM encryption and its decryption.
 *
 * Usage: npm run bench -- keybroker [--rate 100] [--seconds 10] [--sequential 200] [--profile DIR]
 * (`--profile DIR`: the broker runs with --cpu-prof into DIR; run the bench itself with
 * `node --cpu-prof --import tsx bench/keybroker/index.ts` to profile the client side.)
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimulatedSnp } from "../../runtime/attestation/evidence/simulated.js";
import { KbsClient, type EvidenceProvider } from "../../runtime/keybroker/client/kbs-client.js";
import { simulatedSnpEvidence } from "../../runtime/keybroker/client/snp-evidence.js";
import { httpsTransport, type Transport } from "../../runtime/keybroker/client/transport.js";
import { decryptFromTeeKey } from "../../runtime/keybroker/protocol/jwe.js";
import { startBenchBroker } from "./broker.js";
import { rawCrypto } from "./raw.js";

const ROOT = join(__dirname, "../..");
const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const num = (name: string, dflt: number): number => Number(argOf(name) ?? dflt);
const RATE = num("rate", 100);
const SECONDS = num("seconds", 10);
const SEQUENTIAL = num("sequential", 200);
const PROFILE = argOf("profile");
const MEASUREMENT = createHash("sha384").update("bench inference runtime").digest("hex");

/** User + system CPU of a process in ms (/proc/PID/stat utime + stime, clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const fmt = (x: number, d = 2): string => x.toFixed(d);

/** Client-side phase times (ms), recorded while `on` is true. */
class Phases {
  on = false;
  readonly times = new Map<string, number[]>();
  add(name: string, ms: number): void {
    if (!this.on) return;
    const list = this.times.get(name) ?? [];
    list.push(ms);
    this.times.set(name, list);
  }
  transport(inner: Transport): Transport {
    return {
      send: async (method, path, o) => {
        const t = performance.now();
        try {
          return await inner.send(method, path, o);
        } finally {
          this.add(path.startsWith("/kbs/v0/resource/") ? "resource round trip" : path === "/kbs/v0/auth" ? "auth round trip (+ TLS handshake)" : `${path.slice(8)} round trip`, performance.now() - t);
        }
      },
      close: () => inner.close(),
    };
  }
  evidence(inner: EvidenceProvider): EvidenceProvider {
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
  const phases = new Phases();
  const evidence = phases.evidence(simulatedSnpEvidence(sim, { measurement: MEASUREMENT }));
  const decrypt = (jwe: Parameters<typeof decryptFromTeeKey>[0], key: Parameters<typeof decryptFromTeeKey>[1]): Buffer => {
    const t = performance.now();
    try {
      return decryptFromTeeKey(jwe, key);
    } finally {
      phases.add("decrypt", performance.now() - t);
    }
  };
  const handshake = async (): Promise<void> => {
    // A fresh transport per handshake: one new TLS connection, kept alive for the handshake's requests.
    const c = new KbsClient({ transport: phases.transport(httpsTransport(broker.kbs, broker.ca)), evidence, decrypt });
    try {
      const creds = await c.release({ keyIds: ["default/model/bench"] });
      if (creds.modelKeys.get("default/model/bench")?.length !== 32 || !creds.serverCertificate.includes("BEGIN CERTIFICATE")) throw new Error("bad release");
    } finally {
      c.close();
    }
  };
  try {
    for (let i = 0; i < 30; i++) await handshake();
    broker.serverTimes.clear();
    phases.on = true;
    const seq: number[] = [];
    const cpu0 = { client: process.cpuUsage(), broker: processCpuMs(broker.child.pid as number) };
    for (let i = 0; i < SEQUENTIAL; i++) {
      const t = performance.now();
      await handshake();
      seq.push(performance.now() - t);
    }
    const cpu1 = { client: process.cpuUsage(cpu0.client), broker: processCpuMs(broker.child.pid as number) };
    const cpuClientMs = (cpu1.client.user + cpu1.client.system) / 1000 / SEQUENTIAL;
    const cpuBrokerMs = (cpu1.broker - cpu0.broker) / SEQUENTIAL;
    phases.on = false;
    await new Promise((r) => setTimeout(r, 200)); // the broker's last request lines
    const serverSeq = new Map([...broker.serverTimes].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / SEQUENTIAL]));
    seq.sort((a, b) => a - b);
    const raw = await rawCrypto(dir);
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
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < stopAt) {
          await handshake();
          done += 1;
        }
      }),
    );
    const maxRate = done / ((performance.now() - tMax) / 1000);

    const ratio = rawSum / handshakeMs;
    const out = (s: string): boolean => process.stdout.write(`${s}\n`);
    out(`\nraw crypto per handshake (ms, same run):`);
    for (const [k, v] of Object.entries(raw)) out(`  ${k.padEnd(28)} ${fmt(v, 3)}`);
    out(`  ${"sum".padEnd(28)} ${fmt(rawSum, 3)}\n`);
    out(`sequential phases (mean ms per handshake; client view, round trips include the broker's time):`);
    for (const [k, v] of phases.times) out(`  ${k.padEnd(28)} ${fmt(v.reduce((a, b) => a + b, 0) / SEQUENTIAL, 3)}`);
    out(`broker request times (mean ms per handshake, fastify elapsedTime):`);
    for (const [k, v] of serverSeq) out(`  ${k.padEnd(44)} ${fmt(v, 3)}`);
    out(`CPU per sequential handshake: client ${fmt(cpuClientMs)} ms + broker ${fmt(cpuBrokerMs)} ms = ${fmt(cpuClientMs + cpuBrokerMs)} ms (${fmt(((cpuClientMs + cpuBrokerMs) / rawSum - 1) * 100, 1)} % above raw crypto; /proc ticks are 10 ms)`);
    out(``);
    out(`sequential handshake (c=1, n=${SEQUENTIAL}): mean ${fmt(handshakeMs)} ms, p50 ${fmt(pct(seq, 50))} ms, p99 ${fmt(pct(seq, 99))} ms`);
    out(`protocol overhead above raw crypto: ${fmt((handshakeMs / rawSum - 1) * 100, 1)} % (goal <= 30 %)`);
    out(`offered ${RATE}/s for ${SECONDS} s: achieved ${fmt(lat.length / loadElapsed, 1)}/s, p50 ${fmt(pct(lat, 50))} ms, p99 ${fmt(pct(lat, 99))} ms, errors ${errors} (goal p99 < 50 ms)`);
    out(`closed loop (8 in flight): ${fmt(maxRate, 1)} handshakes/s`);
    out(
      `bench keybroker: ratio=${fmt(ratio, 3)} handshake_ms=${fmt(handshakeMs)} raw_crypto_ms=${fmt(rawSum)} overhead_pct=${fmt((handshakeMs / rawSum - 1) * 100, 1)} cpu_ms=${fmt(cpuClientMs + cpuBrokerMs)} offered_per_s=${RATE} achieved_per_s=${fmt(lat.length / loadElapsed, 1)} p50_ms=${fmt(pct(lat, 50))} p99_ms=${fmt(pct(lat, 99))} errors=${errors} max_per_s=${fmt(maxRate, 1)}`,
    );
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`bench keybroker failed: ${(e as Error).message}\n`);
  process.exit(1);
});
