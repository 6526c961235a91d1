/** `attestctl golden compute` / `check` on a dedicated config, with a stand-in calculator. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { GoldenDeps } from "../../bin/commands/golden-args.js";
import { parseManifest } from "../../measurements/manifest/index.js";
import { fakeCalculator, GOLDEN_FIRMWARE, goldenConfig, goldenWorkspace } from "../helpers/golden-cli.js";

const { dir, file, golden } = goldenWorkspace();

describe("golden compute / check (dedicated config, stand-in calculator)", () => {
  const deps: GoldenDeps = { calculator: () => fakeCalculator, now: () => new Date("2030-01-01T00:00:00.789Z") };

  it("computes a manifest with an injected created-at", async () => {
    const r = await golden(
      ["compute", "--config", "golden.yaml", "--created-at", "2026-11-02T10:00:00Z", "--status", "active"],
      deps,
    );
    expect(r.code).toBe(0);
    const m = parseManifest(r.stdout);
    expect(m).toMatchObject({
      release: "2026.11.0",
      environment: "staging",
      createdAt: "2026-11-02T10:00:00Z",
      status: "active",
      allowedPolicyBits: "0x30000",
      chipAllowlist: ["a".repeat(128), "b".repeat(128)],
    });
    expect(m.launchShapes.small?.inputs).toEqual({
      mode: "snp",
      firmware: "fw",
      kernel: "k",
      cmdline: "console=ttyS0",
      vcpus: 2,
      vcpuType: "EPYC-v4",
      vcpuSig: "0x800f12",
      guestFeatures: "0x1",
      vmmType: "QEMU",
      policy: "0x30000",
    });
    expect(r.stderr).toBe(`computed: release 2026.11.0 (staging, active) small=${m.launchShapes.small?.measurement}\n`);
  });

  it.each<[string, string[], Record<string, string>, string]>([
    ["SOURCE_DATE_EPOCH", [], { SOURCE_DATE_EPOCH: "1793527200" }, "2026-11-01T10:00:00Z"],
    ["the clock, truncated to seconds", [], {}, "2030-01-01T00:00:00Z"],
    [
      "--created-at over SOURCE_DATE_EPOCH",
      ["--created-at", "2026-11-02T10:00:00.5Z"],
      { SOURCE_DATE_EPOCH: "1" },
      "2026-11-02T10:00:00Z",
    ],
  ])("takes createdAt from %s; status defaults to pending", async (_name, extra, env, expected) => {
    const r = await golden(["compute", "--config", "golden.yaml", ...extra], deps, env);
    expect(r.code).toBe(0);
    expect(parseManifest(r.stdout)).toMatchObject({ createdAt: expected, status: "pending" });
  });

  it("check passes on a current manifest and fails with a diff when the config moves", async () => {
    await golden(
      [
        "compute",
        "--config",
        "golden.yaml",
        "--created-at",
        "2026-11-02T10:00:00Z",
        "--status",
        "active",
        "--out",
        "golden.json",
      ],
      deps,
    );
    expect(await golden(["check", "--config", "golden.yaml", "--manifest", "golden.json"], deps)).toEqual({
      code: 0,
      stdout: "",
      stderr: "current: golden.json matches golden.yaml (1 launch shape)\n",
    });
    file("moved.yaml", goldenConfig().replace("console=ttyS0", "console=ttyS1"));
    const r = await golden(["check", "--config", "moved.yaml", "--manifest", "golden.json"], deps);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "stale: golden.json does not match moved.yaml; regenerate with:\n  attestctl golden compute --config moved.yaml --created-at 2026-11-02T10:00:00Z --status active --out golden.json\n",
    );
    expect(r.stdout).toContain("| `small` | ");
    expect(r.stdout).toContain("| cmdline |");
  });

  it("check fails when only the formatting differs", async () => {
    file("golden-min.json", JSON.stringify(parseManifest(readFileSync(join(dir, "golden.json")))));
    const r = await golden(["check", "--config", "golden.yaml", "--manifest", "golden-min.json"], deps);
    expect(r).toMatchObject({ code: 1, stdout: "Only the formatting differs from the generated form.\n" });
  });

  it.each([
    [
      "a wrong digest",
      goldenConfig("0".repeat(64)),
      `attestctl golden compute: ARTIFACT_MISMATCH: artifact bytes do not match their pins (1 problem):\nartifacts.fw.sha256: pinned ${"0".repeat(64)}, the file has ${createHash("sha256").update(GOLDEN_FIRMWARE).digest("hex")}\n`,
    ],
    [
      "a wrong size",
      goldenConfig(undefined, 99),
      `attestctl golden compute: ARTIFACT_MISMATCH: artifact bytes do not match their pins (1 problem):\nartifacts.fw.size: pinned 99 bytes, the file has 14\n`,
    ],
    [
      "an unknown key",
      `${goldenConfig()}colour: blue\n`,
      "attestctl golden compute: GOLDEN_CONFIG_INVALID: invalid golden config (1 problem):\ncolour: unknown key\n",
    ],
    [
      "a firmware without a path",
      goldenConfig().replace(", path: fw.bin", ""),
      'attestctl golden compute: GOLDEN_CONFIG_INVALID: cannot compute the golden manifest:\nlaunchShapes.small.firmware: artifact "fw" needs a path: the launch digest hashes every firmware page\n',
    ],
    [
      "a missing artifact file",
      goldenConfig().replace("path: fw.bin", "path: nowhere.bin"),
      "attestctl golden compute: cannot read " + join(dir, "nowhere.bin") + ": ENOENT\n",
    ],
  ])("compute fails with exit 1 on %s", async (_name, text, stderr) => {
    file("bad.yaml", text);
    expect(await golden(["compute", "--config", "bad.yaml"], deps)).toEqual({ code: 1, stdout: "", stderr });
  });

  it("reports a calculator refusal as MEASUREMENT_FAILED", async () => {
    const r = await golden(["compute", "--config", "golden.yaml"], {
      calculator: () => () => {
        throw new Error("unknown vCPU type EPYC-v9");
      },
    });
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "attestctl golden compute: MEASUREMENT_FAILED: computing the measurement of launch shape small: unknown vCPU type EPYC-v9\n",
    });
  });

  it("exits 2 when no calculator is available", async () => {
    const r = await golden(["compute", "--config", "golden.yaml"], {});
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      "attestctl golden compute: the SNP launch-digest calculator (measurements/snp) is not available in this build",
    );
  });
});
