/**
 * `attestctl measure snp`: the expected launch measurement of an SEV, SEV-ES or SEV-SNP guest, with
 * the flags and output of virtee/sev-snp-measure 0.0.13 so one can replace the other. The digest
 * alone goes to stdout; measurement errors print `Error: <message>` on stderr (exit 1), usage
 * errors print argparse-style usage (exit 2). Loads only node:fs and `measurements/snp`.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  MEASUREMENT_MODES,
  MODE_LABELS,
  SNP_USAGE_ERROR_CODES,
  SnpMeasurementError,
  VCPU_TYPES,
  VMM_TYPES,
  computeMeasurement,
  isVcpuType,
  isVmmType,
  parseMeasurementMode,
  type MeasurementMode,
  type MeasurementOptions,
} from "../../measurements/snp/index.js";
import { EXIT, type CliIo, type Command } from "../io.js";
import { MEASURE_FLAGS, UsageError, parseFlags, parsePythonInt, type ParsedFlags } from "./measure-args.js";
import { InputFileError } from "../errors.js";

const PROG = "attestctl measure snp";

function usageLine(): string {
  const parts = Object.entries(MEASURE_FLAGS).map(([flag, meta]) => {
    if (flag === "--help") return "[-h]";
    if (flag === "--verbose") return "[-v]";
    const text = meta === null ? flag : `${flag} ${meta}`;
    return flag === "--mode" || flag === "--ovmf" ? text : `[${text}]`;
  });
  return `usage: ${PROG} ${parts.join(" ")}\n`;
}

/** The `--help` text. */
export function measureHelp(): string {
  return [
    usageLine(),
    "Calculate the expected AMD SEV/SEV-ES/SEV-SNP guest launch measurement (sev-snp-measure 0.0.13 compatible).",
    "",
    "options:",
    "  -h, --help            show this help message and exit",
    "  -v, --verbose         prefix the digest with 'Calculated <MODE> guest measurement: '",
    "  --version             show the compatible sev-snp-measure version and exit",
    `  --mode MODE           guest mode (${MEASUREMENT_MODES.join(", ")}; also sev-es, sev-snp, sev-snp:svsm)`,
    "  --vcpus N             number of guest vCPUs (required except for sev and snp:ovmf-hash)",
    `  --vcpu-type CPUTYPE   type of guest vCPU (${VCPU_TYPES.join(", ")})`,
    "  --vcpu-sig VALUE      guest vCPU signature value (0x.., 0o.., 0b.. or decimal)",
    "  --vcpu-family FAMILY  guest vCPU family (with --vcpu-model and --vcpu-stepping; wins over --vcpu-sig and --vcpu-type)",
    "  --vcpu-model MODEL    guest vCPU model",
    "  --vcpu-stepping STEPPING",
    "                        guest vCPU stepping",
    `  --vmm-type VMMTYPE    type of guest VMM (${VMM_TYPES.join(", ")}; default QEMU)`,
    "  --ovmf PATH           OVMF file to calculate the hash from",
    "  --kernel PATH         kernel file to calculate the hash from",
    "  --initrd PATH         initrd file to calculate the hash from (use with --kernel)",
    "  --append CMDLINE      kernel command line to calculate the hash from (use with --kernel)",
    "  --guest-features VALUE",
    "                        SEV_FEATURES of the guest VMSAs (default 0x1)",
    "  --output-format {hex,base64}",
    "                        measurement output format (default hex)",
    "  --snp-ovmf-hash HASH  precalculated hash of the OVMF binary (hex string, from --mode snp:ovmf-hash)",
    "  --dump-vmsa           write the measured VMSAs to vmsa<N>.bin (seves, snp and snp:svsm modes only)",
    "",
    "snp:svsm mode (AMD SEV-SNP with Coconut-SVSM; needs --svsm and --vars-size or --vars-file):",
    "  --svsm PATH           SVSM binary",
    "  --vars-size SIZE      size of the OVMF_VARS file in bytes (conflicts with --vars-file)",
    "  --vars-file PATH      OVMF_VARS file (conflicts with --vars-size)",
    "",
  ].join("\n");
}

function str(flags: ParsedFlags, flag: keyof ParsedFlags): string | undefined {
  const v = flags[flag];
  return typeof v === "string" ? v : undefined;
}

