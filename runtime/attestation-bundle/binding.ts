/**
 * How an attestation bundle's evidence binds the runtime's OHTTP key (version 1). The runtime asks
 * for an SNP report whose REPORT_DATA (64 bytes, AMD SEV-SNP ABI table 22, offset 0x50) is
 *
 *   SHA-512( "confidential-inference attestation-bundle v1" || 0x00
 *            || u16(len(key_config)) || key_config                  RFC 9458 section 3.1 encoding
 *            || u64(not_before) || u64(not_after)                   seconds since the Unix epoch
 *            || u8(len(nonce)) || nonce )                           0 bytes, or the client's 16..64
 *
 * (all integers big-endian). A verifier recomputes it from the bundle's fields: a key
 * configuration, validity window or nonce other than the ones the guest hashed changes the digest,
 * so the relay cannot substitute a key, stretch a bundle's lifetime or replay an answer to
 * another client's nonce. The label separates this binding from every other use of REPORT_DATA
 * (the KBS handshake hashes canonical JSON with SHA-384). Pure.
 */
import { createHash } from "node:crypto";

/** The domain-separation label of version 1. */
export const BINDING_LABEL_V1 = "confidential-inference attestation-bundle v1";

/** Shortest and longest client nonce in bytes. */
export const NONCE_BYTES = { min: 16, max: 64 } as const;

/** What the binding covers. */
export interface BindingInput {
  /** The RFC 9458 key configuration bytes (one configuration). */
  readonly keyConfig: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The client's nonce (16..64 bytes), when the bundle was made for one. */
  readonly nonce?: Uint8Array;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function seconds(d: Date, what: string): number {
  const ms = d.getTime();
  if (!Number.isFinite(ms) || ms < 0 || ms % 1000 !== 0)
    throw new TypeError(`binding: ${what} must be a whole number of seconds after the epoch`);
  return ms / 1000;
}

/**
 * The 64-byte REPORT_DATA that binds a key configuration, a validity window and an optional nonce.
 *
 * @example bundleReportData({ keyConfig, notBefore, notAfter }) // Buffer(64)
 */
export function bundleReportData(input: BindingInput): Buffer {
  const nonce = input.nonce ?? new Uint8Array(0);
  if (nonce.length !== 0 && (nonce.length < NONCE_BYTES.min || nonce.length > NONCE_BYTES.max))
    throw new TypeError(`binding: the nonce must be ${NONCE_BYTES.min}..${NONCE_BYTES.max} bytes`);
  if (input.keyConfig.length === 0 || input.keyConfig.length > 0xffff)
    throw new TypeError("binding: the key configuration must be 1..65535 bytes");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(input.keyConfig.length);
  return createHash("sha512")
    .update(BINDING_LABEL_V1, "latin1")
    .update(Uint8Array.of(0))
    .update(length)
    .update(input.keyConfig)
    .update(u64(seconds(input.notBefore, "notBefore")))
    .update(u64(seconds(input.notAfter, "notAfter")))
    .update(Uint8Array.of(nonce.length))
    .update(nonce)
    .digest();
}
