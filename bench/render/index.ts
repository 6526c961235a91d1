/**
 * bench/render: how `attestctl render` (the program under Pulumi's mocks) scales with the fleet.
 * A prod-like stack (stacks/Pulumi.prod.yaml) with 10, 50 and 200 hosts of 4 guests each is
 * rendered in a fresh process per run. The cost is the render's CPU time (user + system, median of
 * RUNS): the machine is shared, and wall time swings with other load while CPU time does not.
 * Cost must grow linearly in the number of hosts, so the ratio compares the marginal cost per host
 * at both ends:
 *
 *   ratio = (cpu50 - cpu10) / 40  /  ((cpu200 - cpu50) / 150)
 *
 * 1.0 is exactly linear; below 1 the per-host cost grows with the fleet (superlinear), above 1 it
 * shrinks (sublinear). Higher is better. Run: npm run bench -- render [RUNS]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";

const ROOT = join(__dirname, "../..");
const SIZES = [10, 50, 200] as const;
const RUNS = Number(process.argv[2] ?? 3);

/** A prod config with `hosts` hosts (alternating Genoa and Turin), 4 guests each. */
function fleetConfig(hosts: number): string {
  const doc = parse(readFileSync(join(ROOT, "stacks/Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDinp1SqIcbbGZlejWw4z/xPBwqfhOas34oUI+eEzBrG";
  doc.config["confidential-inference:hosts"] = Array.from({ length: hosts }, (_, i) => {
    const turin = i % 2 === 1;
    return {
      name: `snp-${turin ? "turin" : "genoa"}-${String(i).padStart(3, "0")}`,
      address: `10.40.${Math.floor(i / 200)}.${(i % 200) + 10}`,
      product: turin ? "Turin" : "Genoa",
      ssh: { user: "ci-deploy", hostKey: key },
      guests: ["a", "b", "c", "d"].map((g) => ({
        name: `runtime-${g}`,
        launchShape: turin ? "runtime-prod-turin" : "runtime-prod",
      })),
    };
  });
  return stringify(doc);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), "bench-render-"));
  try {
    type Run = { ms: number; cpuMs: number; resources: number; bytes: number };
    const results = new Map<number, { cpu: number; wall: number; resources: number; bytes: number }>();
    for (const hosts of SIZES) {
      const file = join(dir, `Pulumi.fleet-${hosts}.yaml`);
      writeFileSync(file, fleetConfig(hosts));
      const runs: Run[] = [];
      for (let i = 0; i < RUNS; i++) {
        const out = execFileSync(process.execPath, ["--require", "tsx/cjs", join(__dirname, "child.ts"), file], {
          cwd: ROOT,
          encoding: "utf8",
          maxBuffer: 64 * 1024 * 1024,
        });
        runs.push(JSON.parse(out) as Run);
      }
      const cpu = median(runs.map((r) => r.cpuMs));
      const wall = median(runs.map((r) => r.ms));
      const first = runs[0] ?? { resources: 0, bytes: 0 };
      results.set(hosts, { cpu, wall, resources: first.resources, bytes: first.bytes });
      process.stdout.write(
        `hosts=${hosts} guests=${hosts * 4} resources=${first.resources} cpu_ms=${cpu.toFixed(0)} (runs: ${runs.map((r) => r.cpuMs.toFixed(0)).join(", ")}) wall_ms=${wall.toFixed(0)} cpu_ms_per_host=${(cpu / hosts).toFixed(1)} json_bytes=${first.bytes}\n`,
      );
    }
    const t = (n: number) => results.get(n)?.cpu ?? Number.NaN;
    const low = (t(50) - t(10)) / 40;
    const high = (t(200) - t(50)) / 150;
    const ratio = low / high;
    process.stdout.write(
      `bench render: ratio=${ratio.toFixed(2)} marginal_cpu_ms_per_host_10_50=${low.toFixed(1)} marginal_cpu_ms_per_host_50_200=${high.toFixed(1)} cpu_ms_10=${t(10).toFixed(0)} cpu_ms_50=${t(50).toFixed(0)} cpu_ms_200=${t(200).toFixed(0)} wall_ms_200=${(results.get(200)?.wall ?? Number.NaN).toFixed(0)} resources_200=${results.get(200)?.resources ?? 0}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
