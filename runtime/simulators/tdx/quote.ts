/**
 * Byte-exact TDX quotes (version 4 with a TD 1.0 body, or version 5 with a TD 1.5 body) signed by the simulated
 * platform: the layout Intel's Quote Generation Library writes (see runtime/attestation/tdx/quote.ts), a QE report
 * signed by the PCK key binding the attestation key (SHA-256(key || QE auth data) || 0^32), the PCK chain as PEM
 * with a trailing NUL, and the quote signed by the attestation key over header and body.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign as cryptoSign } from "node:crypto";
import { INTEL_QE_VENDOR_ID } from "../../attestation/index.js";
import { SIMULATED_QE, type SimulatedTdxPki, type SimulatedTdxPlatformFacts } from "./pki.js";

/** What a simulated TD claims. Hex strings; absent fields are zero (RTMRs, MRCONFIGID, owner fields). */
export interface SimulatedTdReport {
  readonly mrTd: string;
  readonly rtmrs?: readonly [string, string, string, string];
  /** 64 bytes. */
  readonly reportData: Uint8Array;
  /** TDATTRIBUTES, little-endian u64 (default SEPT_VE_DISABLE only; set bit 0 for a debug TD). */
  readonly tdAttributes?: bigint;
  readonly xfam?: string;
  readonly mrConfigId?: string;
  readonly mrSeam?: string;
  /** 5 gives a v5 quote with a TD 1.5 body. Default 4. */
  readonly version?: 4 | 5;
}

/** The Quoting Enclave's attestation key of a simulated platform. */
export function newAttestationKey(): { privateKey: KeyObject; xy: Buffer } {
  const k = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const jwk = k.publicKey.export({ format: "jwk" }) as { x: string; y: string };
  return {
    privateKey: k.privateKey,
    xy: Buffer.concat([Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]),
  };
}

const zeros = (n: number) => Buffer.alloc(n);
const hexBytes = (h: string | undefined, n: number, what: string) => {
  const b = h === undefined ? zeros(n) : Buffer.from(h, "hex");
  if (b.length !== n) throw new TypeError(`simulated TD report: ${what} must be ${n} bytes`);
  return b;
};
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** The QE report (384 bytes) binding `attestationKey` with `authData`. */
function qeReport(f: SimulatedTdxPlatformFacts, attestationKey: Buffer, authData: Buffer): Buffer {
  const r = Buffer.alloc(384);
  Buffer.from(f.sgxTcb).copy(r, 0);
  Buffer.from(SIMULATED_QE.attributes, "hex").copy(r, 48);
  createHash("sha256").update("simulated TD QE").digest().copy(r, 64);
  Buffer.from(SIMULATED_QE.mrSigner, "hex").copy(r, 128);
  r.writeUInt16LE(SIMULATED_QE.isvProdId, 256);
  r.writeUInt16LE(SIMULATED_QE.isvSvn, 258);
  createHash("sha256").update(attestationKey).update(authData).digest().copy(r, 320);
  return r;
}

/**
 * Builds and signs a quote.
 *
 * @example
 * const quote = simulatedTdxQuote(pki, SIMULATED_TDX_FACTS, newAttestationKey(), { mrTd, reportData });
 */
export function simulatedTdxQuote(
  pki: SimulatedTdxPki,
  f: SimulatedTdxPlatformFacts,
  key: { privateKey: KeyObject; xy: Buffer },
  td: SimulatedTdReport,
): Buffer {
  if (td.reportData.length !== 64) throw new TypeError("simulated TD report: reportData must be 64 bytes");
  const version = td.version ?? 4;
  const attrs = Buffer.alloc(8);
  attrs.writeBigUInt64LE(td.tdAttributes ?? 1n << 28n);
  const rtmrs = td.rtmrs ?? ["", "", "", ""];
  const body = Buffer.concat([
    hexBytes(f.teeTcbSvn, 16, "teeTcbSvn"),
    hexBytes(td.mrSeam ?? "5a".repeat(48), 48, "mrSeam"),
    zeros(48), // MRSIGNERSEAM: Intel's module
    zeros(8), // SEAMATTRIBUTES
    attrs,
    hexBytes(td.xfam ?? "e702060000000000", 8, "xfam"),
    hexBytes(td.mrTd, 48, "mrTd"),
    hexBytes(td.mrConfigId, 48, "mrConfigId"),
    zeros(48), // MROWNER
    zeros(48), // MROWNERCONFIG
    ...rtmrs.map((r, i) => hexBytes(r === "" ? undefined : r, 48, `rtmr${i}`)),
    Buffer.from(td.reportData),
    ...(version === 5 ? [zeros(16), zeros(48)] : []),
  ]);
  const header = Buffer.concat([
    u16(version),
    u16(2),
    u32(0x81),
    zeros(4),
    Buffer.from(INTEL_QE_VENDOR_ID, "hex"),
    createHash("sha256").update(key.xy).digest().subarray(0, 20),
  ]);
  const signed = Buffer.concat([header, ...(version === 5 ? [u16(3), u32(body.length)] : []), body]);
  const authData = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const report = qeReport(f, key.xy, authData);
  const chain = Buffer.concat([Buffer.from(pki.pckChainPem, "latin1"), Buffer.from([0])]);
  const certification = Buffer.concat([
    report,
    cryptoSign("sha256", report, { key: pki.pckKey, dsaEncoding: "ieee-p1363" }),
    u16(authData.length),
    authData,
    u16(5),
    u32(chain.length),
    chain,
  ]);
  const signatureData = Buffer.concat([
    cryptoSign("sha256", signed, { key: key.privateKey, dsaEncoding: "ieee-p1363" }),
    key.xy,
    u16(6),
    u32(certification.length),
    certification,
  ]);
  return Buffer.concat([signed, u32(signatureData.length), signatureData]);
}
