/** EFI GUIDs in their binary (mixed-endian) form. */

/**
 * The 16 bytes of a GUID as EFI stores it: the first three groups little-endian, the last two as
 * written. `96b582de-1fb2-45f7-baea-a366c55a082d` -> `de82b596 b21f f745 baea a366c55a082d`.
 */
export function guidBytes(text: string): Buffer {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text);
  if (m === null) throw new TypeError(`not a GUID: ${text}`);
  const [, a = "", b = "", c = "", d = "", e = ""] = m;
  const out = Buffer.alloc(16);
  out.writeUInt32LE(parseInt(a, 16), 0);
  out.writeUInt16LE(parseInt(b, 16), 4);
  out.writeUInt16LE(parseInt(c, 16), 6);
  Buffer.from(d + e, "hex").copy(out, 8);
  return out;
}

/** The text form (lower case) of 16 GUID bytes in EFI layout; inverse of {@link guidBytes}. */
export function guidText(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, 16);
  const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
  const tail = b.subarray(8, 16).toString("hex");
  return `${hex(b.readUInt32LE(0), 8)}-${hex(b.readUInt16LE(4), 4)}-${hex(b.readUInt16LE(6), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}
