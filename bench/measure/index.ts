/**
 * `npm run bench -- measure`: launch-digest throughput against raw node:crypto hashing of the same
 * bytes, measured in the same run, plus the wall time of a typical `attestctl measure snp` call.
 *
 * Input: guest/firmware/OVMF.amdsev.fd (4 MiB) + a 16 MiB kernel + a 64 MiB initrd generated in memory,
 * `--mode snp`, 4 vCPUs EPYC-v4, a command line. The measurement hashes the kernel and initrd with
 * SHA-256 (that is what the SEV hashes table holds) and the firmware page by page with SHA-384, so
 * two baselines are reported:
 *   ratio      = raw SHA-384 over all 84 MiB (the baseline) / ours, time for time;
 *   ratio_same = (raw SHA-384 over the firmware + raw SHA-256 over kernel and initrd) / ours,
 *                i.e. the cost of the per-page records and VMSAs alone.
 * Usage: npm run bench -- measure [iterations=15] [cli-runs=10]
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { computeMeasurement } from "../../measurements/snp/index.js";

const ROOT = join(__dirname, "../..");
const MIB = 1024 * 1024;
const iterations = Number(process.argv[2] ?? 15);
const cliRuns = Number(process.argv[3] ?? 10);

/** Deterministic filler (content does not change hashing speed, but keep it non-trivial). */
function blob(size: number, label: string): Buffer {
  const out = Buffer.alloc(size);
  const seed = createHash("sha256").update(label).digest();
  for (let at = 0; at < size; at += seed.length) seed.copy(out, at);
  for (let at = 0; at < size; at += 4096) out.writeUInt32LE(at, at);
  return out;
}

const ovmf = readFileSync(join(ROOT, "guest/firmware/OVMF.amdsev.fd"));
const kernel = blob(16 * MIB, "bench/kernel");
const initrd = blob(64 * MIB, "bench/initrd");
const totalBytes = ovmf.length + kernel.length + initrd.length;

const ours = () =>
  computeMeasurement({
    mode: "snp",
    ovmf,
    vcpus: 4,
    vcpuType: "EPYC-v4",
    kernel,
    initrd,
    cmdline: "console=ttyS0 loglevel=7",
  }).digest;
const rawSha384 = () => createHash("sha384").update(ovmf).update(kernel).update(initrd).digest();
const rawSame = () => [
  createHash("sha384").update(ovmf).digest(),
  createHash("sha256").update(kernel).digest(),
  createHash("sha256").update(initrd).digest(),
];

function time(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

for (let i = 0; i < 3; i++) {
  ours();
  rawSha384();
  rawSame();
}
const t = { ours: [] as number[], sha384: [] as number[], same: [] as number[] };
for (let i = 0; i < iterations; i++) {
  // Interleave so load from other processes hits all three alike.
  t.ours.push(time(ours));
  t.sha384.push(time(rawSha384));
  t.same.push(time(rawSame));
}
const ms = { ours: median(t.ours), sha384: median(t.sha384), same: median(t.same) };
const mibPerS = (m: number) => totalBytes / MIB / (m / 1000);

// CLI wall time: vector a02 (4 MiB OVMF, 512 KiB kernel, 128 KiB initrd, 4 vCPUs) through the real bin/attestctl.
const vectors = join(ROOT, "test/vectors/snp-measure");
const a02 = [
  "measure",
  "snp",
  "--mode",
  "snp",
  "--vcpus",
  "4",
  "--vcpu-type",
  "EPYC-v4",
  "--ovmf",
  "inputs/OVMF.amdsev.fd",
  "--kernel",
  "inputs/kernel-a.bin",
  "--initrd",
  "inputs/initrd-a.img",
  "--append",
  "console=ttyS0 loglevel=7",
];
const cli: number[] = [];
const node: number[] = [];
for (let i = 0; i < cliRuns + 1; i++) {
  const c = time(() => {
    const r = spawnSync(process.execPath, [join(ROOT, "bin/attestctl"), ...a02], { cwd: vectors, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`attestctl failed: ${r.stderr}`);
  });
  const n = time(() => spawnSync(process.execPath, ["-e", ""]));
  if (i > 0) {
    cli.push(c);
    node.push(n);
  } // first run warms the file cache
}

const fmt = (x: number) => x.toFixed(1);
console.log(
  `input: OVMF ${ovmf.length / MIB} MiB + kernel ${kernel.length / MIB} MiB + initrd ${initrd.length / MIB} MiB, mode snp, 4 vCPUs; median of ${iterations}`,
);
console.log(`ours (computeMeasurement)           ${fmt(ms.ours)} ms  ${fmt(mibPerS(ms.ours))} MiB/s`);
console.log(`raw SHA-384 over the same bytes     ${fmt(ms.sha384)} ms  ${fmt(mibPerS(ms.sha384))} MiB/s`);
console.log(`raw SHA-384 fw + SHA-256 kernel/rd  ${fmt(ms.same)} ms  ${fmt(mibPerS(ms.same))} MiB/s`);
console.log(
  `CLI a02 wall time (median of ${cliRuns})     ${fmt(median(cli))} ms  (bare node start-up ${fmt(median(node))} ms)`,
);
console.log(
  `bench measure: ratio=${(ms.sha384 / ms.ours).toFixed(2)} throughput_mib_s=${fmt(mibPerS(ms.ours))} baseline_sha384_mib_s=${fmt(mibPerS(ms.sha384))} ratio_same_algorithms=${(ms.same / ms.ours).toFixed(2)} cli_ms=${fmt(median(cli))} node_startup_ms=${fmt(median(node))}`,
);
