/**
 * Parsing of an OVMF (or Coconut-SVSM) image: the GUIDed footer table at the end of the image and
 * the SEV metadata ("ASEV") section list it points to. Layouts follow edk2
 * `OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm` (footer table) and
 * `OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm` (ASEV list).
 */
import { SnpMeasurementError } from "./errors.js";
import { guidBytes, guidText } from "./guid.js";

/** GUIDs of the footer-table entries the calculator reads. */
export const FOOTER_GUIDS = {
  /** The table's own footer entry, 50 bytes before the end of the image. */
  footer: "96b582de-1fb2-45f7-baea-a366c55a082d",
  /** SEV-ES reset block: `u32` AP reset EIP. */
  sevEsResetBlock: "00f771de-1a7e-4fcb-890e-68c77e2fb44e",
  /** SEV metadata: `u32` offset of the ASEV header from the end of the image. */
  sevMetadata: "dc886566-984a-4798-a75e-5585a7bf67cc",
  /** SEV hashes table: `u32` GPA, `u32` size of the area QEMU writes the kernel hashes into. */
  sevHashesTable: "7255371f-3a3b-4b04-927b-1da6efa8d454",
  /** Coconut-SVSM info: `u32` entry-point offset from the SVSM base. */
  svsmInfo: "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd",
} as const;

/** SEV metadata section types (edk2 `OvmfSevMetadata.asm`, `OVMF_SECTION_TYPE_*`). */
export const SECTION_TYPES = { snpSecMem: 1, snpSecrets: 2, cpuid: 3, svsmCaa: 4, snpKernelHashes: 0x10 } as const;

/** Section type names by number, as the SEV metadata spells them. */
export const SECTION_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "SNP_SEC_MEM",
  2: "SNP_SECRETS",
  3: "CPUID",
  4: "SVSM_CAA",
  0x10: "SNP_KERNEL_HASHES",
};

/** One entry of the ASEV list. `type` is kept raw: unknown types fail only in modes that measure sections. */
export interface SevMetadataSection {
  /** Guest physical address of the section. */
  readonly gpa: number;
  /** Size in bytes (0 happens: such sections add no pages). */
  readonly size: number;
  /** Section type number (see {@link SECTION_TYPES}). */
  readonly type: number;
}

/** What the calculator needs from a firmware image. Absent entries are `undefined`. */
export interface FirmwareLayout {
  /** Image size in bytes. */
  readonly size: number;
  /** Whether the footer table's footer GUID was found (without it every entry below is absent). */
  readonly hasFooterTable: boolean;
  /** Footer-table payloads by lower-case GUID text (the entry nearest the table start wins, as upstream). */
  readonly entries: ReadonlyMap<string, Buffer>;
  /** The ASEV section list, in table order; `undefined` when the image has no SEV metadata entry. */
  readonly sevMetadata: readonly SevMetadataSection[] | undefined;
  /** AP reset EIP from the SEV-ES reset block. */
  readonly resetEip: number | undefined;
  /** The SEV hashes table area (GPA 0 means the firmware does not support kernel hashes). */
  readonly hashesTable: { readonly gpa: number; readonly size: number | undefined } | undefined;
  /** Coconut-SVSM entry offset from the image base. */
  readonly svsmEntryOffset: number | undefined;
}

const ENTRY_HEADER = 18; // u16 length + 16-byte GUID, at the end of every entry
const RESET_AREA = 32; // the last 32 bytes of the image hold the reset vector, not the table
const FOOTER_GUID = guidBytes(FOOTER_GUIDS.footer);

function u32(payload: Buffer, field: string, what: string): number {
  if (payload.length < 4)
    throw new SnpMeasurementError(
      "FOOTER_TABLE_INVALID",
      field,
      `${what} entry of the footer table is ${payload.length} bytes, expected at least 4`,
    );
  return payload.readUInt32LE(0);
}

