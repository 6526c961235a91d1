/**
 * Report fields of the simulated SNP signer: realistic defaults per product for everything the
 * caller does not set, serialised with the real `serializeReport`.
 */
import { randomBytes } from "node:crypto";
import type { TcbComponents } from "../../../measurements/drift/index.js";
import {
  encodeKeyInfo,
  encodePolicy,
  type GuestPolicyFlags,
  type CpuId,
  type SnpProduct,
  serializeReport,
  SIG_ALGO_ECDSA_P384_SHA384,
  SIZE,
  type FirmwareVersion,
  type ReportSignature,
  encodeTcb,
  tcbLayoutOf,
} from "../../attestation/index.js";

/** What a simulated report should say. Byte fields may be Buffers or hex strings. */
export interface SimulatedReportInput {
  /** Launch measurement, 48 bytes (hex or bytes). */
  readonly measurement: Uint8Array | string;
  /** REPORT_DATA, up to 64 bytes (zero-padded, as configfs-tsm pads `inblob`). Default zeros. */
  readonly reportData?: Uint8Array | string;
  /** Guest policy: flags or the raw word. Default `{ smt: true }` (0x30000). */
  readonly policy?: GuestPolicyFlags | bigint;
  /** VMPL of the requester (default 0). */
  readonly vmpl?: number;
  /** REPORTED_TCB (the VCEK is issued for it). Default: a current TCB for the product. */
  readonly reportedTcb?: TcbComponents;
  /** CURRENT_TCB, COMMITTED_TCB, LAUNCH_TCB (default: the reported TCB). */
  readonly currentTcb?: TcbComponents;
  readonly committedTcb?: TcbComponents;
  readonly launchTcb?: TcbComponents;
  /** CHIP_ID (default the simulator's chip). */
  readonly chipId?: Uint8Array;
  /** Write an all-zero CHIP_ID (host set MASK_CHIP_ID). */
  readonly maskChipId?: boolean;
  /** Which key signs (default `vcek`). */
  readonly signer?: "vcek" | "vlek";
  readonly hostData?: Uint8Array | string;
  readonly idKeyDigest?: Uint8Array | string;
  readonly authorKeyDigest?: Uint8Array | string;
  /** Sets KEY_INFO.AUTHOR_KEY_EN. */
  readonly authorKeyEn?: boolean;
  readonly familyId?: Uint8Array | string;
  readonly imageId?: Uint8Array | string;
  readonly reportId?: Uint8Array | string;
  /** REPORT_ID_MA (default all-FF: no migration agent). */
  readonly reportIdMa?: Uint8Array | string;
  readonly guestSvn?: number;
  /** PLATFORM_INFO word (default 0x25: SMT, ECC, alias check complete). */
  readonly platformInfo?: bigint;
  /** Report version 2-5 (default 5). */
  readonly version?: 2 | 3 | 4 | 5;
  /** Firmware version (default 1.55.xx per product). */
  readonly firmware?: FirmwareVersion;
  readonly committedFirmware?: FirmwareVersion;
  /** CPUID bytes (v3+; default a real part of the product). */
  readonly cpuid?: CpuId;
}

