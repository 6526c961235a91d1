/** `attestctl measure snp` refusals (usage errors exit 2, measurement errors exit 1) and its Python-int parser. */
import { describe, expect, it } from "vitest";
import { parsePythonInt } from "../../bin/commands/measure-args.js";
import { measure, OVMF } from "../helpers/measure-cli.js";

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