function readFooterTable(image: Buffer, field: string): Map<string, Buffer> | undefined {
  const footerAt = image.length - RESET_AREA - ENTRY_HEADER;
  if (footerAt < 0 || !image.subarray(footerAt + 2, footerAt + ENTRY_HEADER).equals(FOOTER_GUID)) return undefined;
  const tableLength = image.readUInt16LE(footerAt);
  if (tableLength < ENTRY_HEADER || tableLength - ENTRY_HEADER > footerAt) {
    throw new SnpMeasurementError(
      "FOOTER_TABLE_INVALID",
      field,
      `footer table length ${tableLength} does not fit the image`,
    );
  }
  const entries = new Map<string, Buffer>();
  const start = footerAt - (tableLength - ENTRY_HEADER);
  let end = footerAt; // entries are walked backwards from the footer
  while (end - start >= ENTRY_HEADER) {
    const length = image.readUInt16LE(end - ENTRY_HEADER);
    if (length < ENTRY_HEADER || length > end - start) {
      throw new SnpMeasurementError(
        "FOOTER_TABLE_INVALID",
        field,
        `footer table entry at offset ${end - ENTRY_HEADER} has invalid length ${length}`,
      );
    }
    entries.set(
      guidText(image.subarray(end - ENTRY_HEADER + 2, end)),
      image.subarray(end - length, end - ENTRY_HEADER),
    );
    end -= length;
  }
  return entries;
}

function readSevMetadata(image: Buffer, offsetFromEnd: number, field: string): SevMetadataSection[] {
  const start = image.length - offsetFromEnd;
  if (offsetFromEnd === 0 || start < 0 || start + 16 > image.length) {
    throw new SnpMeasurementError(
      "SEV_METADATA_INVALID",
      field,
      `SEV metadata offset ${offsetFromEnd} from the end points outside the image`,
    );
  }
  if (image.toString("latin1", start, start + 4) !== "ASEV") {
    throw new SnpMeasurementError("SEV_METADATA_SIGNATURE", field, 'wrong SEV metadata signature (expected "ASEV")');
  }
  const length = image.readUInt32LE(start + 4);
  const version = image.readUInt32LE(start + 8);
  const count = image.readUInt32LE(start + 12);
  if (version !== 1)
    throw new SnpMeasurementError("SEV_METADATA_VERSION", field, `wrong SEV metadata version ${version} (expected 1)`);
  const end = Math.min(start + length, image.length);
  if (start + 16 + count * 12 > end) {
    throw new SnpMeasurementError(
      "SEV_METADATA_INVALID",
      field,
      `SEV metadata lists ${count} sections but holds only ${Math.max(0, Math.floor((end - start - 16) / 12))}`,
    );
  }
  const sections: SevMetadataSection[] = [];
  for (let i = 0, at = start + 16; i < count; i++, at += 12) {
    sections.push({ gpa: image.readUInt32LE(at), size: image.readUInt32LE(at + 4), type: image.readUInt32LE(at + 8) });
  }
  return sections;
}

/**
 * Reads the footer table and SEV metadata of a firmware image. An image without the footer GUID
 * parses as an empty table (as the reference tool does); whether that is acceptable depends on the
 * mode and is decided by the measurement.
 * @param image the whole OVMF (or SVSM) image, as loaded into the guest.
 * @param field name used in errors (`ovmf` or `svsm`).
 * @throws SnpMeasurementError `FOOTER_TABLE_INVALID`, `SEV_METADATA_INVALID`, `SEV_METADATA_SIGNATURE`, `SEV_METADATA_VERSION`.
 */
export function parseFirmware(image: Uint8Array, field = "ovmf"): FirmwareLayout {
  const buf = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const table = readFooterTable(buf, field);
  const entries = table ?? new Map<string, Buffer>();
  const metadata = entries.get(FOOTER_GUIDS.sevMetadata);
  const reset = entries.get(FOOTER_GUIDS.sevEsResetBlock);
  const hashes = entries.get(FOOTER_GUIDS.sevHashesTable);
  const svsm = entries.get(FOOTER_GUIDS.svsmInfo);
  return {
    size: buf.length,
    hasFooterTable: table !== undefined,
    entries,
    sevMetadata: metadata === undefined ? undefined : readSevMetadata(buf, u32(metadata, field, "SEV metadata"), field),
    resetEip: reset === undefined ? undefined : u32(reset, field, "SEV-ES reset block"),
    hashesTable:
      hashes === undefined
        ? undefined
        : {
            gpa: u32(hashes, field, "SEV hashes table"),
            size: hashes.length >= 8 ? hashes.readUInt32LE(4) : undefined,
          },
    svsmEntryOffset: svsm === undefined ? undefined : u32(svsm, field, "SVSM info"),
  };
}
