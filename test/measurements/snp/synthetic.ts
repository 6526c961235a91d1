/** Builds small synthetic firmware images with a chosen footer table and SEV metadata, for error tests. */
import { FOOTER_GUIDS } from "../../../measurements/snp/index.js";

/** GUID text -> EFI byte layout (written independently of the library's helper). */
function guid(text: string): Buffer {
  const h = text.replace(/-/g, "");
  const swap = (s: string) => Buffer.from(s, "hex").reverse();
  return Buffer.concat([
    swap(h.slice(0, 8)),
    swap(h.slice(8, 12)),
    swap(h.slice(12, 16)),
    Buffer.from(h.slice(16), "hex"),
  ]);
}

const u32 = (...values: number[]) =>
  Buffer.concat(
    values.map((v) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v >>> 0);
      return b;
    }),
  );

/** A section of the synthetic ASEV list. */
export interface Section {
  gpa: number;
  size: number;
  type: number;
}

/** What to put in the synthetic image; every field has a working default. */
export interface SyntheticFirmware {
  /** Image size in bytes (default 4096). */
  size?: number;
  /** ASEV sections (default: SEC_MEM, SECRETS, CPUID, KERNEL_HASHES like an AmdSev build); `null` = no metadata entry. */
  sections?: Section[] | null;
  /** ASEV header overrides. */
  asev?: { signature?: string; version?: number; length?: number; count?: number; offsetFromEnd?: number };
  /** AP reset EIP (default 0x80b004); `null` = no reset block. */
  resetEip?: number | null;
  /** Hashes table entry payload (default GPA 0x810c00, size 0x400); `null` = no entry. */
  hashesTable?: Buffer | null;
  /** SVSM info entry offset; absent = no entry. */
  svsmEntry?: number;
  /** Extra raw entries, placed nearest the table start. */
  rawEntries?: Buffer[];
  /** Overrides the footer's table length. */
  footerLength?: number;
  /** Omit the footer GUID entirely. */
  noFooter?: boolean;
}

export const DEFAULT_SECTIONS: Section[] = [
  { gpa: 0x800000, size: 0x9000, type: 1 },
  { gpa: 0x80d000, size: 0x1000, type: 2 },
  { gpa: 0x80e000, size: 0x1000, type: 3 },
  { gpa: 0x810000, size: 0x1000, type: 0x10 },
];

/** An entry of the footer table: payload, u16 length, GUID. */
export function entry(guidText: string, payload: Buffer, length = payload.length + 18): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16LE(length);
  return Buffer.concat([payload, len, guid(guidText)]);
}

/** The synthetic image. The ASEV list sits at offset 0x100 of the image. */
export function firmware(spec: SyntheticFirmware = {}): Buffer {
  const size = spec.size ?? 4096;
  const image = Buffer.alloc(size);
  const sections = spec.sections === undefined ? DEFAULT_SECTIONS : spec.sections;
  const entries: Buffer[] = [...(spec.rawEntries ?? [])];
  if (sections !== null) {
    const a = spec.asev ?? {};
    const count = a.count ?? sections.length;
    const header = Buffer.concat([
      Buffer.from(a.signature ?? "ASEV", "latin1"),
      u32(a.length ?? 16 + 12 * sections.length, a.version ?? 1, count),
    ]);
    const list = Buffer.concat([header, ...sections.map((s) => u32(s.gpa, s.size, s.type))]);
    list.copy(image, 0x100);
    entries.push(entry(FOOTER_GUIDS.sevMetadata, u32(a.offsetFromEnd ?? size - 0x100)));
  }
  if (spec.hashesTable !== null)
    entries.push(entry(FOOTER_GUIDS.sevHashesTable, spec.hashesTable ?? u32(0x810c00, 0x400)));
  if (spec.resetEip !== null) entries.push(entry(FOOTER_GUIDS.sevEsResetBlock, u32(spec.resetEip ?? 0x80b004)));
  if (spec.svsmEntry !== undefined) entries.push(entry(FOOTER_GUIDS.svsmInfo, u32(spec.svsmEntry)));
  if (spec.noFooter !== true) {
    const body = Buffer.concat(entries);
    const table = Buffer.concat([
      body,
      entry(FOOTER_GUIDS.footer, Buffer.alloc(0), spec.footerLength ?? body.length + 18),
    ]);
    table.copy(image, size - 32 - table.length);
  }
  return image;
}

export { u32 };
