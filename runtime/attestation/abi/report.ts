/**
 * ATTESTATION_REPORT (0x4A0 = 1184 bytes, little-endian): parse into a typed object and serialise
 * back to the identical bytes. Offsets follow AMD's SEV-SNP Firmware ABI Specification (pub. 56860),
 * "ATTESTATION_REPORT Structure" table, and the signature format of its "ECDSA P-384 with SHA-384
 * Signature" table; see ../../../docs or /work/shared/reference/attestation-verification.md §1.1.
 */
import { AttestationError } from "../errors.js";
import {
  decodeKeyInfo,
  decodePlatformInfo,
  decodePolicy,
  POLICY_RESERVED_MASK,
  type GuestPolicy,
  type KeyInfo,
  type PlatformInfo,
} from "./bits.js";
import { productFromCpuId, type CpuId, type SnpProduct } from "./product.js";
import { decodeTcb, tcbLayoutOf, type TcbLayout, type TcbVersion } from "./tcb.js";

/** Size of a report in bytes. */
export const REPORT_SIZE = 0x4a0;
/** Bytes covered by the signature: 0x000-0x29F. */
export const SIGNED_LENGTH = 0x2a0;
/** Report versions this parser understands (v4 is laid out like v3). */
export const SUPPORTED_VERSIONS = [2, 3, 4, 5] as const;
/** SIGNATURE_ALGO value for ECDSA P-384 with SHA-384, the only one defined. */
export const SIG_ALGO_ECDSA_P384_SHA384 = 1;

/** Field offsets (ABI spec 56860, ATTESTATION_REPORT Structure). */
export const OFFSET = {
  version: 0x000,
  guestSvn: 0x004,
  policy: 0x008,
  familyId: 0x010,
  imageId: 0x020,
  vmpl: 0x030,
  signatureAlgo: 0x034,
  currentTcb: 0x038,
  platformInfo: 0x040,
  keyInfo: 0x048,
  reportData: 0x050,
  measurement: 0x090,
  hostData: 0x0c0,
  idKeyDigest: 0x0e0,
  authorKeyDigest: 0x110,
  reportId: 0x140,
  reportIdMa: 0x160,
  reportedTcb: 0x180,
  cpuidFamId: 0x188,
  cpuidModId: 0x189,
  cpuidStep: 0x18a,
  chipId: 0x1a0,
  committedTcb: 0x1e0,
  currentBuild: 0x1e8,
  currentMinor: 0x1e9,
  currentMajor: 0x1ea,
  committedBuild: 0x1ec,
  committedMinor: 0x1ed,
  committedMajor: 0x1ee,
  launchTcb: 0x1f0,
  launchMitVector: 0x1f8,
  currentMitVector: 0x200,
  signatureR: 0x2a0,
  signatureS: 0x2e8,
} as const;

/** Sizes of the byte-string fields. */
export const SIZE = {
  familyId: 16,
  imageId: 16,
  reportData: 64,
  measurement: 48,
  hostData: 32,
  idKeyDigest: 48,
  authorKeyDigest: 48,
  reportId: 32,
  reportIdMa: 32,
  chipId: 64,
  sigComponent: 72,
} as const;

/** A firmware version as printed `major.minor.build`. */
export interface FirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

/** The ECDSA signature as stored: R and S, 72 bytes each, little-endian, high 24 bytes zero. */
export interface ReportSignature {
  readonly r: Buffer;
  readonly s: Buffer;
}

/** A parsed ATTESTATION_REPORT; every field of versions 2-5. Byte fields are copies. */
export interface SnpReport {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: GuestPolicy;
  readonly familyId: Buffer;
  readonly imageId: Buffer;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: TcbVersion;
  readonly platformInfo: PlatformInfo;
  readonly keyInfo: KeyInfo;
  readonly reportData: Buffer;
  readonly measurement: Buffer;
  readonly hostData: Buffer;
  readonly idKeyDigest: Buffer;
  readonly authorKeyDigest: Buffer;
  readonly reportId: Buffer;
  readonly reportIdMa: Buffer;
  readonly reportedTcb: TcbVersion;
  /** CPUID identification; undefined for v2 reports (the bytes are reserved there). */
  readonly cpuid: CpuId | undefined;
  readonly chipId: Buffer;
  readonly committedTcb: TcbVersion;
  readonly currentVersion: FirmwareVersion;
  readonly committedVersion: FirmwareVersion;
  readonly launchTcb: TcbVersion;
  /** v5 only; undefined before. */
  readonly launchMitVector: bigint | undefined;
  /** v5 only; undefined before. */
  readonly currentMitVector: bigint | undefined;
  readonly signature: ReportSignature;
  /**
   * Product line used to decode the TCB fields: from CPUID (v3+), else the caller's hint, else
   * undefined (TCBs then decoded with the Milan/Genoa layout, or Turin when CHIP_ID looks like a Turin id).
   */
  readonly product: SnpProduct | undefined;
}

