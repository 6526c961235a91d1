/**
 * Intel TDX quotes, versions 4 and 5 (Intel's "TDX DCAP Quote Generation Library" layout), parsed strictly and
 * purely. Little-endian integers; every length is checked against the bytes that are there, so a malformed quote is
 * `QUOTE_MALFORMED` naming the field, never a read past the end.
 *
 *   header 48 | [v5: body type u16, body size u32] | TD body (TD 1.0: 584, TD 1.5: 648) | u32 L | signature data L | extra
 *
 * Signature data: quote signature r||s 64 | attestation key X||Y 64 | certification data type u16 (6) | size u32 |
 * QE report 384 | QE report signature 64 | QE auth data size u16 | QE auth data | type u16 (5) | size u32 | PCK chain
 * (PEM). Bytes after the signature data (zero padding in real buffers) are kept as `extraBytes` and not signed.
 */
import { AttestationError } from "../errors.js";

/** Header and body sizes. */
export const TDX_HEADER_SIZE = 48;
const TD10_BODY = 584;
const TD15_BODY = 648;
const QE_REPORT_SIZE = 384;
/** TEE type of TDX in the header. */
export const TDX_TEE_TYPE = 0x81;
/** Intel's Quoting Enclave vendor id. */
export const INTEL_QE_VENDOR_ID = "939a7233f79c4ca9940a0db3957f0607";

/** The TD report body the quote signs (TD 1.5 adds the last two fields). */
export interface TdxBody {
  readonly teeTcbSvn: Buffer;
  readonly mrSeam: Buffer;
  readonly mrSignerSeam: Buffer;
  readonly seamAttributes: Buffer;
  readonly tdAttributes: Buffer;
  readonly xfam: Buffer;
  readonly mrTd: Buffer;
  readonly mrConfigId: Buffer;
  readonly mrOwner: Buffer;
  readonly mrOwnerConfig: Buffer;
  readonly rtmrs: readonly [Buffer, Buffer, Buffer, Buffer];
  readonly reportData: Buffer;
  /** TD 1.5 only. */
  readonly teeTcbSvn2?: Buffer;
  /** TD 1.5 only. */
  readonly mrServiceTd?: Buffer;
}

/** The TD attribute bits the verifier reads (TDATTRIBUTES, little-endian u64). */
export interface TdAttributes {
  /** Bit 0: the TD is debuggable (the host can read its memory). */
  readonly debug: boolean;
  /** Bit 28: EPT violations are not converted to #VE. */
  readonly septVeDisable: boolean;
  /** Bit 30: protection keys for supervisor pages. */
  readonly pks: boolean;
  /** Bit 31: key locker. */
  readonly kl: boolean;
  /** Bit 63: performance monitoring. */
  readonly perfmon: boolean;
}

/** Decodes TDATTRIBUTES (8 bytes, little-endian). */
export function decodeTdAttributes(bytes: Buffer): TdAttributes {
  const v = bytes.readBigUInt64LE(0);
  const bit = (n: number) => ((v >> BigInt(n)) & 1n) === 1n;
  return { debug: bit(0), septVeDisable: bit(28), pks: bit(30), kl: bit(31), perfmon: bit(63) };
}

/** The Quoting Enclave's SGX report (the part the PCK key signs). */
export interface QeReport {
  readonly raw: Buffer;
  readonly cpuSvn: Buffer;
  readonly miscSelect: number;
  readonly attributes: Buffer;
  readonly mrEnclave: Buffer;
  readonly mrSigner: Buffer;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly reportData: Buffer;
}

/** A parsed quote. Buffers are views into the input. */
export interface TdxQuote {
  readonly version: 4 | 5;
  /** `td10` (TD 1.0 report body) or `td15` (TD 1.5). */
  readonly bodyType: "td10" | "td15";
  readonly attestationKeyType: number;
  readonly teeType: number;
  readonly qeVendorId: Buffer;
  readonly userData: Buffer;
  readonly body: TdxBody;
  /** Header, [body descriptor,] body: what the attestation key signs. */
  readonly signedBytes: Buffer;
  /** r||s, big-endian 32 + 32. */
  readonly signature: Buffer;
  /** Raw P-256 point X||Y. */
  readonly attestationKey: Buffer;
  readonly qeReport: QeReport;
  /** r||s of the PCK key over the QE report. */
  readonly qeReportSignature: Buffer;
  readonly qeAuthData: Buffer;
  /** The PCK certificate chain as the quote carries it (PEM text; a trailing NUL removed). */
  readonly pckChainPem: string;
  /** Unsigned bytes after the signature data. */
  readonly extraBytes: number;
}

function malformed(path: string, message: string): AttestationError {
  return new AttestationError("QUOTE_MALFORMED", `parsing TDX quote: ${path}: ${message}`, { path: `quote.${path}` });
}

