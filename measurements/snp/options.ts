/**
 * The options of a launch measurement and their validation into a resolved form. Everything a
 * caller gives is checked here, before any hashing, so bad input never yields a digest.
 */
import { hash } from "node:crypto";
import { SnpMeasurementError } from "./errors.js";
import { MEASUREMENT_MODES, VMM_TYPES, isVmmType, type MeasurementMode, type VmmType } from "./modes.js";
import { EMPTY_SHA256, cmdlineSha256, type SevHashes } from "./sev-hashes.js";
import { VCPU_TYPES, cpuSignature, isVcpuType, vcpuIdentity, type CpuIdentity, type VcpuType } from "./vcpu-types.js";
import { LAUNCH_DIGEST_SIZE, PAGE_SIZE } from "./gctx.js";

/**
 * A kernel or initrd: its bytes, or only its SHA-256 (32 bytes, or 64 hex digits) when the bytes
 * are pinned by digest elsewhere. The launch digest depends only on the SHA-256.
 */
export type ArtifactInput = Uint8Array | { readonly sha256: Uint8Array | string };

/** Inputs of {@link computeMeasurement}. Bytes and values only: the calculator never reads files. */
export interface MeasurementOptions {
  /** What to compute (see {@link MeasurementMode}). */
  readonly mode: MeasurementMode;
  /** The OVMF image exactly as given to the VMM (`-bios`/pflash code); a multiple of 4096 bytes. */
  readonly ovmf: Uint8Array;
  /** vCPUs at launch (QEMU `-smp`), 1 to 65536; required in `snp`, `snp:svsm` and `seves`, ignored otherwise. */
  readonly vcpus?: number;
  /** QEMU vCPU model; used for the CPUID signature when `vcpuSignature` is absent. */
  readonly vcpuType?: VcpuType;
  /**
   * CPUID signature (unsigned, below 2^64) or family/model/stepping; takes precedence over `vcpuType`.
   * One of the two is required for `vmmType` QEMU in `snp`, `snp:svsm` and `seves`; ec2 and gce ignore both.
   */
  readonly vcpuSignature?: number | bigint | CpuIdentity;
  /** VMM whose launch is modelled; absent means `QEMU`. */
  readonly vmmType?: VmmType;
  /** SEV_FEATURES of every VMSA in `snp` mode (unsigned 64-bit); absent means 0x1. Ignored by `seves` (0) and `snp:svsm` (0x1). */
  readonly guestFeatures?: number | bigint;
  /** Kernel for measured direct boot; absent means firmware boot (no hashes table). */
  readonly kernel?: ArtifactInput;
  /** Initrd; needs `kernel`. Absent means the SHA-256 of the empty string. */
  readonly initrd?: ArtifactInput;
  /** Kernel command line; needs `kernel` unless empty. Absent or empty means a lone NUL is hashed. */
  readonly cmdline?: string;
  /** `snp` only: start from this `snp:ovmf-hash` digest (48 bytes or 96 hex digits) instead of hashing the OVMF pages. */
  readonly ovmfHash?: Uint8Array | string;
  /** `snp:svsm` only: the Coconut-SVSM image. */
  readonly svsm?: Uint8Array;
  /** `snp:svsm` only: size in bytes of the OVMF variable store placed between OVMF and SVSM (a multiple of 4096). */
  readonly varsSize?: number;
}

/** Options after validation: every value present, typed and in range. */
export interface ResolvedOptions {
  readonly mode: MeasurementMode;
  readonly ovmf: Buffer;
  readonly vcpus: number;
  /** Resolved from `vcpuSignature` or `vcpuType`; undefined when neither was given (ec2, gce, sev). */
  readonly vcpuSignature: bigint | undefined;
  readonly vmmType: VmmType;
  readonly guestFeatures: bigint;
  readonly hashes: SevHashes | undefined;
  readonly ovmfHash: Buffer | undefined;
  readonly svsm: Buffer | undefined;
  readonly varsSize: number;
}

