/**
 * Installable from a tarball: `npm pack` ships the compiled library, its declarations, the CLI and
 * the shell scripts the components read, and nothing of the sources. Unpacked into a consumer's
 * node_modules (its dependencies linked from ours), the package resolves by name through its
 * `exports` map, its components load, and its CLI measures without rebuilding anything.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "ci-package-"));
const installed = join(work, "node_modules", "confidential-inference");
let files: string[];

beforeAll(() => {
  // --ignore-scripts: dist/ is current already (vitest's global setup); prepare would rebuild it.
  const pack = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = (info?.files ?? []).map((f) => f.path).sort();
  mkdirSync(installed, { recursive: true });
  const tar = spawnSync("tar", ["-xzf", join(work, info?.filename ?? ""), "-C", installed, "--strip-components=1"]);
  if (tar.status !== 0) throw new Error(`tar failed: ${String(tar.stderr)}`);
  for (const dep of readdirSync(join(ROOT, "node_modules")))
    if (dep !== ".bin" && dep !== "confidential-inference")
      symlinkSync(join(ROOT, "node_modules", dep), join(work, "node_modules", dep));
  writeFileSync(join(work, "package.json"), JSON.stringify({ name: "consumer", private: true }));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm pack", () => {
  it("ships dist (without the guest directory's native copies), the CLI and the component scripts; no sources", () => {
    const top = [
      ...new Set(
        files.map((f) =>
          f
            .split("/")
            .slice(0, f.startsWith("dist/") ? 2 : 1)
            .join("/"),
        ),
      ),
    ];
    expect(top).toEqual([
      "README.md",
      "bin",
      "components",
      "dist/bin",
      "dist/build-info.json",
      "dist/guardrails",
      "dist/lib",
      "dist/runtime",
      "dist/stacks",
      "dist/types",
      "docs",
      "guardrails",
      "package.json",
    ]);
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => /\.(node|so\.1)$/.test(f) || f.endsWith(".tsbuildinfo"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("components/")).sort()).toEqual([
      "components/host/scripts/fetch-vcek.sh",
      "components/host/scripts/preflight.sh",
      "components/host/scripts/qemu-check.sh",
      "components/host/scripts/stage-artifact.sh",
    ]);
  });

  it("resolves by package name through the exports map, with declarations for every entry", () => {
    const script = `
      const c = require("confidential-inference");
      const snp = require("confidential-inference/measurements/snp");
      const manifest = require("confidential-inference/measurements/manifest");
      const verifier = require("confidential-inference/verifier");
      const client = require("confidential-inference/client");
      console.log(JSON.stringify({
        main: require.resolve("confidential-inference").slice(${JSON.stringify(installed.length + 1)}),
        components: ["SevSnpHost", "ConfidentialVm", "KeyService", "Segmentation", "InferenceService", "GoldenMeasurements"].map((k) => typeof c[k]),
        entries: [typeof snp.computeMeasurement, typeof manifest.snpLaunchDigest, typeof verifier.appraiseSnpEvidence, typeof client.ConfidentialClient, typeof client.verifyBundle],
      }));`;
    const r = spawnSync(process.execPath, ["-e", script], { cwd: work, encoding: "utf8" });
    expect({ stderr: r.stderr, out: JSON.parse(r.stdout || "{}") as unknown }).toEqual({
      stderr: "",
      out: {
        main: "dist/lib/components.js",
        components: ["function", "function", "function", "function", "function", "function"],
        entries: ["function", "function", "function", "function", "function"],
      },
    });
    for (const d of [
      "dist/types/components/index.d.ts",
      "dist/types/measurements/snp/index.d.ts",
      "dist/types/measurements/manifest/index.d.ts",
      "dist/types/runtime/attestation/index.d.ts",
      "dist/types/runtime/client/index.d.ts",
    ])
      expect(files).toContain(d);
  });

  it("its CLI measures from the packed bundles (no sources, so no rebuild)", () => {
    const r = spawnSync(
      process.execPath,
      [
        join(installed, "bin/attestctl"),
        "measure",
        "snp",
        "--mode",
        "snp",
        "--vcpus",
        "4",
        "--vcpu-type",
        "EPYC-Genoa",
        "--ovmf",
        join(ROOT, "guest/firmware/OVMF.amdsev.fd"),
      ],
      { cwd: work, encoding: "utf8" },
    );
    expect({ code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 0,
      stdout: "d505c9acd20a52ed0afd3e763d3b7b1bdd695d54d588a3e9d7957b803b457602332d5911781485b552cbbed90a20f235\n",
      stderr: "",
    });
  });
});