class Cursor {
  constructor(
    readonly buf: Buffer,
    public at = 0,
  ) {}
  take(n: number, path: string): Buffer {
    if (n < 0 || this.at + n > this.buf.length)
      throw malformed(path, `needs ${n} bytes at offset ${this.at}, the quote has ${this.buf.length - this.at} left`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u16(path: string): number {
    return this.take(2, path).readUInt16LE(0);
  }
  u32(path: string): number {
    return this.take(4, path).readUInt32LE(0);
  }
}

function parseBody(c: Cursor, td15: boolean): TdxBody {
  const f = (n: number, name: string) => c.take(n, `body.${name}`);
  const body = {
    teeTcbSvn: f(16, "teeTcbSvn"),
    mrSeam: f(48, "mrSeam"),
    mrSignerSeam: f(48, "mrSignerSeam"),
    seamAttributes: f(8, "seamAttributes"),
    tdAttributes: f(8, "tdAttributes"),
    xfam: f(8, "xfam"),
    mrTd: f(48, "mrTd"),
    mrConfigId: f(48, "mrConfigId"),
    mrOwner: f(48, "mrOwner"),
    mrOwnerConfig: f(48, "mrOwnerConfig"),
    rtmrs: [f(48, "rtmr0"), f(48, "rtmr1"), f(48, "rtmr2"), f(48, "rtmr3")] as const,
    reportData: f(64, "reportData"),
  };
  return td15 ? { ...body, teeTcbSvn2: f(16, "teeTcbSvn2"), mrServiceTd: f(48, "mrServiceTd") } : body;
}

/** Parses the Quoting Enclave's 384-byte report. */
export function parseQeReport(raw: Buffer): QeReport {
  return {
    raw,
    cpuSvn: raw.subarray(0, 16),
    miscSelect: raw.readUInt32LE(16),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    isvProdId: raw.readUInt16LE(256),
    isvSvn: raw.readUInt16LE(258),
    reportData: raw.subarray(320, 384),
  };
}

/**
 * Parses a TDX quote (v4 or v5). Structure only: nothing is authenticated yet (see `verifyTdxQuote`).
 *
 * @example
 * const q = parseTdxQuote(readFileSync("quote.bin"));
 * q.body.mrTd.toString("hex"); // the TD's build-time measurement
 */
export function parseTdxQuote(bytes: Uint8Array): TdxQuote {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c = new Cursor(buf);
  const version = c.u16("header.version");
  if (version !== 4 && version !== 5) throw malformed("header.version", `${version} is not 4 or 5`);
  const attestationKeyType = c.u16("header.attestationKeyType");
  if (attestationKeyType !== 2)
    throw malformed("header.attestationKeyType", `${attestationKeyType} is not 2 (ECDSA P-256)`);
  const teeType = c.u32("header.teeType");
  if (teeType !== TDX_TEE_TYPE) throw malformed("header.teeType", `0x${teeType.toString(16)} is not 0x81 (TDX)`);
  c.take(4, "header.reserved");
  const qeVendorId = c.take(16, "header.qeVendorId");
  const userData = c.take(20, "header.userData");
  let td15 = false;
  if (version === 5) {
    const type = c.u16("bodyType");
    const size = c.u32("bodySize");
    if (type !== 2 && type !== 3) throw malformed("bodyType", `${type} is not 2 (TD 1.0) or 3 (TD 1.5)`);
    td15 = type === 3;
    const want = td15 ? TD15_BODY : TD10_BODY;
    if (size !== want) throw malformed("bodySize", `${size} is not ${want} for body type ${type}`);
  }
  const body = parseBody(c, td15);
  const signedBytes = buf.subarray(0, c.at);
  const length = c.u32("signatureDataLength");
  const data = new Cursor(c.take(length, "signatureData"));
  const signature = data.take(64, "signatureData.signature");
  const attestationKey = data.take(64, "signatureData.attestationKey");
  const certType = data.u16("signatureData.certificationDataType");
  if (certType !== 6) throw malformed("signatureData.certificationDataType", `${certType} is not 6 (QE report)`);
  const certSize = data.u32("signatureData.certificationDataSize");
  if (certSize !== data.buf.length - data.at)
    throw malformed(
      "signatureData.certificationDataSize",
      `${certSize} differs from the ${data.buf.length - data.at} bytes left`,
    );
  const qeReport = parseQeReport(data.take(QE_REPORT_SIZE, "qeReport"));
  const qeReportSignature = data.take(64, "qeReportSignature");
  const qeAuthData = data.take(data.u16("qeAuthDataSize"), "qeAuthData");
  const innerType = data.u16("pckCertificationDataType");
  if (innerType !== 5) throw malformed("pckCertificationDataType", `${innerType} is not 5 (PCK certificate chain)`);
  const innerSize = data.u32("pckCertificationDataSize");
  if (innerSize !== data.buf.length - data.at)
    throw malformed(
      "pckCertificationDataSize",
      `${innerSize} differs from the ${data.buf.length - data.at} bytes left`,
    );
  let pem = data.take(innerSize, "pckChain");
  if (pem.length > 0 && pem[pem.length - 1] === 0) pem = pem.subarray(0, pem.length - 1);
  if (pem.includes(0)) throw malformed("pckChain", "holds a NUL byte before its end");
  return {
    version,
    bodyType: td15 ? "td15" : "td10",
    attestationKeyType,
    teeType,
    qeVendorId,
    userData,
    body,
    signedBytes,
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChainPem: pem.toString("latin1"),
    extraBytes: buf.length - c.at,
  };
}
