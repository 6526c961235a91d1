/** The broker CA's self-signed certificates, and the serial numbers of every certificate the broker issues. */
import { randomBytes } from "node:crypto";
import { buildCertificate, ecdsaSha384RawSigner, ecProfileSpec, toPem } from "../../../core/index.js";

/** Validity of a broker CA certificate, in days. */
export const CA_VALIDITY_DAYS = 3650;

/** The self-signed certificate (PEM) of broker CA version `version`, valid CA_VALIDITY_DAYS from a minute before `now`. */
export function caCertificate(point: Buffer, version: number, now: Date, sign: (tbs: Buffer) => Buffer): string {
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(notBefore.getTime() + CA_VALIDITY_DAYS * 86_400_000);
  const dn = { commonName: `confidential-inference broker CA v${version}`, organization: "confidential-inference" };
  return toPem(
    buildCertificate(
      ecProfileSpec({
        serial: serialNumber(),
        issuer: dn,
        subject: dn,
        notBefore,
        notAfter,
        subjectPoint: point,
        issuerPoint: point,
        profile: "ca",
      }),
      ecdsaSha384RawSigner(sign),
    ),
  );
}

/** A positive 16-byte certificate serial number. */
export function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x01;
  return b;
}
