import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { measureHelp } from "../../bin/commands/measure.js";
import { ROOT, runCli, spawnCli } from "../helpers/cli.js";
import { A02, measure, OVMF, S } from "../helpers/measure-cli.js";
import { VECTORS, VECTOR_DIR } from "../measurements/snp/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "measure-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("attestctl measure snp: the 13 sev-snp-measure vectors in-process", () => {
  it.each(VECTORS.map((v) => [v.id, v] as const))("%s", async (_id, v) => {
    const r = await measure(v.args);
    if (v.expected === null) {
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: v.expected_exit_code, stdout: "" });
      expect(r.stderr).toBe(`${v.expected_stderr_contains}\n`);
    } else {
      expect(r).toEqual({ code: 0, stdout: `${v.expected}\n`, stderr: "" });
    }
  });
});

describe("attestctl measure snp: the real bin/attestctl process", () => {
  it.each(["a02", "a05", "a08", "a12", "a13"])("%s", (prefix) => {
    const v = VECTORS.find((x) => x.id.startsWith(prefix));
    const r = spawnCli(["measure", "snp", ...(v?.args ?? [])], VECTOR_DIR);
    if (v?.expected === null)
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 1,
        stdout: "",
        stderr: `${v.expected_stderr_contains}\n`,
      });
    else
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 0,
        stdout: `${v?.expected}\n`,
        stderr: "",
      });
  });

  it("loads only the CLI and the measure bundle (no Pulumi, jose, zod, fastify, pino or onnxruntime)", () => {
    // A preload records every module file the process loaded, once it exits.
    const out = join(work, "loaded.json");
    const probe = join(work, "probe.cjs");
    writeFileSync(
      probe,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));`,
    );
    const r = spawnSync(process.execPath, ["--require", probe, join(ROOT, "bin/attestctl"), "measure", "snp", ...A02], {
      cwd: VECTOR_DIR,
      encoding: "utf8",
    });
    expect({ code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 0,
      stdout: `${VECTORS[1]?.expected}\n`,
      stderr: "",
    });
    const loaded = (JSON.parse(readFileSync(out, "utf8")) as string[])
      .filter((p) => p !== probe)
      .map((p) => relative(ROOT, p))
      .sort();
    expect(loaded).toEqual(["bin/attestctl", "bin/dist.cjs", "dist/bin/cli.js", "dist/bin/commands/measure.js"]);
    // ...and the measure bundle inlines no package at all (dist/build-info.json lists what each bundle holds).
    const info = JSON.parse(readFileSync(join(ROOT, "dist/build-info.json"), "utf8")) as {
      bundles: Record<string, { packages: string[] }>;
    };
    expect(info.bundles["bin/commands/measure.js"]?.packages).toEqual([]);
  });
});

describe("attestctl measure snp: output", () => {
  it("-v prefixes the mode name like upstream", async () => {
    expect((await measure(["-v", ...A02])).stdout).toBe(
      `Calculated SEV_SNP guest measurement: ${VECTORS[1]?.expected}\n`,
    );
    expect(
      (
        await measure([
          "--verbose",
          "--mode",
          "sev-es",
          "--vcpus",
          "1",
          "--vcpu-type",
          "EPYC-v4",
          "--ovmf",
          S,
          "--kernel",
          "/dev/null",
          "--initrd",
          "/dev/null",
        ])
      ).stdout,
    ).toBe("Calculated SEV_ES guest measurement: 13810ae661ea11e2bb205621f582fee268f0367c8f97bc297b7fadef3e12002c\n");
    expect((await measure(["-v", "--mode", "SEV", "--ovmf", OVMF])).stdout).toBe(
      `Calculated SEV guest measurement: ${VECTORS[9]?.expected}\n`,
    );
  });

  it("--output-format base64 prints standard base64", async () => {
    const r = await measure(["--output-format", "base64", ...A02]);
    expect(r.stdout).toBe(`${Buffer.from(VECTORS[1]?.expected ?? "", "hex").toString("base64")}\n`);
  });

  it("snp:ovmf-hash always prints hex without prefix (as upstream) and ignores the other flags", async () => {
    const r = await measure([
      "--mode",
      "snp:ovmf-hash",
      "--ovmf",
      OVMF,
      "-v",
      "--output-format",
      "base64",
      "--initrd",
      "x",
    ]);
    expect(r).toEqual({ code: 0, stdout: `${VECTORS[4]?.expected}\n`, stderr: "" });
  });

  it("accepts --flag=value, unambiguous prefixes, and `attestctl measure` without `snp`", async () => {
    const r = await runCli(
      [
        "measure",
        "--mode=snp",
        "--vcpus=4",
        "--vcpu-ty",
        "EPYC-v4",
        "--ovm",
        OVMF,
        "--kern",
        "inputs/kernel-a.bin",
        "--initrd=inputs/initrd-a.img",
        "--append",
        "console=ttyS0 loglevel=7",
      ],
      VECTOR_DIR,
    );
    expect(r).toEqual({ code: 0, stdout: `${VECTORS[1]?.expected}\n`, stderr: "" });
  });

  it("family/model/stepping win over --vcpu-sig, which wins over --vcpu-type", async () => {
    const base = ["--mode", "snp", "--vcpus", "2", "--ovmf", OVMF];
    const milan = (await measure([...base, "--vcpu-type", "EPYC-Milan"])).stdout;
    expect((await measure([...base, "--vcpu-type", "EPYC-v4", "--vcpu-sig", "0xA00F11"])).stdout).toBe(milan);
    expect(
      (
        await measure([
          ...base,
          "--vcpu-type",
          "EPYC-v4",
          "--vcpu-sig",
          "0",
          "--vcpu-family",
          "25",
          "--vcpu-model",
          "1",
          "--vcpu-stepping",
          "1",
        ])
      ).stdout,
    ).toBe(milan);
    expect((await measure([...base, "--vcpu-sig", "10489617"])).stdout).toBe(milan);
    expect((await measure([...base, "--vcpu-sig", "0"])).stdout).not.toBe(milan);
  });

  it("--vars-file uses the file's size", async () => {
    const dir = mkdtempSync(join(tmpdir(), "measure-"));
    try {
      writeFileSync(join(dir, "vars.fd"), Buffer.alloc(540672));
      const v = VECTORS[11]?.args ?? [];
      const args = v.map((a) => (a === "inputs/OVMF.amdsev.fd" || a === "inputs/svsm.bin" ? join(VECTOR_DIR, a) : a));
      const i = args.indexOf("--vars-size");
      const r = await measure([...args.slice(0, i), "--vars-file", join(dir, "vars.fd")]);
      expect(r).toEqual({ code: 0, stdout: `${VECTORS[11]?.expected}\n`, stderr: "" });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  describe("--dump-vmsa", () => {
    const dir = mkdtempSync(join(tmpdir(), "measure-dump-"));
    afterAll(() => rmSync(dir, { recursive: true }));
    it("writes vmsa0..vmsa<N-1>.bin into the working directory", async () => {
      const r = await measure(
        ["--dump-vmsa", "--mode", "seves", "--vcpus", "4", "--vcpu-type", "EPYC-v4", "--ovmf", join(VECTOR_DIR, S)],
        dir,
      );
      expect(r.code).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(["vmsa0.bin", "vmsa1.bin", "vmsa2.bin", "vmsa3.bin"]);
      expect(readFileSync(join(dir, "vmsa1.bin")).readUInt32LE(0x178)).toBe(0xb004); // AP RIP
    });
  });

  it("--help prints the help on stdout, with every sev-snp-measure flag", async () => {
    const r = await runCli(["measure", "--help"]);
    expect(r).toEqual({ code: 0, stdout: measureHelp(), stderr: "" });
    for (const flag of [
      "--mode",
      "--vcpus",
      "--vcpu-type",
      "--vcpu-sig",
      "--vcpu-family",
      "--vcpu-model",
      "--vcpu-stepping",
      "--ovmf",
      "--kernel",
      "--initrd",
      "--append",
      "--guest-features",
      "--vmm-type",
      "--snp-ovmf-hash",
      "--svsm",
      "--vars-size",
      "--vars-file",
      "--output-format",
      "--dump-vmsa",
    ]) {
      expect(r.stdout).toContain(` ${flag} `);
    }
  });
});
