/**
 * bench e2e: requests per second through proxy + gateway + runtime with end-to-end encryption
 * (Oblivious HTTP to the runtime's attested key: `attestctl proxy` verifies the bundle once, then
 * encapsulates each request; the gateway relays opaque bodies) against plain mTLS through the
 * gateway (the gateway terminates TLS and forwards the request in clear), at concurrency 32, three
 * separate processes (runtime, gateway, proxy) plus this load generator, in the same run.
 * ratio = encrypted req/s / plain req/s for the encoder (4 layers, one 60-word text per request;
 * goal >= 0.9), the median of per-round ratios over alternating rounds. cpu_ratio = CPU time per
 * request of every process, plain over encrypted: the throughput ratio of a CPU-bound machine, less
 * sensitive to other load than req/s. The tiny sentiment model (overhead-bound: the cost of
 * encryption and of the proxy hop is most visible) is reported too.
 *
 *   npm run bench -- e2e [--seconds S] [--rounds N]
 *   BENCH_PROF=DIR npm run bench -- e2e      # also writes each process's CPU profile (node --cpu-prof) to DIR/NAME
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { bundledTokenizerJson, BUNDLED_CONFIGS } from "../../test/helpers/inference.js";
import { releaseKeyPair, signedDevManifest } from "../../test/helpers/confidential.js";
import { A02_MEASUREMENT } from "../../test/helpers/golden.js";
import { createTestCa } from "../../test/helpers/pki.js";
import { freePort, sealBundled } from "../../test/helpers/runtime.js";
import { sharedSimulatedSnp } from "../../test/helpers/simulated-snp.js";
import { toPem } from "../../core/index.js";
import { SIMULATED_DEFAULT_TCB } from "../../runtime/simulators/index.js";
import type { RuntimeChildOptions } from "./runtime.js";

const ROOT = join(__dirname, "../..");
const args = process.argv.slice(2);
const arg = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const SECONDS = arg("--seconds", 2);
const ROUNDS = arg("--rounds", 9);
const CONCURRENCY = 32;

const WORDS =
  "the movie was great and the service was terrible but the food was really good so we would go again".split(" ");
const textFor = (i: number) => Array.from({ length: 60 }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]).join(" ");

/** `node --cpu-prof` flags writing `NAME`'s profile under `$BENCH_PROF/NAME`, when BENCH_PROF is set. */
const profile = (name: string): string[] =>
  process.env.BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${join(process.env.BENCH_PROF, name)}`] : [];

/** Starts a process and resolves with the first stdout line matching `ready`. */
function startChild(argv: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = ready.exec(out);
      if (m) {
        clearInterval(timer);
        resolve({ child, match: m });
      }
    }, 50);
    child.once("exit", (code) => {
      clearInterval(timer);
      reject(new Error(`${argv.join(" ")} exited (${code}):\n${out}${err}`));
    });
  });
}

type Send = (body: string) => Promise<void>;

function sender(url: string, path: string, agent: HttpAgent | HttpsAgent, headers: Record<string, string>): Send {
  const u = new URL(url);
  const https = u.protocol === "https:";
  return (body) =>
    new Promise((resolve, reject) => {
      const r = (https ? httpsRequest : httpRequest)(
        {
          agent,
          host: u.hostname,
          port: u.port,
          method: "POST",
          path,
          headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      r.on("error", reject);
      r.end(body);
    });
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid ?? "self"}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

async function load(send: Send, bodies: readonly string[]): Promise<{ rps: number; p50: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = w; performance.now() - t0 < SECONDS * 1000; i += CONCURRENCY) {
        const s = performance.now();
        await send(bodies[i % bodies.length]!);
        lat.push(performance.now() - s);
        done++;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { rps: (done * 1000) / (performance.now() - t0), p50: lat[Math.floor(lat.length / 2)] ?? 0 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ci-bench-e2e-"));
  const children: ChildProcess[] = [];
  try {
    const brokerCa = createTestCa("bench broker CA");
    const gatewayCa = createTestCa("bench gateway CA");
    const frontCa = createTestCa("bench front CA");
    const runtimeCert = brokerCa.issue("runtime");
    const upstream = gatewayCa.issue("gateway");
    const front = frontCa.issue("localhost");
    const sealed = await sealBundled(["encoder", "sentiment"]);
    const sim = await sharedSimulatedSnp("Genoa");
    const release = releaseKeyPair();
    const options: RuntimeChildOptions = {
      artifacts: sealed.artifacts.map((a) => ({
        config: BUNDLED_CONFIGS[
          a.config.name as "encoder" | "sentiment"
        ] as RuntimeChildOptions["artifacts"][0]["config"],
        container: Buffer.from(a.container).toString("base64"),
        signature: a.signature,
        tokenizerJson: bundledTokenizerJson(),
      })),
      keys: Object.fromEntries([...sealed.keys].map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
      signerPem: sealed.signerKey.export({ type: "spki", format: "pem" }) as string,
      runtime: runtimeCert,
      brokerCa: brokerCa.cert,
      gatewayCa: gatewayCa.cert,
      simDir: sim.dir,
      measurement: A02_MEASUREMENT,
      manifest: await signedDevManifest(release.privateKey),
    };
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text, { mode: 0o600 });
      return join(dir, name);
    };
    const rt = await startChild(
      [
        ...profile("runtime"),
        "--import",
        "tsx",
        join(__dirname, "runtime.ts"),
        file("runtime.json", JSON.stringify(options)),
      ],
      /^ready (\d+)$/m,
    );
    children.push(rt.child);
    const key = generateApiKey("bench");
    const gwPort = await freePort();
    const upstreamUrl = `https://localhost:${rt.match[1]}`;
    const gw = await startChild(
      [
        ...profile("gateway"),
        join(ROOT, "dist/runtime/gateway/main.js"),
        "--config",
        file(
          "gateway.json",
          JSON.stringify({
            listen: { host: "127.0.0.1", port: gwPort },
            ops: { host: "127.0.0.1", port: await freePort() },
            logLevel: "info",
            tls: { certFile: file("front.pem", front.cert), keyFile: file("front.key", front.key) },
            upstreamTls: {
              brokerCaFile: file("broker-ca.pem", brokerCa.cert),
              certFile: file("upstream.pem", upstream.cert),
              keyFile: file("upstream.key", upstream.key),
            },
            routes: { encoder: [{ url: upstreamUrl }], sentiment: [{ url: upstreamUrl }] },
            clients: [{ name: "bench", rateLimit: { perSecond: 1e6, burst: 1e6 } }],
            apiKeys: [key.record],
            plaintextApi: true,
          }),
        ),
      ],
      /gateway listening/,
    );
    children.push(gw.child);
    const trust = {
      attestation: { allowedRoots: ["simulated"], tcbFloors: { Genoa: SIMULATED_DEFAULT_TCB.Genoa } },
      releaseKeys: [release.publicKey.export({ type: "spki", format: "pem" }) as string],
      simulatedRoot: { product: "Genoa", ark: toPem(sim.roots.ark), ask: toPem(sim.roots.ask) },
    };
    const proxy = await startChild(
      [
        ...profile("proxy"),
        join(ROOT, "bin/attestctl"),
        "proxy",
        "--gateway",
        `https://localhost:${gwPort}`,
        "--trust",
        file("trust.json", JSON.stringify(trust)),
        "--model",
        "encoder",
        "--cacert",
        file("front-ca.pem", frontCa.cert),
        "--api-key-file",
        file("api-key", key.apiKey),
        "--listen",
        "127.0.0.1:0",
      ],
      /^(http:\/\/\S+)$/m,
    );
    children.push(proxy.child);

    const gatewayAgent = new HttpsAgent({ ca: frontCa.cert, keepAlive: true, maxSockets: 64 });
    const proxyAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
    const results: Record<string, Array<{ rps: number; p50: number }>> = {};
    /** CPU ms per request, by process. */
    const cpu: Record<string, Array<Record<string, number>>> = {};
    const models = [
      { name: "encoder", bodies: Array.from({ length: 64 }, (_, i) => textFor(i)) },
      { name: "sentiment", bodies: Array.from({ length: 64 }, (_, i) => textFor(i).split(" ").slice(0, 12).join(" ")) },
    ];
    for (const m of models) {
      const bodies = m.bodies.map((t) =>
        JSON.stringify({ inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [t] }] }),
      );
      const path = `/v2/models/${m.name}/infer`;
      const plain = sender(`https://localhost:${gwPort}`, path, gatewayAgent, {
        authorization: `Bearer ${key.apiKey}`,
      });
      const encrypted = sender(proxy.match[1]!, path, proxyAgent, {});
      await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => plain(bodies[i]!).then(() => encrypted(bodies[i]!))),
      );
      // Plain and encrypted segments alternate, so both see the same background load on a shared machine.
      const procs = { runtime: rt.child.pid, gateway: gw.child.pid, proxy: proxy.child.pid, client: undefined };
      const measured = async (key: string, send: Send) => {
        const before = Object.values(procs).map(cpuSeconds);
        const r = await load(send, bodies);
        const used = Object.values(procs).map((p, i) => cpuSeconds(p) - before[i]!);
        const n = (r.rps * SECONDS) / 1000;
        (cpu[key] ??= []).push(Object.fromEntries(Object.keys(procs).map((k, i) => [k, used[i]! / n])));
        (results[key] ??= []).push(r);
      };
      for (let round = 0; round < ROUNDS; round++) {
        await measured(`${m.name}-plain`, plain);
        await measured(`${m.name}-ohttp`, encrypted);
      }
    }
    gatewayAgent.destroy();
    proxyAgent.destroy();

    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const ratio = (m: string) => median(results[`${m}-ohttp`]!.map((r, i) => r.rps / results[`${m}-plain`]![i]!.rps));
    const rps = (k: string) => median(results[k]!.map((r) => r.rps));
    const p50 = (k: string) => median(results[k]!.map((r) => r.p50));
    const f = (n: number, d = 1) => n.toFixed(d);
    process.stdout.write(
      `concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds x ${SECONDS}s per path, medians (ratio: median of per-round ratios)\n`,
    );
    process.stdout.write(
      "model      | plain mTLS through the gateway | OHTTP: proxy + gateway relay + runtime | ratio\n",
    );
    for (const m of models.map((x) => x.name))
      process.stdout.write(
        `${m.padEnd(10)} | ${f(rps(`${m}-plain`))} req/s, p50 ${f(p50(`${m}-plain`), 2)} ms | ${f(rps(`${m}-ohttp`))} req/s, p50 ${f(p50(`${m}-ohttp`), 2)} ms | ${f(ratio(m), 3)}\n`,
      );
    /** Plain CPU per request over OHTTP CPU per request, all processes: the throughput ratio when CPU-bound, whatever else runs. */
    const cpuRatio = (m: string) =>
      median(
        cpu[`${m}-ohttp`]!.map((c, i) => {
          const total = (x: Record<string, number>) => Object.values(x).reduce((a, v) => a + v, 0);
          return total(cpu[`${m}-plain`]![i]!) / total(c);
        }),
      );
    for (const k of Object.keys(cpu)) {
      const per = (name: string) => f(median(cpu[k]!.map((c) => c[name]!)), 3);
      process.stdout.write(
        `cpu ms/request ${k.padEnd(16)} runtime ${per("runtime")}, gateway ${per("gateway")}, proxy ${per("proxy")}, load generator ${per("client")}\n`,
      );
    }
    process.stdout.write(
      `bench e2e: ratio=${f(ratio("encoder"), 3)} c32_rps_ohttp=${f(rps("encoder-ohttp"))} c32_rps_plain=${f(rps("encoder-plain"))} c32_p50_ms_ohttp=${f(p50("encoder-ohttp"), 2)} c32_p50_ms_plain=${f(p50("encoder-plain"), 2)} cpu_ratio=${f(cpuRatio("encoder"), 3)} sentiment_ratio=${f(ratio("sentiment"), 3)} sentiment_cpu_ratio=${f(cpuRatio("sentiment"), 3)} sentiment_rps_ohttp=${f(rps("sentiment-ohttp"))} sentiment_rps_plain=${f(rps("sentiment-plain"))}\n`,
    );
  } finally {
    for (const c of children.reverse()) c.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench e2e failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
