/**
 * The SEV-SNP launch digest (the guest context's LD): a SHA-384 chain over one PAGE_INFO record per
 * page the VMM adds with SNP_LAUNCH_UPDATE. AMD SEV-SNP Firmware ABI Specification (#56860),
 * section 8.17 "SNP_LAUNCH_UPDATE", table "PAGE_INFO Structure".
 */
import { hash } from "node:crypto";

/** Bytes in a page. */
export const PAGE_SIZE = 4096;
/** Bytes in a launch digest (SHA-384). */
export const LAUNCH_DIGEST_SIZE = 48;
/**
 * GPA recorded for every VMSA page: the RMP's "-1" page, page-aligned with the bits above 47
 * cleared, as the reference tool and KVM record it. A constant, not a derivation.
 */
export const VMSA_GPA = 0xffff_ffff_f000;

/** PAGE_TYPE values of PAGE_INFO (SNP ABI, table "PAGE_TYPE Field Encodings"). */
export const PAGE_TYPES = {
  normal: 0x01,
  vmsa: 0x02,
  zero: 0x03,
  unmeasured: 0x04,
  secrets: 0x05,
  cpuid: 0x06,
} as const;

// PAGE_INFO layout: 0x00 current LD (48), 0x30 CONTENTS (48), 0x60 LENGTH u16 = 0x70, 0x62 PAGE_TYPE,
// 0x63 IMI_PAGE, 0x64..0x66 VMPL3..VMPL1 permissions, 0x67 reserved, 0x68 GPA u64.
const RECORD_SIZE = 0x70;
const CONTENTS = 0x30;
const PAGE_TYPE = 0x62;
const GPA = 0x68;

function checkGpa(gpa: number): void {
  if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa % PAGE_SIZE !== 0)
    throw new RangeError(`GPA ${gpa} is not a page-aligned non-negative integer`);
}

function checkLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0 || length % PAGE_SIZE !== 0)
    throw new RangeError(`length ${length} is not a multiple of ${PAGE_SIZE}`);
}

/**
 * A launch-digest accumulator with one method per SNP page type. Methods return `this`, so calls
 * chain. One PAGE_INFO buffer is reused for every record, so measuring allocates only the digests.
 * Arguments that break the page rules (unaligned GPA, partial page) are caller misuse: `RangeError`.
 * @example
 * const ld = new LaunchDigest();
 * ld.normalPages(0xffc0_0000, ovmf).zeroPages(0x80_0000, 0x9000).secretsPage(0x80_d000).cpuidPage(0x80_e000);
 * ld.vmsaPage(bspVmsa);
 * ld.digest(); // 48-byte MEASUREMENT
 */
export class LaunchDigest {
  private readonly record = Buffer.alloc(RECORD_SIZE);

  /** Starts from 48 zero bytes, or from `seed` (e.g. a precomputed `snp:ovmf-hash` digest). */
  constructor(seed?: Uint8Array) {
    if (seed !== undefined) {
      if (!(seed instanceof Uint8Array) || seed.length !== LAUNCH_DIGEST_SIZE)
        throw new TypeError(`seed must be ${LAUNCH_DIGEST_SIZE} bytes`);
      this.record.set(seed, 0);
    }
    this.record.writeUInt16LE(RECORD_SIZE, 0x60);
  }

  /** The current digest (a copy, 48 bytes). */
  digest(): Buffer {
    return Buffer.from(this.record.subarray(0, LAUNCH_DIGEST_SIZE));
  }

  /** NORMAL pages: `data` (whole pages) loaded at `gpa`, `gpa + 4096`, ...; CONTENTS = SHA-384 of each page. */
  normalPages(gpa: number, data: Uint8Array): this {
    checkGpa(gpa);
    checkLength(data.length);
    for (let offset = 0; offset < data.length; offset += PAGE_SIZE) {
      this.update(PAGE_TYPES.normal, gpa + offset, hash("sha384", data.subarray(offset, offset + PAGE_SIZE), "buffer"));
    }
    return this;
  }

  /** One VMSA page (4096 bytes), recorded at {@link VMSA_GPA}. */
  vmsaPage(page: Uint8Array): this {
    if (page.length !== PAGE_SIZE) throw new RangeError(`a VMSA page is ${PAGE_SIZE} bytes, got ${page.length}`);
    return this.update(PAGE_TYPES.vmsa, VMSA_GPA, hash("sha384", page, "buffer"));
  }

  /** The same VMSA page `count` times (identical APs), hashing the page once. */
  vmsaPages(page: Uint8Array, count: number): this {
    if (page.length !== PAGE_SIZE) throw new RangeError(`a VMSA page is ${PAGE_SIZE} bytes, got ${page.length}`);
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count ${count} is not a non-negative integer`);
    const contents = hash("sha384", page, "buffer");
    for (let i = 0; i < count; i++) this.update(PAGE_TYPES.vmsa, VMSA_GPA, contents);
    return this;
  }

  /** ZERO pages covering `length` bytes from `gpa` (one record per page; none when `length` is 0). */
  zeroPages(gpa: number, length: number): this {
    return this.range(PAGE_TYPES.zero, gpa, length);
  }

  /** UNMEASURED pages covering `length` bytes from `gpa` (one record per page). */
  unmeasuredPages(gpa: number, length: number): this {
    return this.range(PAGE_TYPES.unmeasured, gpa, length);
  }

  /** One SECRETS page at `gpa`. */
  secretsPage(gpa: number): this {
    checkGpa(gpa);
    return this.update(PAGE_TYPES.secrets, gpa, null);
  }

  /** One CPUID page at `gpa`. */
  cpuidPage(gpa: number): this {
    checkGpa(gpa);
    return this.update(PAGE_TYPES.cpuid, gpa, null);
  }

  private range(type: number, gpa: number, length: number): this {
    checkGpa(gpa);
    checkLength(length);
    for (let offset = 0; offset < length; offset += PAGE_SIZE) this.update(type, gpa + offset, null);
    return this;
  }

  /** LD := SHA-384(PAGE_INFO). `contents` null means 48 zero bytes. */
  private update(type: number, gpa: number, contents: Buffer | null): this {
    const r = this.record;
    if (contents === null) r.fill(0, CONTENTS, CONTENTS + LAUNCH_DIGEST_SIZE);
    else contents.copy(r, CONTENTS);
    r[PAGE_TYPE] = type;
    r.writeUInt32LE(gpa % 0x1_0000_0000, GPA);
    r.writeUInt32LE(Math.floor(gpa / 0x1_0000_0000), GPA + 4);
    hash("sha384", r, "buffer").copy(r, 0);
    return this;
  }
}
