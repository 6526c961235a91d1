/**
 * Fixtures of the `attestctl golden` tests: a temporary working folder holding two manifests
 * (before.json, the dev release; after.json, a patch release with a raised Milan floor), the command
 * run in-process there, and a stand-in launch-digest calculator.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { createGoldenCommand } from "../../bin/commands/golden.js";
import type { GoldenDeps } from "../../bin/commands/golden-args.js";
import type { LaunchDigestCalculator } from "../../measurements/manifest/build.js";
import { formatManifest } from "../../measurements/manifest/index.js";
import { devManifest, withEdit } from "./golden.js";

/** The firmware file (fw.bin) of the dedicated golden config. */
export const GOLDEN_FIRMWARE = Buffer.from("firmware bytes");

/** A golden config (golden.yaml) pinning fw.bin (by default with its real digest and size) and a kernel, one launch shape. */
export const goldenConfig = (
  sha = createHash("sha256").update(GOLDEN_FIRMWARE).digest("hex"),
  size = GOLDEN_FIRMWARE.length,
) => `release: 2026.11.0
environment: staging
artifacts:
  fw: { kind: firmware, sha256: "${sha}", size: ${size}, source: test, path: fw.bin }
  k: { kind: kernel, sha256: "${"1".repeat(64)}", size: 10, source: test }
launchShapes:
  - { name: small, firmware: fw, kernel: k, cmdline: "console=ttyS0", vcpus: 2, vcpuType: EPYC-v4 }
tcbFloors:
  Genoa: { bootloader: 10, tee: 0, snp: 23, microcode: 84 }
chipAllowlist: ["${"b".repeat(128)}", "${"a".repeat(128)}"]
`;

/**
 * Creates the working folder (removed after the file's tests) with before.json, after.json, fw.bin
 * and golden.yaml. `file` writes a file there and returns its name; `golden` runs the command there, capturing output.
 */
export function goldenWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), "golden-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Uint8Array) => {
    writeFileSync(join(dir, name), content);
    return name;
  };

  async function golden(argv: string[], deps: GoldenDeps = {}, env: Record<string, string> = {}) {
    let stdout = "";
    let stderr = "";
    const code = await createGoldenCommand(deps).run(argv, {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      env,
      cwd: dir,
    });
    return { code, stdout, stderr };
  }

  const before = devManifest();
  const after = withEdit((m) => {
    m.release = "2026.11.1-dev";
    m.tcbFloors.Milan.snp = 25;
  });
  file("before.json", formatManifest(before));
  file("after.json", formatManifest(after));
  file("fw.bin", GOLDEN_FIRMWARE);
  file("golden.yaml", goldenConfig());
  return { dir, file, golden, before, after };
}

/** A stand-in calculator: SHA-384 over the request's digest inputs (the real one is tested against the vectors). */
export const fakeCalculator: LaunchDigestCalculator = ({ shape, firmware, kernelSha256, initrdSha256 }) => ({
  measurement: createHash("sha384")
    .update(
      JSON.stringify({
        ...shape,
        guestFeatures: String(shape.guestFeatures),
        policy: String(shape.policy),
        kernelSha256,
        initrdSha256,
      }),
    )
    .update(firmware)
    .digest("hex"),
  vcpuSig: 0x800f12,
});