/** Largest vCPU count accepted (far above any KVM limit; guards against runaway input). */
export const MAX_VCPUS = 65536;
const U64_MAX = (1n << 64n) - 1n;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function fail(code: ConstructorParameters<typeof SnpMeasurementError>[0], field: string, message: string): never {
  throw new SnpMeasurementError(code, field, message);
}

function asBuffer(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function bytesOption(value: unknown, field: string): Buffer {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${field} must be a Uint8Array`);
  return asBuffer(value);
}

function u64(value: unknown, code: "VCPU_SIGNATURE_INVALID" | "GUEST_FEATURES_INVALID", field: string): bigint {
  if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value))) {
    const big = BigInt(value);
    if (big >= 0n && big <= U64_MAX && (typeof value === "bigint" || Number.isSafeInteger(value))) return big;
  }
  return fail(code, field, `${field} must be an unsigned 64-bit integer, got ${String(value)}`);
}

function digestOf(input: ArtifactInput, field: string): Buffer {
  if (input instanceof Uint8Array) return hash("sha256", input, "buffer");
  if (typeof input !== "object" || input === null || !("sha256" in input))
    throw new TypeError(`${field} must be bytes or { sha256 }`);
  const { sha256 } = input;
  if (sha256 instanceof Uint8Array) {
    if (sha256.length === 32) return Buffer.from(sha256);
  } else if (typeof sha256 === "string") {
    if (/^[0-9a-fA-F]{64}$/.test(sha256)) return Buffer.from(sha256, "hex");
  } else {
    throw new TypeError(`${field}.sha256 must be bytes or a hex string`);
  }
  return fail(
    "DIGEST_INVALID",
    `${field}.sha256`,
    `${field}.sha256 must be a SHA-256 digest (32 bytes or 64 hex digits)`,
  );
}

function resolveSignature(o: MeasurementOptions, vmmType: VmmType, needed: boolean): bigint | undefined {
  if (o.vcpuType !== undefined && !isVcpuType(o.vcpuType)) {
    fail(
      "VCPU_TYPE_UNKNOWN",
      "vcpuType",
      `unknown vCPU type "${String(o.vcpuType)}" (expected one of: ${VCPU_TYPES.join(", ")})`,
    );
  }
  const sig = o.vcpuSignature;
  if (sig !== undefined) {
    if (typeof sig === "object" && sig !== null) return BigInt(cpuSignature(sig));
    return u64(sig, "VCPU_SIGNATURE_INVALID", "vcpuSignature");
  }
  if (o.vcpuType !== undefined) return BigInt(cpuSignature(vcpuIdentity(o.vcpuType)));
  if (needed && vmmType === "QEMU") {
    fail("VCPU_SIGNATURE_MISSING", "vcpuType", `mode ${o.mode} with vmm type QEMU needs a vCPU type or signature`);
  }
  return undefined;
}

function resolveHashes(o: MeasurementOptions): SevHashes | undefined {
  const cmdline = o.cmdline;
  if (cmdline !== undefined) {
    if (typeof cmdline !== "string") throw new TypeError("cmdline must be a string");
    if (cmdline.includes("\0") || LONE_SURROGATE.test(cmdline)) {
      fail(
        "CMDLINE_INVALID",
        "cmdline",
        "cmdline must not contain NUL characters or unpaired surrogates (QEMU passes it as a C string)",
      );
    }
  }
  if (o.kernel === undefined) {
    if (o.initrd !== undefined) fail("KERNEL_REQUIRED", "initrd", "an initrd needs a kernel");
    if (cmdline !== undefined && cmdline !== "") fail("KERNEL_REQUIRED", "cmdline", "a cmdline needs a kernel");
    return undefined;
  }
  return {
    kernel: digestOf(o.kernel, "kernel"),
    initrd: o.initrd === undefined ? EMPTY_SHA256 : digestOf(o.initrd, "initrd"),
    cmdline: cmdlineSha256(cmdline),
  };
}

function resolveOvmfHash(value: Uint8Array | string | undefined, mode: MeasurementMode): Buffer | undefined {
  if (value === undefined) return undefined;
  if (mode !== "snp")
    fail("OPTION_NOT_APPLICABLE", "ovmfHash", `a precomputed OVMF hash only applies to mode snp, not ${mode}`);
  if (value instanceof Uint8Array && value.length === LAUNCH_DIGEST_SIZE) return Buffer.from(value);
  if (typeof value === "string" && /^[0-9a-fA-F]{96}$/.test(value)) return Buffer.from(value, "hex");
  if (!(value instanceof Uint8Array) && typeof value !== "string")
    throw new TypeError("ovmfHash must be bytes or a hex string");
  return fail("OVMF_HASH_INVALID", "ovmfHash", `ovmfHash must be a 48-byte SHA-384 digest (96 hex digits)`);
}

function resolveSvsm(o: MeasurementOptions): { svsm: Buffer | undefined; varsSize: number } {
  if (o.mode !== "snp:svsm") return { svsm: undefined, varsSize: 0 };
  if (o.svsm === undefined) fail("SVSM_MISSING", "svsm", "mode snp:svsm needs the SVSM image");
  if (o.varsSize === undefined)
    fail("VARS_SIZE_MISSING", "varsSize", "mode snp:svsm needs the OVMF variable store size");
  if (!Number.isSafeInteger(o.varsSize) || o.varsSize < 0 || o.varsSize % PAGE_SIZE !== 0) {
    fail(
      "VARS_SIZE_INVALID",
      "varsSize",
      `varsSize must be a non-negative multiple of ${PAGE_SIZE}, got ${o.varsSize}`,
    );
  }
  return { svsm: bytesOption(o.svsm, "svsm"), varsSize: o.varsSize };
}

/**
 * Validates `options` for their mode and resolves defaults, digests and the vCPU signature.
 * @throws SnpMeasurementError for bad values; TypeError for values of the wrong type.
 */
export function resolveOptions(options: MeasurementOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("options must be an object");
  const mode = options.mode;
  if (!(MEASUREMENT_MODES as readonly string[]).includes(mode)) {
    fail("MODE_UNKNOWN", "mode", `unknown mode "${String(mode)}" (expected one of: ${MEASUREMENT_MODES.join(", ")})`);
  }
  const ovmf = bytesOption(options.ovmf, "ovmf");
  const vmmType = options.vmmType ?? "QEMU";
  if (!isVmmType(vmmType))
    fail(
      "VMM_TYPE_UNKNOWN",
      "vmmType",
      `unknown vmm type "${String(vmmType)}" (expected one of: ${VMM_TYPES.join(", ")})`,
    );
  const usesVcpus = mode === "snp" || mode === "snp:svsm" || mode === "seves";
  let vcpus = 0;
  if (usesVcpus) {
    const n = options.vcpus;
    if (n === undefined) fail("VCPUS_INVALID", "vcpus", `mode ${mode} needs the number of vCPUs`);
    if (!Number.isInteger(n) || n < 1 || n > MAX_VCPUS)
      fail("VCPUS_INVALID", "vcpus", `vcpus must be an integer from 1 to ${MAX_VCPUS}, got ${n}`);
    vcpus = n;
  }
  if (mode === "snp:svsm" && vmmType !== "QEMU")
    fail("VMM_TYPE_UNSUPPORTED", "vmmType", `mode snp:svsm is modelled for QEMU only, not ${vmmType}`);
  const vcpuSignature = resolveSignature(options, vmmType, usesVcpus);
  const guestFeatures =
    options.guestFeatures === undefined ? 1n : u64(options.guestFeatures, "GUEST_FEATURES_INVALID", "guestFeatures");
  const hashes = mode === "snp:ovmf-hash" ? undefined : resolveHashes(options);
  if (hashes !== undefined && mode === "snp:svsm")
    fail(
      "OPTION_NOT_APPLICABLE",
      "kernel",
      "mode snp:svsm does not measure a kernel (the reference tool ignores it; refusing avoids a wrong digest)",
    );
  const ovmfHash = resolveOvmfHash(options.ovmfHash, mode);
  return { mode, ovmf, vcpus, vcpuSignature, vmmType, guestFeatures, hashes, ovmfHash, ...resolveSvsm(options) };
}
