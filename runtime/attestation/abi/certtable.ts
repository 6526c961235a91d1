/**
 * The certificate table an extended report request returns (GHCB spec 56421, "SNP Extended Guest
 * Request"; configfs-tsm `auxblob` for SEV): entries of GUID (16 bytes, RFC 4122 byte order as
 * AMD's sev-guest tools write it) | offset u32 LE | length u32 LE, terminated by an all-zero entry;
 * offsets are from the start of the table.
 */
import { AttestationError } from "../errors.js";

/** GUIDs of the certificate table entries. */
export const CERT_TABLE_GUID = {
  vcek: "63da758d-e664-4564-adc5-f4b93be8accd",
  vlek: "a8074bc2-a25a-483e-aae6-39c045a0b8a1",
  /** ASK, or ASVK in a VLEK table. */
  ask: "4ab7b379-bbac-4fe4-a02f-05aef327c782",
  ark: "c0b406a4-a803-4952-9743-3fb6014cd0ae",
} as const;

/** One entry: GUID (lower-case, dashed) and its bytes. */
export interface CertTableEntry {
  readonly guid: string;
  readonly data: Buffer;
}

const ENTRY = 24;

const guidToBytes = (g: string): Buffer => Buffer.from(g.replace(/-/g, ""), "hex");
function bytesToGuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function malformed(message: string): AttestationError {
  return new AttestationError("EVIDENCE_MALFORMED", `parsing certificate table: ${message}`, { path: "certTable" });
}

/** Parses a certificate table; every entry must lie inside the buffer. */
export function parseCertTable(table: Uint8Array): CertTableEntry[] {
  const b = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  const out: CertTableEntry[] = [];
  for (let off = 0; ; off += ENTRY) {
    if (off + ENTRY > b.length) throw malformed("no terminating all-zero entry");
    const guid = b.subarray(off, off + 16);
    const offset = b.readUInt32LE(off + 16);
    const length = b.readUInt32LE(off + 20);
    if (guid.every((x) => x === 0) && offset === 0 && length === 0) return out;
    if (offset + length > b.length || offset < off + ENTRY)
      throw malformed(`entry ${out.length} (offset ${offset}, length ${length}) lies outside the table data`);
    out.push({ guid: bytesToGuid(guid), data: Buffer.from(b.subarray(offset, offset + length)) });
  }
}

/** Serialises entries into a certificate table (header, terminator, then the data in order). */
export function serializeCertTable(entries: readonly CertTableEntry[]): Buffer {
  const header = Buffer.alloc((entries.length + 1) * ENTRY);
  let offset = header.length;
  entries.forEach((e, i) => {
    guidToBytes(e.guid).copy(header, i * ENTRY);
    header.writeUInt32LE(offset, i * ENTRY + 16);
    header.writeUInt32LE(e.data.length, i * ENTRY + 20);
    offset += e.data.length;
  });
  return Buffer.concat([header, ...entries.map((e) => e.data)]);
}

/** The VEK, intermediate and ARK found in a table (by GUID), for `verifySnpEvidence`'s collateral. */
export function collateralFromCertTable(table: Uint8Array): { vek?: Buffer; intermediate?: Buffer; ark?: Buffer } {
  const by = new Map(parseCertTable(table).map((e) => [e.guid, e.data] as const));
  const vek = by.get(CERT_TABLE_GUID.vcek) ?? by.get(CERT_TABLE_GUID.vlek);
  const intermediate = by.get(CERT_TABLE_GUID.ask);
  const ark = by.get(CERT_TABLE_GUID.ark);
  return { ...(vek ? { vek } : {}), ...(intermediate ? { intermediate } : {}), ...(ark ? { ark } : {}) };
}
