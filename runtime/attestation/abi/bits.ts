/**
 * Bit fields of the report (AMD SEV-SNP ABI spec 56860): guest POLICY ("Guest Policy Structure"),
 * PLATFORM_INFO and KEY_INFO (the signer-info word at 0x48). Decoding is total; the structural
 * rules (reserved bits) are enforced by the report parser.
 */

/** Decoded guest policy (u64 at 0x08). */
export interface GuestPolicy {
  readonly raw: bigint;
  readonly abiMinor: number;
  readonly abiMajor: number;
  /** Bit 16: the host may run the guest with SMT enabled. */
  readonly smt: boolean;
  /** Bit 17: reserved, must be 1. */
  readonly reservedBit17: boolean;
  /** Bit 18: the guest may be associated with a migration agent. */
  readonly migrateMa: boolean;
  /** Bit 19: the host may debug (decrypt) the guest. */
  readonly debug: boolean;
  /** Bit 20: the guest may run on one socket only. */
  readonly singleSocket: boolean;
  /** Bit 21: CXL may be populated with guest memory. */
  readonly cxlAllow: boolean;
  /** Bit 22: AES-256-XTS memory encryption required. */
  readonly memAes256Xts: boolean;
  /** Bit 23: RAPL must be disabled. */
  readonly raplDis: boolean;
  /** Bit 24: ciphertext hiding for DRAM required. */
  readonly ciphertextHiding: boolean;
  /** Bit 25: page swap disabled (v5-era firmware). */
  readonly pageSwapDisable: boolean;
}

/** Policy bits a caller may set when building a policy word, by name. */
export type GuestPolicyFlags = Partial<Omit<GuestPolicy, "raw" | "abiMinor" | "abiMajor" | "reservedBit17">> & {
  readonly abiMinor?: number;
  readonly abiMajor?: number;
};

const POLICY_BITS = {
  smt: 16,
  reservedBit17: 17,
  migrateMa: 18,
  debug: 19,
  singleSocket: 20,
  cxlAllow: 21,
  memAes256Xts: 22,
  raplDis: 23,
  ciphertextHiding: 24,
  pageSwapDisable: 25,
} as const;

const bit = (raw: bigint, n: number): boolean => ((raw >> BigInt(n)) & 1n) === 1n;

/** Bits 63:26 of POLICY are reserved and must be zero. */
export const POLICY_RESERVED_MASK = ~((1n << 26n) - 1n) & 0xffffffffffffffffn;

/** Decodes a POLICY word. */
export function decodePolicy(raw: bigint): GuestPolicy {
  return {
    raw,
    abiMinor: Number(raw & 0xffn),
    abiMajor: Number((raw >> 8n) & 0xffn),
    smt: bit(raw, POLICY_BITS.smt),
    reservedBit17: bit(raw, POLICY_BITS.reservedBit17),
    migrateMa: bit(raw, POLICY_BITS.migrateMa),
    debug: bit(raw, POLICY_BITS.debug),
    singleSocket: bit(raw, POLICY_BITS.singleSocket),
    cxlAllow: bit(raw, POLICY_BITS.cxlAllow),
    memAes256Xts: bit(raw, POLICY_BITS.memAes256Xts),
    raplDis: bit(raw, POLICY_BITS.raplDis),
    ciphertextHiding: bit(raw, POLICY_BITS.ciphertextHiding),
    pageSwapDisable: bit(raw, POLICY_BITS.pageSwapDisable),
  };
}

/** Encodes policy flags into a POLICY word (bit 17 always set, as the firmware requires). */
export function encodePolicy(flags: GuestPolicyFlags): bigint {
  let raw = BigInt(flags.abiMinor ?? 0) | (BigInt(flags.abiMajor ?? 0) << 8n) | (1n << 17n);
  for (const [name, n] of Object.entries(POLICY_BITS)) {
    if (name !== "reservedBit17" && flags[name as keyof GuestPolicyFlags] === true) raw |= 1n << BigInt(n);
  }
  return raw;
}

/** Decoded PLATFORM_INFO (u64 at 0x40). */
export interface PlatformInfo {
  readonly raw: bigint;
  /** Bit 0: SMT is enabled on the host. */
  readonly smtEnabled: boolean;
  /** Bit 1: TSME is enabled. */
  readonly tsmeEnabled: boolean;
  /** Bit 2: ECC memory is in use. */
  readonly eccEnabled: boolean;
  /** Bit 3: RAPL is disabled. */
  readonly raplDisabled: boolean;
  /** Bit 4: ciphertext hiding for DRAM is enabled. */
  readonly ciphertextHidingEnabled: boolean;
  /** Bit 5: the firmware completed the memory alias check (BadRAM mitigation, AMD-SB-3015). */
  readonly aliasCheckComplete: boolean;
  /** Bit 6: reserved in go-sev-guest and virtee, set on real Turin reports (reportedly IOMMU write-safe); informational. */
  readonly bit6: boolean;
  /** Bit 7: SEV-TIO is enabled. */
  readonly tioEnabled: boolean;
  /** Bits 63:8 (not defined by the specification we know). */
  readonly unknownBits: bigint;
}

/** Decodes a PLATFORM_INFO word. */
export function decodePlatformInfo(raw: bigint): PlatformInfo {
  return {
    raw,
    smtEnabled: bit(raw, 0),
    tsmeEnabled: bit(raw, 1),
    eccEnabled: bit(raw, 2),
    raplDisabled: bit(raw, 3),
    ciphertextHidingEnabled: bit(raw, 4),
    aliasCheckComplete: bit(raw, 5),
    bit6: bit(raw, 6),
    tioEnabled: bit(raw, 7),
    unknownBits: raw >> 8n,
  };
}

/** The key that signed a report (KEY_INFO bits 4:2). */
export type SigningKey = "vcek" | "vlek" | "none";

/** Decoded KEY_INFO (u32 at 0x48). */
export interface KeyInfo {
  readonly raw: number;
  /** Bit 0: AUTHOR_KEY_DIGEST is present. */
  readonly authorKeyEn: boolean;
  /** Bit 1: the firmware masked the chip key (report unsigned). */
  readonly maskChipKey: boolean;
  /** Bits 4:2: 0 VCEK, 1 VLEK, 7 none; 2-6 reserved (refused by the parser). */
  readonly signingKey: SigningKey;
}

/** Decodes KEY_INFO; reserved encodings are refused by the parser before this is called. */
export function decodeKeyInfo(raw: number): KeyInfo {
  const sel = (raw >> 2) & 0x7;
  return {
    raw,
    authorKeyEn: (raw & 1) === 1,
    maskChipKey: (raw & 2) === 2,
    signingKey: sel === 0 ? "vcek" : sel === 1 ? "vlek" : "none",
  };
}

/** Encodes KEY_INFO. */
export function encodeKeyInfo(k: {
  readonly signingKey: SigningKey;
  readonly authorKeyEn?: boolean;
  readonly maskChipKey?: boolean;
}): number {
  const sel = k.signingKey === "vcek" ? 0 : k.signingKey === "vlek" ? 1 : 7;
  return (k.authorKeyEn ? 1 : 0) | (k.maskChipKey ? 2 : 0) | (sel << 2);
}
