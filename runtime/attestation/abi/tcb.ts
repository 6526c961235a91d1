/**
 * TCB_VERSION (8 bytes, little-endian u64). The byte layout depends on the product line
 * (AMD SEV-SNP ABI spec 56860, "TCB_VERSION Structure"; Turin uses the structVersion 1 layout):
 *
 * | byte | Milan / Genoa | Turin |
 * | 0 | BOOT_LOADER | FMC |
 * | 1 | TEE | BOOT_LOADER |
 * | 2 | reserved | TEE |
 * | 3 | reserved | SNP |
 * | 4-5 | reserved | reserved |
 * | 6 | SNP | reserved |
 * | 7 | MICROCODE | MICROCODE |
 */
import type { TcbComponents } from "../../../measurements/drift/index.js";
import type { SnpProduct } from "./product.js";

/** Which byte layout a TCB value was decoded with. */
export type TcbLayout = "milan-genoa" | "turin";

/** A decoded TCB_VERSION. */
export interface TcbVersion extends TcbComponents {
  /** The raw u64 (serialised back byte for byte). */
  readonly raw: bigint;
  readonly layout: TcbLayout;
}

/** The layout a product uses. */
export function tcbLayoutOf(product: SnpProduct): TcbLayout {
  return product === "Turin" ? "turin" : "milan-genoa";
}

const byte = (raw: bigint, i: number): number => Number((raw >> BigInt(8 * i)) & 0xffn);

/** Decodes a raw TCB_VERSION with `layout`. */
export function decodeTcb(raw: bigint, layout: TcbLayout): TcbVersion {
  if (layout === "turin") {
    return {
      raw,
      layout,
      fmc: byte(raw, 0),
      bootloader: byte(raw, 1),
      tee: byte(raw, 2),
      snp: byte(raw, 3),
      microcode: byte(raw, 7),
    };
  }
  return { raw, layout, bootloader: byte(raw, 0), tee: byte(raw, 1), snp: byte(raw, 6), microcode: byte(raw, 7) };
}

/** Encodes TCB components with `layout` (reserved bytes zero); `fmc` is required for Turin and ignored otherwise. */
export function encodeTcb(c: TcbComponents, layout: TcbLayout): bigint {
  const at = (v: number, i: number): bigint => {
    if (!Number.isInteger(v) || v < 0 || v > 255)
      throw new TypeError(`TCB component must be an integer 0-255, got ${v}`);
    return BigInt(v) << BigInt(8 * i);
  };
  if (layout === "turin") {
    if (c.fmc === undefined) throw new TypeError("a Turin TCB needs an fmc component");
    return at(c.fmc, 0) | at(c.bootloader, 1) | at(c.tee, 2) | at(c.snp, 3) | at(c.microcode, 7);
  }
  return at(c.bootloader, 0) | at(c.tee, 1) | at(c.snp, 6) | at(c.microcode, 7);
}

/** The plain components of a TCB (no raw/layout), for claims and comparisons. */
export function tcbComponents(t: TcbVersion): TcbComponents {
  const base = { bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode };
  return t.fmc === undefined ? base : { ...base, fmc: t.fmc };
}

/** Component names present in a layout, in report order. */
export function tcbComponentNames(layout: TcbLayout): readonly (keyof TcbComponents)[] {
  return layout === "turin"
    ? ["fmc", "bootloader", "tee", "snp", "microcode"]
    : ["bootloader", "tee", "snp", "microcode"];
}
