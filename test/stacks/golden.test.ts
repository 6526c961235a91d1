import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { command } from "../../bin/commands/golden.js";
import { goldenSourceFromStackConfig } from "../../stacks/golden-inputs.js";
import { parseManifest } from "../../measurements/manifest/validate.js";
import { computeMeasurement } from "../../measurements/snp/index.js";
import { parseStackConfig } from "../../stacks/config-parse.js";
import { readStackFile } from "../../stacks/stack-file.js";
import { ROOT, spawnCli } from "../helpers/cli.js";

async function golden(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await command.run(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: {},
    cwd: ROOT,
  });
  return { code, stdout, stderr };
}

const A02 = (
  JSON.parse(readFileSync(join(ROOT, "test/vectors/snp-measure/vectors.json"), "utf8")) as {
    vectors: { id: string; expected: string }[];
  }
).vectors.find((v) => v.id.startsWith("a02"))?.expected;

describe("the committed golden manifest of the dev stack", () => {
  it("is current: `golden check` passes (regenerate with the command in its failure message)", async () => {
    expect(
      await golden(["check", "--config", "stacks/Pulumi.dev.yaml", "--manifest", "stacks/golden/dev.json"]),
    ).toEqual({
      code: 0,
      stdout: "",
      stderr: "current: stacks/golden/dev.json matches stacks/Pulumi.dev.yaml (1 launch shape)\n",
    });
  });

  it("is the active release of the dev stack, created at golden.releasedAt", () => {
    const m = parseManifest(readFileSync(join(ROOT, "stacks/golden/dev.json")));
    expect(m).toMatchObject({
      release: "2026.11.0-dev",
      environment: "dev",
      status: "active",
      createdAt: "2026-11-02T00:00:00Z",
    });
  });
});

describe("golden compute on the dev stack file", () => {
  it("yields the measurement `attestctl measure snp` gives for the same inputs (vector a02)", async () => {
    const computed = await golden(["compute", "--config", "stacks/Pulumi.dev.yaml"]);
    expect(computed.code).toBe(0);
    const shape = parseManifest(computed.stdout).launchShapes["runtime-small"];
    expect(shape?.inputs).toEqual({
      mode: "snp",
      firmware: "ovmf-amdsev",
      kernel: "kernel-dev",
      initrd: "initrd-dev",
      cmdline: "console=ttyS0 loglevel=7",
      vcpus: 4,
      vcpuType: "EPYC-v4",
      vcpuSig: "0x800f12",
      guestFeatures: "0x1",
      vmmType: "QEMU",
      policy: "0x30000",
    });
    const vectors = join(ROOT, "test/vectors/snp-measure/inputs");
    const measured = spawnCli([
      "measure",
      "snp",
      "--mode",
      "snp",
      "--vcpus",
      "4",
      "--vcpu-type",
      "EPYC-v4",
      "--ovmf",
      join(ROOT, "guest/firmware/OVMF.amdsev.fd"),
      "--kernel",
      join(vectors, "kernel-a.bin"),
      "--initrd",
      join(vectors, "initrd-a.img"),
      "--append",
      "console=ttyS0 loglevel=7",
    ]);
    expect(measured).toMatchObject({ code: 0, stderr: "" });
    expect(shape?.measurement).toBe(measured.stdout.trim());
    expect(shape?.measurement).toBe(A02);
  });

  it("maps the stack config to golden inputs exactly", () => {
    const { raw, secretKeys } = readStackFile(join(ROOT, "stacks/Pulumi.dev.yaml"));
    const source = goldenSourceFromStackConfig(parseStackConfig(raw, secretKeys).config);
    expect(source.paths).toEqual({ "ovmf-amdsev": "guest/firmware/OVMF.amdsev.fd" });
    expect(source.createdAt).toEqual(new Date("2026-11-02T00:00:00Z"));
    expect(source.inputs.launchShapes).toEqual([
      {
        name: "runtime-small",
        mode: "snp",
        firmware: "ovmf-amdsev",
        kernel: "kernel-dev",
        initrd: "initrd-dev",
        cmdline: "console=ttyS0 loglevel=7",
        vcpus: 4,
        vcpuType: "EPYC-v4",
        guestFeatures: 1n,
        vmmType: "QEMU",
        policy: 0x30000n,
      },
    ]);
    expect(source.inputs.tcbFloors).toEqual({});
  });

  it("carries a launch shape's HOST_DATA binding into the golden manifest, and refuses a malformed one naming the key", async () => {
    const { raw, secretKeys } = readStackFile(join(ROOT, "stacks/Pulumi.dev.yaml"));
    const shapes = (JSON.parse(raw["confidential-inference:launchShapes"]!) as Array<Record<string, unknown>>).map(
      (s) => ({ ...s, hostData: "ab".repeat(32) }),
    );
    const bound = { ...raw, "confidential-inference:launchShapes": JSON.stringify(shapes) };
    const source = goldenSourceFromStackConfig(parseStackConfig(bound, secretKeys).config);
    expect(source.inputs.launchShapes[0]?.hostData).toBe("ab".repeat(32));
    const bad = {
      ...raw,
      "confidential-inference:launchShapes": JSON.stringify(shapes.map((s) => ({ ...s, hostData: "xyz" }))),
    };
    expect(() => parseStackConfig(bad, secretKeys)).toThrow("launchShapes[0].hostData");
  });
});

describe("golden compute on the staging and prod stack files", () => {
  it.each(["staging", "prod"])(
    "%s: every shape's measurement equals measurements/snp on the same pins",
    async (env) => {
      const computed = await golden(["compute", "--config", `stacks/Pulumi.${env}.yaml`]);
      expect(computed.code).toBe(0);
      const manifest = parseManifest(computed.stdout);
      const ovmf = readFileSync(join(ROOT, "guest/firmware/OVMF.amdsev.fd"));
      expect(Object.keys(manifest.launchShapes).length).toBeGreaterThan(0);
      for (const shape of Object.values(manifest.launchShapes)) {
        const i = shape.inputs;
        const pinOf = (name: string | undefined) =>
          name === undefined ? undefined : { sha256: manifest.artifacts[name]?.sha256 as string };
        const { digest } = computeMeasurement({
          mode: i.mode,
          ovmf,
          vcpus: i.vcpus,
          vcpuType: i.vcpuType,
          vmmType: i.vmmType,
          guestFeatures: BigInt(i.guestFeatures),
          ...(i.kernel === undefined ? {} : { kernel: pinOf(i.kernel) }),
          ...(i.initrd === undefined ? {} : { initrd: pinOf(i.initrd) }),
          ...(i.cmdline === undefined ? {} : { cmdline: i.cmdline }),
        });
        expect(shape.measurement).toBe(digest.toString("hex"));
      }
      expect(manifest).toMatchObject({ environment: env, status: "pending" });
    },
  );
});
