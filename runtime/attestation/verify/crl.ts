/**
 * AMD KDS certificate revocation lists (`/vcek/v1/<Product>/crl`, DER, RFC 5280 §5), signed by the
 * ARK with RSASSA-PSS. AMD revokes intermediates (ASK/ASVK); VCEKs all have serial 0 and are not listed.
 */
import { AttestationError } from "../errors.js";
import {
  parseSignatureAlgorithm,
  verifySignature,
  type Certificate,
  type SignatureAlgorithm,
  children,
  decodeBitString,
  decodeInteger,
  decodeTime,
  expectTag,
  readOne,
  TAG,
  type Tlv,
} from "../../../core/index.js";
import { commonName } from "./trust.js";

/** A parsed CRL. */
export interface Crl {
  readonly tbs: Buffer;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly issuerRaw: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revokedSerials: ReadonlySet<bigint>;
  readonly signature: Buffer;
}

function invalid(message: string, cause?: unknown): AttestationError {
  return new AttestationError("CRL_INVALID", `checking revocation: ${message}`, { path: "crl", cause });
}

/** Parses a DER CRL; throws `CRL_INVALID` when it is not one. */
export function parseCrl(der: Uint8Array): Crl {
  try {
    const buf = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const [tbsT, algT, sigT, ...extra] = children(readOne(buf, TAG.sequence));
    if (!tbsT || !algT || !sigT || extra.length > 0) throw invalid("CertificateList must have 3 elements");
    const fields = children(expectTag(tbsT, TAG.sequence, "TBSCertList"));
    let i = fields[0]?.tag === TAG.integer ? 1 : 0;
    const innerAlg = fields[i++];
    const issuer = fields[i++];
    const thisUpdate = fields[i++];
    if (!innerAlg || !issuer || !thisUpdate) throw invalid("TBSCertList is missing fields");
    if (!innerAlg.raw.equals(algT.raw)) throw invalid("TBSCertList.signature differs from signatureAlgorithm");
    let nextUpdate: Date | undefined;
    const maybeNext = fields[i];
    if (maybeNext && (maybeNext.tag === TAG.utcTime || maybeNext.tag === TAG.generalizedTime)) {
      nextUpdate = decodeTime(maybeNext);
      i++;
    }
    const revoked = new Set<bigint>();
    const maybeList: Tlv | undefined = fields[i];
    if (maybeList && maybeList.tag === TAG.sequence) {
      for (const entry of children(maybeList)) {
        const [serial] = children(expectTag(entry, TAG.sequence, "revokedCertificate"));
        if (!serial) throw invalid("empty revokedCertificate entry");
        revoked.add(decodeInteger(serial));
      }
    }
    return {
      tbs: tbsT.raw,
      signatureAlgorithm: parseSignatureAlgorithm(algT),
      issuerRaw: expectTag(issuer, TAG.sequence, "issuer").raw,
      thisUpdate: decodeTime(thisUpdate),
      nextUpdate,
      revokedSerials: revoked,
      signature: decodeBitString(sigT),
    };
  } catch (e) {
    if (e instanceof AttestationError && e.code === "CRL_INVALID") throw e;
    throw invalid("cannot parse the CRL", e);
  }
}

/**
 * Checks a CRL against the chain: issued and signed by `ark`, current at `now` (thisUpdate <= now
 * <= nextUpdate), and not listing `intermediate`. Codes: `CRL_INVALID`, `CERTIFICATE_REVOKED`.
 */
export function checkRevocation(crlDer: Uint8Array, ark: Certificate, intermediate: Certificate, now: Date): void {
  const crl = parseCrl(crlDer);
  if (!crl.issuerRaw.equals(ark.subjectRaw)) throw invalid(`the CRL is not issued by ${commonName(ark)}`);
  if (!verifySignature(crl.signatureAlgorithm, crl.tbs, crl.signature, ark.publicKey))
    throw invalid(`the CRL is not signed by ${commonName(ark)}`);
  if (now.getTime() < crl.thisUpdate.getTime())
    throw invalid(`the CRL is not valid before ${crl.thisUpdate.toISOString()}`);
  if (crl.nextUpdate && now.getTime() > crl.nextUpdate.getTime())
    throw invalid(`the CRL is stale (nextUpdate ${crl.nextUpdate.toISOString()})`);
  if (crl.revokedSerials.has(intermediate.serial)) {
    throw new AttestationError(
      "CERTIFICATE_REVOKED",
      `checking revocation: ${commonName(intermediate)} (serial 0x${intermediate.serial.toString(16)}) is revoked`,
      { path: "intermediate.serial" },
    );
  }
}
