/**
 * Command-line parsing for `attestctl measure snp`, modelled on the argparse parser of
 * sev-snp-measure: the same flags, `--flag value` and `--flag=value`, unambiguous prefixes,
 * last occurrence wins, Python's integer syntax.
 */
import { UsageError } from "../errors.js";

/** Flags of `attestctl measure snp` and their metavariables (null = boolean switch). */
export const MEASURE_FLAGS = {
  "--help": null,
  "--verbose": null,
  "--version": null,
  "--mode": "MODE",
  "--vcpus": "N",
  "--vcpu-type": "CPUTYPE",
  "--vcpu-sig": "VALUE",
  "--vcpu-family": "FAMILY",
  "--vcpu-model": "MODEL",
  "--vcpu-stepping": "STEPPING",
  "--vmm-type": "VMMTYPE",
  "--ovmf": "PATH",
  "--kernel": "PATH",
  "--initrd": "PATH",
  "--append": "CMDLINE",
  "--guest-features": "VALUE",
  "--output-format": "{hex,base64}",
  "--snp-ovmf-hash": "HASH",
  "--dump-vmsa": null,
  "--svsm": "PATH",
  "--vars-size": "SIZE",
  "--vars-file": "PATH",
} as const;

/** A flag name of {@link MEASURE_FLAGS}. */
export type MeasureFlag = keyof typeof MEASURE_FLAGS;

const SHORT: Readonly<Record<string, MeasureFlag>> = { "-h": "--help", "-v": "--verbose" };

export { UsageError };

/** Parsed flags: switches map to `true`, valued flags to their last value. */
export type ParsedFlags = Partial<Record<MeasureFlag, string | true>>;

function resolveFlag(name: string): MeasureFlag {
  if (Object.prototype.hasOwnProperty.call(MEASURE_FLAGS, name)) return name as MeasureFlag;
  const short = SHORT[name];
  if (short !== undefined) return short;
  const matches = Object.keys(MEASURE_FLAGS).filter((f) => name.length > 2 && f.startsWith(name));
  if (matches.length === 1) return matches[0] as MeasureFlag;
  if (matches.length > 1) throw new UsageError(`ambiguous option: ${name} could match ${matches.join(", ")}`);
  throw new UsageError(`unrecognized arguments: ${name}`);
}

/** Splits argv into flags; throws {@link UsageError} on unknown flags, missing values and stray words. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const flags: ParsedFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("-") || arg === "-") throw new UsageError(`unrecognized arguments: ${arg}`);
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = resolveFlag(eq === -1 ? arg : arg.slice(0, eq));
    if (MEASURE_FLAGS[flag] === null) {
      if (eq !== -1) throw new UsageError(`argument ${flag}: ignored explicit argument '${arg.slice(eq + 1)}'`);
      flags[flag] = true;
    } else if (eq !== -1) {
      flags[flag] = arg.slice(eq + 1);
    } else {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError(`argument ${flag}: expected one argument`);
      flags[flag] = value;
      i++;
    }
  }
  if (flags["--vars-size"] !== undefined && flags["--vars-file"] !== undefined) {
    throw new UsageError("argument --vars-file: not allowed with argument --vars-size");
  }
  return flags;
}

const DIGITS = { 2: "01", 8: "0-7", 10: "0-9", 16: "0-9a-fA-F" } as const;

function digitsValid(digits: string, base: keyof typeof DIGITS): boolean {
  return new RegExp(`^[${DIGITS[base]}]+(_[${DIGITS[base]}]+)*$`).test(digits);
}

/**
 * Parses an integer as Python's `int(text)` (decimal) or `int(text, 0)` (`auto`: 0x/0o/0b prefixes,
 * no leading zeros) does: surrounding whitespace, a sign and single underscores between digits are
 * allowed. Returns `undefined` when Python would raise.
 */
export function parsePythonInt(text: string, auto: boolean): bigint | undefined {
  const m = /^([+-]?)(.*)$/s.exec(text.trim());
  const negative = m?.[1] === "-";
  const body = m?.[2] ?? "";
  let value: bigint | undefined;
  const prefixed = auto ? /^0([xXoObB])_?(.*)$/s.exec(body) : null;
  if (prefixed !== null) {
    const letter = (prefixed[1] ?? "").toLowerCase();
    const base = letter === "x" ? 16 : letter === "o" ? 8 : 2;
    const digits = prefixed[2] ?? "";
    if (digitsValid(digits, base)) value = BigInt(`0${letter}${digits.replace(/_/g, "")}`);
  } else if (digitsValid(body, 10)) {
    const plain = body.replace(/_/g, "");
    if (!auto || !/^0+[1-9]/.test(plain)) value = BigInt(plain);
  }
  return value === undefined ? undefined : negative ? -value : value;
}