function int(flags: ParsedFlags, flag: keyof ParsedFlags, auto: boolean): bigint | undefined {
  const text = str(flags, flag);
  if (text === undefined) return undefined;
  const value = parsePythonInt(text, auto);
  if (value === undefined)
    throw new UsageError(`argument ${flag}: invalid ${auto ? "auto_base_int" : "int"} value: '${text}'`);
  return value;
}

const num = (v: bigint | undefined): number | undefined => (v === undefined ? undefined : Number(v));

function choice<T extends string>(
  flags: ParsedFlags,
  flag: keyof ParsedFlags,
  ok: (v: string) => v is T,
  all: readonly string[],
): T | undefined {
  const v = str(flags, flag);
  if (v === undefined || ok(v)) return v;
  throw new UsageError(`argument ${flag}: invalid choice: '${v}' (choose from ${all.map((c) => `'${c}'`).join(", ")})`);
}

function parseMode(text: string): MeasurementMode {
  try {
    return parseMeasurementMode(text);
  } catch {
    throw new UsageError(
      `argument --mode: invalid choice: '${text}' (choose from ${MEASUREMENT_MODES.map((c) => `'${c}'`).join(", ")})`,
    );
  }
}

/** The vCPU signature options in upstream precedence: family/model/stepping > --vcpu-sig > --vcpu-type. */
function vcpuOptions(
  flags: ParsedFlags,
  mode: MeasurementMode,
  vmm: string,
): Pick<MeasurementOptions, "vcpuType" | "vcpuSignature"> {
  const vcpuType = choice(flags, "--vcpu-type", isVcpuType, VCPU_TYPES);
  const family = int(flags, "--vcpu-family", false);
  const model = int(flags, "--vcpu-model", false);
  const stepping = int(flags, "--vcpu-stepping", false);
  const sig = int(flags, "--vcpu-sig", true);
  if (mode === "sev") return {};
  if (family !== undefined) {
    if (model === undefined || stepping === undefined)
      throw new UsageError("--vcpu-family needs --vcpu-model and --vcpu-stepping");
    return { vcpuSignature: { family: Number(family), model: Number(model), stepping: Number(stepping) } };
  }
  if (sig !== undefined) return { vcpuSignature: sig };
  if (vcpuType !== undefined) return { vcpuType };
  if (vmm === "QEMU")
    throw new UsageError(`missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '${mode}'`);
  return {};
}

/** Reads a file named by a flag; empty paths count as absent, as in the reference tool. */
function readInput(io: CliIo, flags: ParsedFlags, flag: keyof ParsedFlags): Buffer | undefined {
  const path = str(flags, flag);
  if (path === undefined || path === "") return undefined;
  try {
    return readFileSync(resolve(io.cwd, path));
  } catch (error) {
    throw new InputFileError(`cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
}

function varsSize(io: CliIo, flags: ParsedFlags): number {
  const file = str(flags, "--vars-file");
  if (file !== undefined && file !== "") {
    try {
      return statSync(resolve(io.cwd, file)).size;
    } catch (error) {
      throw new InputFileError(
        `cannot read --vars-file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        { cause: error },
      );
    }
  }
  const size = int(flags, "--vars-size", false);
  if (size === undefined || size === 0n) throw new UsageError("snp:svsm mode requires --vars-size or --vars-file");
  return Number(size);
}

function format(digest: Buffer, flags: ParsedFlags): string {
  return str(flags, "--output-format") === "base64" ? digest.toString("base64") : digest.toString("hex");
}

