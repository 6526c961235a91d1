/**
 * The SEV hashes table QEMU writes into guest memory for measured direct boot
 * (`-kernel/-initrd/-append` with kernel-hashes): SHA-256 of the kernel, initrd and command line,
 * which OVMF checks before it runs them. Layout: QEMU `target/i386/sev.c` (`SevHashTable`,
 * `PaddedSevHashTable`), GUIDs from edk2 `OvmfPkg/AmdSev/BlobVerifierLibSevHashes`.
 */
import { hash } from "node:crypto";
import { guidBytes } from "./guid.js";
import { PAGE_SIZE } from "./gctx.js";

/** Bytes of the table without padding (header 18 + three 50-byte entries). */
export const SEV_HASHES_TABLE_LENGTH = 168;
/** Bytes of the table as measured: padded with zeros to a multiple of 16. */
export const SEV_HASHES_TABLE_PADDED_LENGTH = 176;

const HEADER_GUID = guidBytes("9438d606-4f22-4cc9-b479-a793d411fd21");
const ENTRY_GUIDS = {
  cmdline: guidBytes("97d02dd8-bd20-4c94-aa78-e7714d36ab2a"),
  initrd: guidBytes("44baf731-3a2f-4bd7-9af1-41e29169781d"),
  kernel: guidBytes("4de79437-abd2-427f-b835-d5b172d2045b"),
} as const;
const ENTRY_LENGTH = 50; // GUID 16 + u16 length + SHA-256 32

/** The three SHA-256 digests the table carries (32 bytes each). */
export interface SevHashes {
  readonly kernel: Uint8Array;
  readonly initrd: Uint8Array;
  readonly cmdline: Uint8Array;
}

/** SHA-256 of the empty string: the initrd digest when no initrd is given. */
export const EMPTY_SHA256 = hash("sha256", Buffer.alloc(0), "buffer");

/**
 * SHA-256 of a command line as QEMU hashes it: its UTF-8 bytes plus one trailing NUL. No command
 * line and the empty string both hash the single byte 0x00.
 */
export function cmdlineSha256(cmdline: string | undefined): Buffer {
  const bytes = Buffer.from(`${cmdline ?? ""}\0`, "utf8");
  return hash("sha256", bytes, "buffer");
}

/**
 * The 176-byte padded SEV hashes table: header GUID, length 168, then the cmdline, initrd and kernel
 * entries (in that order), then 8 zero bytes.
 */
export function sevHashesTable(hashes: SevHashes): Buffer {
  const table = Buffer.alloc(SEV_HASHES_TABLE_PADDED_LENGTH);
  HEADER_GUID.copy(table, 0);
  table.writeUInt16LE(SEV_HASHES_TABLE_LENGTH, 16);
  let at = 18;
  for (const name of ["cmdline", "initrd", "kernel"] as const) {
    const digest = hashes[name];
    if (digest.length !== 32) throw new RangeError(`${name} digest must be 32 bytes`);
    ENTRY_GUIDS[name].copy(table, at);
    table.writeUInt16LE(ENTRY_LENGTH, at + 16);
    table.set(digest, at + 18);
    at += ENTRY_LENGTH;
  }
  return table;
}

/**
 * The page SNP measures for direct boot: a zero page holding the padded table at `offsetInPage`
 * (the table GPA's offset within its page, e.g. 0xC00 for GPA 0x810C00).
 */
export function sevHashesPage(table: Uint8Array, offsetInPage: number): Buffer {
  if (!Number.isInteger(offsetInPage) || offsetInPage < 0 || offsetInPage + table.length > PAGE_SIZE) {
    throw new RangeError(`a ${table.length}-byte table does not fit at offset ${offsetInPage} of a page`);
  }
  const page = Buffer.alloc(PAGE_SIZE);
  page.set(table, offsetInPage);
  return page;
}