/** Options of {@link parseReport}. */
export interface ParseReportOptions {
  /** Product line to assume when the report does not carry CPUID (v2). Ignored for v3+ when CPUID names a product. */
  readonly product?: SnpProduct;
}

function fail(
  code:
    | "REPORT_SIZE"
    | "REPORT_VERSION"
    | "SIGNATURE_ALGORITHM"
    | "RESERVED_NONZERO"
    | "POLICY_RESERVED"
    | "KEY_INFO_RESERVED",
  path: string,
  message: string,
): never {
  throw new AttestationError(code, `parsing report: ${message}`, { path });
}

/** The reserved (must-be-zero) byte ranges of a report of `version`, as [start, end) with a field path. */
export function reservedRanges(version: number): readonly (readonly [number, number, string])[] {
  return [
    [0x04c, 0x050, "report.reserved@0x4C"],
    [
      version >= 3 ? 0x18b : 0x188,
      0x1a0,
      `report.reserved@0x${(version >= 3 ? 0x18b : 0x188).toString(16).toUpperCase()}`,
    ],
    [0x1eb, 0x1ec, "report.reserved@0x1EB"],
    [0x1ef, 0x1f0, "report.reserved@0x1EF"],
    [
      version >= 5 ? 0x208 : 0x1f8,
      0x2a0,
      `report.reserved@0x${(version >= 5 ? 0x208 : 0x1f8).toString(16).toUpperCase()}`,
    ],
    [OFFSET.signatureR + 48, OFFSET.signatureR + 72, "report.signature.r[48..71]"],
    [OFFSET.signatureS + 48, OFFSET.signatureS + 72, "report.signature.s[48..71]"],
    [0x330, 0x4a0, "report.signature.reserved@0x330"],
  ];
}

