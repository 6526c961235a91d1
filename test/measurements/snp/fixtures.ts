/** The shared sev-snp-measure vectors (test/vectors/snp-measure) and helpers to feed them to the library. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { MeasurementOptions } from "../../../measurements/snp/index.js";

/** Folder of the vectors; their `args` paths are relative to it. */
export const VECTOR_DIR = join(__dirname, "../../vectors/snp-measure");

/** One known answer of sev-snp-measure 0.0.13. */
export interface SnpVector {
  readonly id: string;
  readonly description: string;
  readonly args: readonly string[];
  readonly expected: string | null;
  readonly expected_exit_code?: number;
  readonly expected_stderr_contains?: string;
}

/** All 13 vectors, in file order. */
export const VECTORS: readonly SnpVector[] = (
  JSON.parse(readFileSync(join(VECTOR_DIR, "vectors.json"), "utf8")) as { vectors: SnpVector[] }
).vectors;

const cache = new Map<string, Buffer>();
/** Bytes of an input file (path relative to {@link VECTOR_DIR}), read once per test file. */
export function input(path: string): Buffer {
  let bytes = cache.get(path);
  if (bytes === undefined) {
    bytes = readFileSync(join(VECTOR_DIR, path));
    cache.set(path, bytes);
  }
  return bytes;
}

/** The upstream fixtures: S = last 4 KiB of an AmdSevX64 build, X = last 4 KiB of an OvmfPkgX64 build. */
export const AMDSEV_SUFFIX = (): Buffer => input("inputs/ovmf_AmdSev_suffix.bin");
export const OVMFX64_SUFFIX = (): Buffer => input("inputs/ovmf_OvmfX64_suffix.bin");
export const OVMF_AMDSEV = (): Buffer => input("inputs/OVMF.amdsev.fd");

/** Translates a vector's sev-snp-measure arguments into library options (independent of the CLI's parser). */
export function vectorOptions(args: readonly string[]): MeasurementOptions {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    const value = args[i + 1] ?? "";
    switch (flag) {
      case "--mode":
        o.mode = value;
        break;
      case "--vcpus":
        o.vcpus = Number(value);
        break;
      case "--vcpu-type":
        o.vcpuType = value;
        break;
      case "--ovmf":
        o.ovmf = input(value);
        break;
      case "--kernel":
        o.kernel = input(value);
        break;
      case "--initrd":
        o.initrd = input(value);
        break;
      case "--append":
        o.cmdline = value;
        break;
      case "--guest-features":
        o.guestFeatures = BigInt(value);
        break;
      case "--snp-ovmf-hash":
        o.ovmfHash = value;
        break;
      case "--vmm-type":
        o.vmmType = value;
        break;
      case "--svsm":
        o.svsm = input(value);
        break;
      case "--vars-size":
        o.varsSize = Number(value);
        break;
      default:
        throw new Error(`vector flag not handled: ${flag}`);
    }
  }
  return o as unknown as MeasurementOptions;
}
