/**
 * SEV-SNP guest POLICY (u64) helpers. Bit positions: AMD SEV-SNP ABI specification (#56860),
 * section 4.3 "Guest Policy", Table 9; see also ../../../shared/reference/attestation-verification.md 1.2.
 */
import type { GoldenManifest } from "./types.js";

/** Named POLICY bits. */
export const POLICY_BITS = {
  smt: 16n,
  /** Reserved, must be 1. */
  reserved1: 17n,
  migrateMa: 18n,
  debug: 19n,
  singleSocket: 20n,
  cxlAllow: 21n,
  memAes256Xts: 22n,
  raplDis: 23n,
  ciphertextHiding: 24n,
  pageSwapDisable: 25n,
} as const;

/** Bits 0..15: ABI_MINOR and ABI_MAJOR (a minimum version, not flags). */
export const POLICY_ABI_MASK = 0xffffn;
/** Bits 26..63 are reserved and must be zero. */
export const POLICY_RESERVED_MASK = ~((1n << 26n) - 1n) & 0xffff_ffff_ffff_ffffn;
/** Bit 17 (reserved, must be one). */
export const POLICY_MUST_BE_ONE = 1n << POLICY_BITS.reserved1;

/** The guest-policy settings a stack config exposes. */
export interface GuestPolicySettings {
  readonly debug: boolean;
  readonly migrateMa: boolean;
  readonly smt: boolean;
  readonly singleSocket: boolean;
  /** Minimum firmware ABI major (0..255). */
  readonly abiMajor: number;
  /** Minimum firmware ABI minor (0..255). */
  readonly abiMinor: number;
}

/**
 * Encodes policy settings as the u64 given to SNP_LAUNCH_START (bit 17 always set).
 * @example encodeGuestPolicy({ debug: false, migrateMa: false, smt: true, singleSocket: false, abiMajor: 0, abiMinor: 0 }) // 0x30000n
 */
export function encodeGuestPolicy(p: GuestPolicySettings): bigint {
  if (
    !Number.isInteger(p.abiMajor) ||
    p.abiMajor < 0 ||
    p.abiMajor > 255 ||
    !Number.isInteger(p.abiMinor) ||
    p.abiMinor < 0 ||
    p.abiMinor > 255
  ) {
    throw new TypeError("abiMajor and abiMinor must be integers 0..255");
  }
  let v = BigInt(p.abiMinor) | (BigInt(p.abiMajor) << 8n) | POLICY_MUST_BE_ONE;
  if (p.smt) v |= 1n << POLICY_BITS.smt;
  if (p.migrateMa) v |= 1n << POLICY_BITS.migrateMa;
  if (p.debug) v |= 1n << POLICY_BITS.debug;
  if (p.singleSocket) v |= 1n << POLICY_BITS.singleSocket;
  return v;
}

/** Canonical hex of an unsigned integer: `0x` + lower-case digits without leading zeros (`0x0` for zero). */
export function toCanonicalHex(value: bigint): string {
  if (value < 0n) throw new TypeError("value must be unsigned");
  return `0x${value.toString(16)}`;
}

/** Parses canonical (or any `0x`-prefixed) hex into a bigint. */
export function fromHex(value: string): bigint {
  if (!/^0x[0-9a-fA-F]+$/.test(value)) throw new TypeError(`not a 0x-prefixed hex integer: ${JSON.stringify(value)}`);
  return BigInt(value);
}

/**
 * POLICY flag bits of a report that the manifest does not allow (0n when the policy is acceptable).
 * Bits 0..15 (ABI version) are never flagged; bit 17 is always allowed.
 * @param reportPolicy - the report's POLICY field.
 */
export function disallowedPolicyBits(
  manifest: Pick<GoldenManifest, "allowedPolicyBits">,
  reportPolicy: bigint,
): bigint {
  const allowed = fromHex(manifest.allowedPolicyBits) | POLICY_MUST_BE_ONE | POLICY_ABI_MASK;
  return reportPolicy & ~allowed & 0xffff_ffff_ffff_ffffn;
}

/** Flag bits (16..63) of a launch policy, i.e. the policy without its ABI version fields. */
export function policyFlagBits(policy: bigint): bigint {
  return policy & ~POLICY_ABI_MASK;
}