function measure(flags: ParsedFlags, io: CliIo): number {
  // Like argparse: value errors (choices, integers) before missing required arguments.
  const modeText = str(flags, "--mode");
  const mode = modeText === undefined ? undefined : parseMode(modeText);
  choice(flags, "--output-format", (v): v is string => v === "hex" || v === "base64", ["hex", "base64"]);
  choice(flags, "--vcpu-type", isVcpuType, VCPU_TYPES);
  for (const flag of ["--vcpus", "--vcpu-family", "--vcpu-model", "--vcpu-stepping", "--vars-size"] as const)
    int(flags, flag, false);
  for (const flag of ["--vcpu-sig", "--guest-features"] as const) int(flags, flag, true);
  const ovmfPath = str(flags, "--ovmf");
  const missing = [mode === undefined ? "--mode" : "", ovmfPath === undefined ? "--ovmf" : ""].filter((f) => f !== "");
  if (mode === undefined || missing.length > 0)
    throw new UsageError(`the following arguments are required: ${missing.join(", ")}`);
  const ovmf = readInput(io, flags, "--ovmf") ?? Buffer.alloc(0);
  if (mode === "snp:ovmf-hash") {
    // Upstream prints this intermediate digest before any other check, always in hex and without the -v prefix.
    io.stdout(`${computeMeasurement({ mode, ovmf }).digest.toString("hex")}\n`);
    return EXIT.ok;
  }
  const kernelPath = str(flags, "--kernel");
  const hasKernel = kernelPath !== undefined && kernelPath !== "";
  if (!hasKernel && (str(flags, "--initrd") ?? "") !== "")
    throw new UsageError("--kernel required when using --initrd");
  if (!hasKernel && (str(flags, "--append") ?? "") !== "")
    throw new UsageError("--kernel required when using --append");
  const vcpus = int(flags, "--vcpus", false);
  if (mode !== "sev" && vcpus === undefined) throw new UsageError(`missing --vcpus N in guest mode '${mode}'`);
  const vmmType = str(flags, "--vmm-type") ?? "QEMU";
  if (!isVmmType(vmmType)) throw new UsageError(`unknown VMM type '${vmmType}'`);
  const vcpu = vcpuOptions(flags, mode, vmmType);
  const guestFeatures = int(flags, "--guest-features", true);
  if (mode === "snp:svsm" && (str(flags, "--svsm") ?? "") === "") throw new UsageError("snp:svsm mode requires --svsm");
  const svsmVars = mode === "snp:svsm" ? varsSize(io, flags) : undefined;
  const dump = flags["--dump-vmsa"] === true;
  if (dump && mode === "sev") throw new UsageError("--dump-vmsa is not available in the selected mode");
  const kernel = readInput(io, flags, "--kernel");
  const initrd = kernel === undefined ? undefined : readInput(io, flags, "--initrd");
  const append = str(flags, "--append");
  const ovmfHash = str(flags, "--snp-ovmf-hash");
  const m = computeMeasurement({
    mode,
    ovmf,
    vcpus: num(vcpus),
    vmmType,
    ...vcpu,
    kernel,
    initrd,
    cmdline: kernel === undefined || append === "" ? undefined : append,
    guestFeatures,
    ovmfHash: ovmfHash === "" ? undefined : ovmfHash,
    svsm: mode === "snp:svsm" ? readInput(io, flags, "--svsm") : undefined,
    varsSize: svsmVars,
  });
  if (dump) m.vmsas.forEach((page, i) => writeFileSync(resolve(io.cwd, `vmsa${i}.bin`), page));
  const text = format(m.digest, flags);
  io.stdout(flags["--verbose"] === true ? `Calculated ${MODE_LABELS[mode]} guest measurement: ${text}\n` : `${text}\n`);
  return EXIT.ok;
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`${usageLine()}${PROG}: error: ${message}\n`);
  return EXIT.usage;
}

/** The `measure` subcommand: `attestctl measure snp [flags]` (the word `snp` may be left out). */
export const command: Command = {
  name: "measure",
  summary: "compute an expected launch measurement (sev-snp-measure compatible)",
  async run(argv, io) {
    const args = argv[0] === "snp" ? argv.slice(1) : argv;
    try {
      if (args.length > 0 && !(args[0] ?? "").startsWith("-"))
        throw new UsageError(`unknown measurement target '${args[0]}' (expected: snp)`);
      const flags = parseFlags(args);
      if (flags["--help"] === true) {
        io.stdout(measureHelp());
        return EXIT.ok;
      }
      if (flags["--version"] === true) {
        io.stdout(`${PROG} (sev-snp-measure 0.0.13 compatible)\n`);
        return EXIT.ok;
      }
      return measure(flags, io);
    } catch (error) {
      if (error instanceof UsageError) return usageError(io, error.message);
      if (error instanceof InputFileError) {
        io.stderr(`Error: ${error.message}\n`);
        return EXIT.failed;
      }
      if (error instanceof SnpMeasurementError) {
        if (SNP_USAGE_ERROR_CODES.includes(error.code)) return usageError(io, error.message);
        io.stderr(`Error: ${error.message}\n`);
        return EXIT.failed;
      }
      throw error;
    }
  },
};
