/**
 * `npm run bench -- measure-cli [rounds=30]`: whole-process wall time of `attestctl measure snp` on
 * the a02 vector (4 MiB OVMF, kernel, initrd, command line, 4 vCPUs EPYC-v4; test/vectors/snp-measure),
 * interleaved round by round with `node -e ""` (Node's own start-up: the floor no Node CLI can
 * beat) and, when `SEV_SNP_MEASURE` names it (a command line, e.g. `python3 /path/sev-snp-measure.py`),
 * the reference tool on the same inputs. Each tool's digest is checked against the vector first.
 *
 * Last line: `bench measure-cli: ratio=R baseline=reference|node-floor cli_ms=.. node_floor_ms=..
 * cli_over_floor_ms=.. [reference_ms=..]` with R = reference_ms / cli_ms when the reference ran,
 * else node_floor_ms / cli_ms (higher is better; >= 1 against the reference is the goal).
 * The CLI runs as users run it: `node bin/attestctl` (compiled bundles in dist/, which bench/run.cjs
 * rebuilt first if stale), medians over the rounds after one warm-up round.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "../..");
const VECTORS = join(ROOT, "test/vectors/snp-measure");
const rounds = Number(process.argv[2] ?? 30);

interface Vector {
  readonly id: string;
  readonly args: readonly string[];
  readonly expected: string | null;
}
const a02 = (JSON.parse(readFileSync(join(VECTORS, "vectors.json"), "utf8")) as { vectors: Vector[] }).vectors.find(
  (v) => v.id.startsWith("a02-"),
);
if (a02 === undefined || a02.expected === null) throw new Error("vector a02 not found in vectors.json");

interface Contender {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Expected stdout (the digest), or undefined for the floor. */
  readonly expect?: string;
}

const contenders: Contender[] = [
  {
    name: "cli",
    command: process.execPath,
    args: [join(ROOT, "bin/attestctl"), "measure", "snp", ...a02.args],
    expect: a02.expected,
  },
  { name: "node_floor", command: process.execPath, args: ["-e", ""] },
];
const reference = process.env.SEV_SNP_MEASURE?.trim();
if (reference) {
  const [command, ...prefix] = reference.split(/\s+/);
  contenders.push({
    name: "reference",
    command: command as string,
    args: [...prefix, ...a02.args],
    expect: a02.expected,
  });
}

function run(c: Contender): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(c.command, c.args, { cwd: VECTORS, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 || (c.expect !== undefined && r.stdout.trim() !== c.expect))
    throw new Error(`${c.name} failed (exit ${r.status}): ${r.error?.message ?? ""}${r.stderr}${r.stdout}`);
  return ms;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
for (const c of contenders) run(c); // warm-up: file cache, compile cache, Python bytecode
for (let i = 0; i < rounds; i++) for (const c of contenders) times.get(c.name)?.push(run(c));

const ms = (name: string) => median(times.get(name) ?? []);
const fmt = (x: number) => x.toFixed(1);
for (const c of contenders) {
  const xs = [...(times.get(c.name) ?? [])].sort((a, b) => a - b);
  console.log(
    `${c.name.padEnd(10)} median ${fmt(ms(c.name))} ms  min ${fmt(xs[0] ?? Number.NaN)}  max ${fmt(xs[xs.length - 1] ?? Number.NaN)}  (${rounds} rounds)`,
  );
}
const cli = ms("cli");
const floor = ms("node_floor");
const ref = reference ? ms("reference") : undefined;
const ratio = (ref ?? floor) / cli;
console.log(
  `bench measure-cli: ratio=${ratio.toFixed(2)} baseline=${ref === undefined ? "node-floor" : "reference"} cli_ms=${fmt(cli)} node_floor_ms=${fmt(floor)} cli_over_floor_ms=${fmt(cli - floor)}${ref === undefined ? "" : ` reference_ms=${fmt(ref)}`}`,
);
