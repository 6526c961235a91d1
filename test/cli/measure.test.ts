import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parsePythonInt } from "../../bin/commands/measure-args.js";
import { measureHelp } from "../../bin/commands/measure.js";
import { ROOT, runCli, spawnCli } from "../helpers/cli.js";
import { VECTORS, VECTOR_DIR } from "../measurements/snp/fixtures.js";

const measure = (args: readonly string[], cwd = VECTOR_DIR) => runCli(["measure", "snp", ...args], cwd);
const A02 = VECTORS[1]?.args ?? [];
const OVMF = "inputs/OVMF.amdsev.fd";
const S = "inputs/ovmf_AmdSev_suffix.bin";
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

describe("attestctl measure snp: errors", () => {
  it.each([
    ["no arguments", [], "the following arguments are required: --mode, --ovmf"],
    ["missing --ovmf", ["--mode", "sev"], "the following arguments are required: --ovmf"],
    [
      "a bad value is reported before a missing argument",
      ["--mode", "tdx"],
      "argument --mode: invalid choice: 'tdx' (choose from 'snp', 'snp:ovmf-hash', 'snp:svsm', 'seves', 'sev')",
    ],
    ["bad int before missing argument", ["--vcpus", "four"], "argument --vcpus: invalid int value: 'four'"],
    [
      "unknown mode",
      ["--mode", "tdx", "--ovmf", OVMF],
      "argument --mode: invalid choice: 'tdx' (choose from 'snp', 'snp:ovmf-hash', 'snp:svsm', 'seves', 'sev')",
    ],
    ["unknown flag", ["--mode", "sev", "--ovmf", OVMF, "--memory", "4G"], "unrecognized arguments: --memory"],
    ["stray word", ["--mode", "sev", "--ovmf", OVMF, "extra"], "unrecognized arguments: extra"],
    ["unknown target", ["tdx", "--mode", "sev"], "unknown measurement target 'tdx' (expected: snp)"],
    [
      "ambiguous prefix",
      ["--vcpu", "4"],
      "ambiguous option: --vcpu could match --vcpus, --vcpu-type, --vcpu-sig, --vcpu-family, --vcpu-model, --vcpu-stepping",
    ],
    ["flag without value", ["--mode"], "argument --mode: expected one argument"],
    [
      "initrd without kernel",
      ["--mode", "snp", "--ovmf", OVMF, "--initrd", "inputs/initrd-a.img"],
      "--kernel required when using --initrd",
    ],
    [
      "append without kernel",
      ["--mode", "sev", "--ovmf", OVMF, "--append", "quiet"],
      "--kernel required when using --append",
    ],
    ["missing --vcpus", ["--mode", "seves", "--ovmf", OVMF], "missing --vcpus N in guest mode 'seves'"],
    [
      "unknown vmm type",
      ["--mode", "snp", "--vcpus", "1", "--ovmf", OVMF, "--vmm-type", "qemu"],
      "unknown VMM type 'qemu'",
    ],
    [
      "no vCPU signature for QEMU",
      ["--mode", "snp", "--vcpus", "1", "--ovmf", OVMF],
      "missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode 'snp'",
    ],
    [
      "bad vCPU type",
      ["--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-Zen9", "--ovmf", OVMF],
      "argument --vcpu-type: invalid choice: 'EPYC-Zen9' (choose from 'EPYC', 'EPYC-v1', 'EPYC-v2', 'EPYC-v3', 'EPYC-v4', 'EPYC-IBPB', 'EPYC-Rome', 'EPYC-Rome-v1', 'EPYC-Rome-v2', 'EPYC-Rome-v3', 'EPYC-Rome-v4', 'EPYC-Milan', 'EPYC-Milan-v1', 'EPYC-Milan-v2', 'EPYC-Genoa', 'EPYC-Genoa-v1', 'EPYC-Turin')",
    ],
    [
      "bad output format",
      ["--mode", "sev", "--ovmf", OVMF, "--output-format", "HEX"],
      "argument --output-format: invalid choice: 'HEX' (choose from 'hex', 'base64')",
    ],
    [
      "vcpus not an integer",
      ["--mode", "snp", "--vcpus", "0x4", "--ovmf", OVMF],
      "argument --vcpus: invalid int value: '0x4'",
    ],
    [
      "vcpu-sig with a leading zero",
      ["--mode", "snp", "--vcpus", "1", "--vcpu-sig", "0123", "--ovmf", OVMF],
      "argument --vcpu-sig: invalid auto_base_int value: '0123'",
    ],
    [
      "zero vCPUs",
      ["--mode", "snp", "--vcpus", "0", "--vcpu-type", "EPYC", "--ovmf", OVMF],
      "vcpus must be an integer from 1 to 65536, got 0",
    ],
    [
      "family without model",
      ["--mode", "snp", "--vcpus", "1", "--vcpu-family", "25", "--ovmf", OVMF],
      "--vcpu-family needs --vcpu-model and --vcpu-stepping",
    ],
    [
      "vars size and file",
      ["--vars-size", "4096", "--vars-file", "x"],
      "argument --vars-file: not allowed with argument --vars-size",
    ],
    [
      "svsm without vars size",
      ["--mode", "snp:svsm", "--vcpus", "1", "--vcpu-type", "EPYC", "--ovmf", OVMF, "--svsm", "inputs/svsm.bin"],
      "snp:svsm mode requires --vars-size or --vars-file",
    ],
    [
      "svsm with vars size 0",
      [
        "--mode",
        "snp:svsm",
        "--vcpus",
        "1",
        "--vcpu-type",
        "EPYC",
        "--ovmf",
        OVMF,
        "--svsm",
        "inputs/svsm.bin",
        "--vars-size",
        "0",
      ],
      "snp:svsm mode requires --vars-size or --vars-file",
    ],
    [
      "svsm without --svsm",
      ["--mode", "snp:svsm", "--vcpus", "1", "--vcpu-type", "EPYC", "--ovmf", OVMF, "--vars-size", "4096"],
      "snp:svsm mode requires --svsm",
    ],
    [
      "dump-vmsa in sev mode",
      ["--mode", "sev", "--ovmf", OVMF, "--dump-vmsa"],
      "--dump-vmsa is not available in the selected mode",
    ],
  ])("usage error, exit 2: %s", async (_name, args, message) => {
    const r = await measure(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n").slice(1)).toEqual([`attestctl measure snp: error: ${message}`, ""]);
    expect(r.stderr.startsWith("usage: attestctl measure snp [-h] [-v] [--version] --mode MODE ")).toBe(true);
  });

  it.each([
    ["missing file", ["--mode", "sev", "--ovmf", "inputs/nope.fd"], "Error: cannot read --ovmf inputs/nope.fd: ENOENT"],
    [
      "seed outside snp",
      ["--mode", "seves", "--vcpus", "1", "--vcpu-type", "EPYC", "--ovmf", OVMF, "--snp-ovmf-hash", "00".repeat(48)],
      "Error: a precomputed OVMF hash only applies to mode snp, not seves",
    ],
    [
      "bad seed",
      ["--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC", "--ovmf", OVMF, "--snp-ovmf-hash", "abcd"],
      "Error: ovmfHash must be a 48-byte SHA-384 digest (96 hex digits)",
    ],
    [
      "firmware size",
      ["--mode", "sev", "--ovmf", "inputs/kernel-a.bin"],
      "Error: ovmf size 524309 is not a non-zero multiple of 4096 bytes",
    ],
    [
      "svsm with ec2",
      [
        "--mode",
        "snp:svsm",
        "--vmm-type",
        "ec2",
        "--vcpus",
        "1",
        "--ovmf",
        OVMF,
        "--svsm",
        "inputs/svsm.bin",
        "--vars-size",
        "4096",
      ],
      "Error: mode snp:svsm is modelled for QEMU only, not ec2",
    ],
  ])("measurement error, exit 1: %s", async (_name, args, stderr) => {
    expect(await measure(args)).toEqual({ code: 1, stdout: "", stderr: `${stderr}\n` });
  });
});

describe("parsePythonInt (Python int() and int(x, 0) syntax)", () => {
  it.each([
    ["42", false, 42n],
    [" 42 ", false, 42n],
    ["-7", false, -7n],
    ["+7", false, 7n],
    ["1_000", false, 1000n],
    ["010", false, 10n],
    ["0x1f", true, 31n],
    ["0X_1F", true, 31n],
    ["0o17", true, 15n],
    ["0b101", true, 5n],
    ["0", true, 0n],
    ["00", true, 0n],
    ["12", true, 12n],
    ["-0x10", true, -16n],
  ] as const)("%j (auto %s) = %s", (text, auto, value) => {
    expect(parsePythonInt(text, auto)).toBe(value);
  });

  it.each([
    ["0x1f", false],
    ["010", true],
    ["1__0", false],
    ["_1", false],
    ["1_", false],
    ["", false],
    ["0x", true],
    ["0b2", true],
    ["1.5", false],
  ] as const)("%j (auto %s) is invalid", (text, auto) => {
    expect(parsePythonInt(text, auto)).toBeUndefined();
  });
});
