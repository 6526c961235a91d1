/**
 * The sandbox's own small PKI, software keys only (the HSM holds the broker's CA, never these):
 *
 * - sandbox CA: the gateway's client-facing TLS certificate and the user's client certificate;
 * - gateway CA: the gateway's upstream client certificate, the only one runtimes accept;
 * - operator CA: the operator certificate for the key broker's admin listener.
 *
 * Certificates are built with the project's one X.509 builder (`core/`), in the same CA and TLS
 * profiles as the key broker's.
 */
import { createHash, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from "node:crypto";
import {
  buildCertificate,
  ecdsaSha384Signer,
  ecProfileSpec,
  pointFromKey,
  toPem,
  type AltNames,
} from "../../core/index.js";

/** A CA held in memory while the sandbox is set up. */
export interface SoftwareCa {
  readonly name: string;
  readonly certPem: string;
  readonly key: KeyObject;
  readonly point: Buffer;
}

/** An issued certificate with its private key (PKCS#8 PEM). */
export interface IssuedCert {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the DER certificate, lower-case hex (the gateway's `certificateSha256`). */
  readonly sha256: string;
}

const DAY_MS = 86_400_000;

/** Creates a self-signed P-384 CA valid for `days` from `now` (back-dated one hour). */
export function createCa(name: string, now: Date, days = 3650): SoftwareCa {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const dn = { commonName: name, organization: "confidential-inference sandbox" };
  const p = pointFromKey(publicKey);
  const der = buildCertificate(
    ecProfileSpec({
      serial: randomBytes(16),
      issuer: dn,
      subject: dn,
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter: new Date(now.getTime() + days * DAY_MS),
      subjectPoint: p,
      issuerPoint: p,
      profile: "ca",
    }),
    ecdsaSha384Signer(privateKey),
  );
  return { name, certPem: toPem(der), key: privateKey, point: p };
}

/** Issues a TLS certificate (server and client auth) for a fresh P-384 key. */
export function issueCert(ca: SoftwareCa, commonName: string, now: Date, altNames?: AltNames, days = 825): IssuedCert {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
  const der = buildCertificate(
    ecProfileSpec({
      serial: randomBytes(16),
      issuer: { commonName: ca.name, organization: "confidential-inference sandbox" },
      subject: { commonName, organization: "confidential-inference sandbox" },
      notBefore: new Date(now.getTime() - 3_600_000),
      notAfter: new Date(now.getTime() + days * DAY_MS),
      subjectPoint: pointFromKey(publicKey),
      issuerPoint: ca.point,
      profile: "tls",
      ...(altNames ? { altNames } : {}),
    }),
    ecdsaSha384Signer(ca.key),
  );
  return {
    certPem: toPem(der),
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    sha256: createHash("sha256").update(der).digest("hex"),
  };
}

/** SHA-256 (hex) of the certificate in a PEM file's text. */
export function certificateSha256(pem: string): string {
  return createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
}