function isZero(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

/** Turin CHIP_IDs use only the first 8 bytes (virtee's heuristic for v2 reports). */
function looksLikeTurinChipId(b: Buffer): boolean {
  return !isZero(b, OFFSET.chipId, OFFSET.chipId + 8) && isZero(b, OFFSET.chipId + 8, OFFSET.chipId + 64);
}

/**
 * Parses a raw 1184-byte report. Structural rules enforced (and their codes): exact size
 * (`REPORT_SIZE`), version 2-5 (`REPORT_VERSION`), SIGNATURE_ALGO = 1 (`SIGNATURE_ALGORITHM`),
 * KEY_INFO bits 31:5 zero and SIGNING_KEY not 2-6 (`KEY_INFO_RESERVED`), POLICY bit 17 set and bits
 * 63:26 clear (`POLICY_RESERVED`), every reserved range zero incl. signature R/S bytes 48-71
 * (`RESERVED_NONZERO`). Signatures are not checked here.
 *
 * @example
 * const report = parseReport(readFileSync("report.bin"));
 * report.measurement.toString("hex"); report.reportedTcb.snp;
 */
export function parseReport(bytes: Uint8Array, options: ParseReportOptions = {}): SnpReport {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("parseReport: bytes must be a Uint8Array");
  if (bytes.length !== REPORT_SIZE)
    fail("REPORT_SIZE", "report", `expected exactly ${REPORT_SIZE} bytes, got ${bytes.length}`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = b.readUInt32LE(OFFSET.version);
  if (!(SUPPORTED_VERSIONS as readonly number[]).includes(version))
    fail("REPORT_VERSION", "report.version", `unsupported version ${version} (supported: 2-5)`);
  const signatureAlgo = b.readUInt32LE(OFFSET.signatureAlgo);
  if (signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384)
    fail(
      "SIGNATURE_ALGORITHM",
      "report.signatureAlgo",
      `SIGNATURE_ALGO ${signatureAlgo} is not 1 (ECDSA P-384 with SHA-384)`,
    );
  const keyInfoRaw = b.readUInt32LE(OFFSET.keyInfo);
  if (keyInfoRaw >>> 5 !== 0)
    fail(
      "KEY_INFO_RESERVED",
      "report.keyInfo",
      `KEY_INFO reserved bits 31:5 are not zero (0x${keyInfoRaw.toString(16)})`,
    );
  const sel = (keyInfoRaw >> 2) & 7;
  if (sel >= 2 && sel <= 6) fail("KEY_INFO_RESERVED", "report.keyInfo.signingKey", `SIGNING_KEY ${sel} is reserved`);
  const policyRaw = b.readBigUInt64LE(OFFSET.policy);
  if (((policyRaw >> 17n) & 1n) !== 1n)
    fail("POLICY_RESERVED", "report.policy.reservedBit17", "POLICY bit 17 is reserved and must be 1");
  if ((policyRaw & POLICY_RESERVED_MASK) !== 0n)
    fail(
      "POLICY_RESERVED",
      "report.policy",
      `POLICY bits 63:26 are reserved and must be 0 (0x${policyRaw.toString(16)})`,
    );
  for (const [start, end, path] of reservedRanges(version)) {
    if (!isZero(b, start, end))
      fail("RESERVED_NONZERO", path, `reserved bytes 0x${start.toString(16)}-0x${(end - 1).toString(16)} are not zero`);
  }
  const cpuid =
    version >= 3
      ? {
          family: b[OFFSET.cpuidFamId] as number,
          model: b[OFFSET.cpuidModId] as number,
          stepping: b[OFFSET.cpuidStep] as number,
        }
      : undefined;
  const product = (cpuid && productFromCpuId(cpuid)) ?? options.product;
  const layout: TcbLayout = product ? tcbLayoutOf(product) : looksLikeTurinChipId(b) ? "turin" : "milan-genoa";
  const tcb = (off: number): TcbVersion => decodeTcb(b.readBigUInt64LE(off), layout);
  const copy = (off: number, len: number): Buffer => Buffer.from(b.subarray(off, off + len));
  const fw = (major: number, minor: number, build: number): FirmwareVersion => ({
    major: b[major] as number,
    minor: b[minor] as number,
    build: b[build] as number,
  });
  return {
    version,
    guestSvn: b.readUInt32LE(OFFSET.guestSvn),
    policy: decodePolicy(policyRaw),
    familyId: copy(OFFSET.familyId, SIZE.familyId),
    imageId: copy(OFFSET.imageId, SIZE.imageId),
    vmpl: b.readUInt32LE(OFFSET.vmpl),
    signatureAlgo,
    currentTcb: tcb(OFFSET.currentTcb),
    platformInfo: decodePlatformInfo(b.readBigUInt64LE(OFFSET.platformInfo)),
    keyInfo: decodeKeyInfo(keyInfoRaw),
    reportData: copy(OFFSET.reportData, SIZE.reportData),
    measurement: copy(OFFSET.measurement, SIZE.measurement),
    hostData: copy(OFFSET.hostData, SIZE.hostData),
    idKeyDigest: copy(OFFSET.idKeyDigest, SIZE.idKeyDigest),
    authorKeyDigest: copy(OFFSET.authorKeyDigest, SIZE.authorKeyDigest),
    reportId: copy(OFFSET.reportId, SIZE.reportId),
    reportIdMa: copy(OFFSET.reportIdMa, SIZE.reportIdMa),
    reportedTcb: tcb(OFFSET.reportedTcb),
    cpuid,
    chipId: copy(OFFSET.chipId, SIZE.chipId),
    committedTcb: tcb(OFFSET.committedTcb),
    currentVersion: fw(OFFSET.currentMajor, OFFSET.currentMinor, OFFSET.currentBuild),
    committedVersion: fw(OFFSET.committedMajor, OFFSET.committedMinor, OFFSET.committedBuild),
    launchTcb: tcb(OFFSET.launchTcb),
    launchMitVector: version >= 5 ? b.readBigUInt64LE(OFFSET.launchMitVector) : undefined,
    currentMitVector: version >= 5 ? b.readBigUInt64LE(OFFSET.currentMitVector) : undefined,
    signature: { r: copy(OFFSET.signatureR, SIZE.sigComponent), s: copy(OFFSET.signatureS, SIZE.sigComponent) },
    product,
  };
}

/** The fields {@link serializeReport} reads: an {@link SnpReport}, or the same shape built by hand (simulated signer). */
export interface SnpReportFields {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: { readonly raw: bigint };
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly currentTcb: { readonly raw: bigint };
  readonly platformInfo: { readonly raw: bigint };
  readonly keyInfo: { readonly raw: number };
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: { readonly raw: bigint };
  readonly cpuid: CpuId | undefined;
  readonly chipId: Uint8Array;
  readonly committedTcb: { readonly raw: bigint };
  readonly currentVersion: FirmwareVersion;
  readonly committedVersion: FirmwareVersion;
  readonly launchTcb: { readonly raw: bigint };
  readonly launchMitVector: bigint | undefined;
  readonly currentMitVector: bigint | undefined;
  readonly signature: { readonly r: Uint8Array; readonly s: Uint8Array };
}

/**
 * Serialises report fields to the 1184-byte wire form; reserved bytes are written as zero, so
 * `serializeReport(parseReport(b))` equals `b` for every report the parser accepts.
 */
export function serializeReport(r: SnpReportFields): Buffer {
  const b = Buffer.alloc(REPORT_SIZE);
  const put = (off: number, bytes: Uint8Array, size: number, name: string): void => {
    if (bytes.length !== size)
      throw new TypeError(`serializeReport: ${name} must be ${size} bytes, got ${bytes.length}`);
    b.set(bytes, off);
  };
  b.writeUInt32LE(r.version, OFFSET.version);
  b.writeUInt32LE(r.guestSvn, OFFSET.guestSvn);
  b.writeBigUInt64LE(r.policy.raw, OFFSET.policy);
  put(OFFSET.familyId, r.familyId, SIZE.familyId, "familyId");
  put(OFFSET.imageId, r.imageId, SIZE.imageId, "imageId");
  b.writeUInt32LE(r.vmpl, OFFSET.vmpl);
  b.writeUInt32LE(r.signatureAlgo, OFFSET.signatureAlgo);
  b.writeBigUInt64LE(r.currentTcb.raw, OFFSET.currentTcb);
  b.writeBigUInt64LE(r.platformInfo.raw, OFFSET.platformInfo);
  b.writeUInt32LE(r.keyInfo.raw, OFFSET.keyInfo);
  put(OFFSET.reportData, r.reportData, SIZE.reportData, "reportData");
  put(OFFSET.measurement, r.measurement, SIZE.measurement, "measurement");
  put(OFFSET.hostData, r.hostData, SIZE.hostData, "hostData");
  put(OFFSET.idKeyDigest, r.idKeyDigest, SIZE.idKeyDigest, "idKeyDigest");
  put(OFFSET.authorKeyDigest, r.authorKeyDigest, SIZE.authorKeyDigest, "authorKeyDigest");
  put(OFFSET.reportId, r.reportId, SIZE.reportId, "reportId");
  put(OFFSET.reportIdMa, r.reportIdMa, SIZE.reportIdMa, "reportIdMa");
  b.writeBigUInt64LE(r.reportedTcb.raw, OFFSET.reportedTcb);
  if (r.version >= 3 && r.cpuid) {
    b[OFFSET.cpuidFamId] = r.cpuid.family;
    b[OFFSET.cpuidModId] = r.cpuid.model;
    b[OFFSET.cpuidStep] = r.cpuid.stepping;
  }
  put(OFFSET.chipId, r.chipId, SIZE.chipId, "chipId");
  b.writeBigUInt64LE(r.committedTcb.raw, OFFSET.committedTcb);
  b[OFFSET.currentBuild] = r.currentVersion.build;
  b[OFFSET.currentMinor] = r.currentVersion.minor;
  b[OFFSET.currentMajor] = r.currentVersion.major;
  b[OFFSET.committedBuild] = r.committedVersion.build;
  b[OFFSET.committedMinor] = r.committedVersion.minor;
  b[OFFSET.committedMajor] = r.committedVersion.major;
  b.writeBigUInt64LE(r.launchTcb.raw, OFFSET.launchTcb);
  if (r.version >= 5) {
    b.writeBigUInt64LE(r.launchMitVector ?? 0n, OFFSET.launchMitVector);
    b.writeBigUInt64LE(r.currentMitVector ?? 0n, OFFSET.currentMitVector);
  }
  put(OFFSET.signatureR, r.signature.r, SIZE.sigComponent, "signature.r");
  put(OFFSET.signatureS, r.signature.s, SIZE.sigComponent, "signature.s");
  return b;
}

/** The signed part of a raw report (0x000-0x29F), as a view. */
export function signedBytes(raw: Uint8Array): Uint8Array {
  return raw.subarray(0, SIGNED_LENGTH);
}

/** The signature as IEEE P1363 (r||s, 48 bytes each, big-endian) for node:crypto. */
export function signatureToP1363(sig: ReportSignature): Buffer {
  const out = Buffer.alloc(96);
  for (let i = 0; i < 48; i++) {
    out[47 - i] = sig.r[i] as number;
    out[95 - i] = sig.s[i] as number;
  }
  return out;
}

/** The inverse of {@link signatureToP1363}: 72-byte little-endian R and S from r||s. */
export function signatureFromP1363(p1363: Uint8Array): ReportSignature {
  if (p1363.length !== 96) throw new TypeError(`signatureFromP1363: expected 96 bytes, got ${p1363.length}`);
  const r = Buffer.alloc(72);
  const s = Buffer.alloc(72);
  for (let i = 0; i < 48; i++) {
    r[i] = p1363[47 - i] as number;
    s[i] = p1363[95 - i] as number;
  }
  return { r, s };
}