/** Default TCB per product (values seen on real, current parts). */
export const SIMULATED_DEFAULT_TCB: Readonly<Record<SnpProduct, TcbComponents>> = {
  Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
  Genoa: { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
  Turin: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
};

const DEFAULT_CPUID: Readonly<Record<SnpProduct, CpuId>> = {
  Milan: { family: 0x19, model: 0x01, stepping: 1 },
  Genoa: { family: 0x19, model: 0x11, stepping: 1 },
  Turin: { family: 0x1a, model: 0x02, stepping: 0 },
};

const DEFAULT_FIRMWARE: Readonly<Record<SnpProduct, FirmwareVersion>> = {
  Milan: { major: 1, minor: 55, build: 29 },
  Genoa: { major: 1, minor: 55, build: 43 },
  Turin: { major: 1, minor: 55, build: 61 },
};

function bytes(v: Uint8Array | string | undefined, size: number, name: string, fill = 0): Buffer {
  if (v === undefined) return Buffer.alloc(size, fill);
  const b = typeof v === "string" ? Buffer.from(v, "hex") : Buffer.from(v);
  if (b.length > size || (typeof v === "string" && b.length * 2 !== v.length))
    throw new TypeError(`simulated report: ${name} must be at most ${size} bytes`);
  return Buffer.concat([b, Buffer.alloc(size - b.length)]);
}

/** Builds report fields; `serialize(signature)` gives the wire bytes. */
export function buildSimulatedReport(
  product: SnpProduct,
  chipId: Buffer,
  input: SimulatedReportInput,
): { readonly serialize: (sig: ReportSignature) => Buffer; readonly reportedTcbComponents: TcbComponents } {
  const layout = tcbLayoutOf(product);
  const reported = input.reportedTcb ?? SIMULATED_DEFAULT_TCB[product];
  const tcb = (t: TcbComponents | undefined) => ({ raw: encodeTcb(t ?? reported, layout) });
  const measurement = bytes(input.measurement, SIZE.measurement, "measurement");
  if (
    (typeof input.measurement === "string" ? input.measurement.length / 2 : input.measurement.length) !==
    SIZE.measurement
  )
    throw new TypeError("simulated report: measurement must be 48 bytes");
  const version = input.version ?? 5;
  const fields = {
    version,
    guestSvn: input.guestSvn ?? 0,
    policy: { raw: typeof input.policy === "bigint" ? input.policy : encodePolicy(input.policy ?? { smt: true }) },
    familyId: bytes(input.familyId, SIZE.familyId, "familyId"),
    imageId: bytes(input.imageId, SIZE.imageId, "imageId"),
    vmpl: input.vmpl ?? 0,
    signatureAlgo: SIG_ALGO_ECDSA_P384_SHA384,
    currentTcb: tcb(input.currentTcb),
    platformInfo: { raw: input.platformInfo ?? 0x25n },
    keyInfo: { raw: encodeKeyInfo({ signingKey: input.signer ?? "vcek", authorKeyEn: input.authorKeyEn ?? false }) },
    reportData: bytes(input.reportData, SIZE.reportData, "reportData"),
    measurement,
    hostData: bytes(input.hostData, SIZE.hostData, "hostData"),
    idKeyDigest: bytes(input.idKeyDigest, SIZE.idKeyDigest, "idKeyDigest"),
    authorKeyDigest: bytes(input.authorKeyDigest, SIZE.authorKeyDigest, "authorKeyDigest"),
    reportId:
      input.reportId === undefined ? randomBytes(SIZE.reportId) : bytes(input.reportId, SIZE.reportId, "reportId"),
    reportIdMa: bytes(input.reportIdMa, SIZE.reportIdMa, "reportIdMa", input.reportIdMa === undefined ? 0xff : 0),
    reportedTcb: tcb(reported),
    cpuid: version >= 3 ? (input.cpuid ?? DEFAULT_CPUID[product]) : undefined,
    chipId: input.maskChipId ? Buffer.alloc(SIZE.chipId) : bytes(input.chipId ?? chipId, SIZE.chipId, "chipId"),
    committedTcb: tcb(input.committedTcb),
    currentVersion: input.firmware ?? DEFAULT_FIRMWARE[product],
    committedVersion: input.committedFirmware ?? input.firmware ?? DEFAULT_FIRMWARE[product],
    launchTcb: tcb(input.launchTcb),
    launchMitVector: version >= 5 ? 0n : undefined,
    currentMitVector: version >= 5 ? 0n : undefined,
  };
  return { serialize: (signature) => serializeReport({ ...fields, signature }), reportedTcbComponents: reported };
}
