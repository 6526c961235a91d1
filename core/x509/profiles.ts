/**
 * The two certificate profiles of the project's own PKI (the key broker's HSM CA, the sandbox's
 * software CAs): a P-384 CA and a P-384 TLS end entity (server and client auth), described by
 * common name, organisation and points, and turned into a {@link CertificateSpec} for `buildCertificate`.
 */
import { spkiFromPoint } from "../ec-jwk.js";
import type { CertificateSpec, NameSpec } from "./build.js";
import {
  authorityKeyIdentifier,
  basicConstraints,
  extendedKeyUsage,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
  type AltNames,
} from "./extensions.js";
import { OID } from "./oid.js";

/** A distinguished name as common name plus optional organisation. */
export interface DistinguishedName {
  readonly commonName: string;
  readonly organization?: string;
}

/** What a CA or TLS certificate of the project's PKI holds. */
export interface EcProfileRequest {
  /** Serial number magnitude (1 to 20 bytes, RFC 5280 4.1.2.2). */
  readonly serial: Uint8Array;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Uncompressed P-384 point of the subject key. */
  readonly subjectPoint: Uint8Array;
  /** Uncompressed P-384 point of the issuer key (for the authority key identifier). */
  readonly issuerPoint: Uint8Array;
  /** A CA certificate (cA, path length 0, keyCertSign and cRLSign) or an end-entity TLS certificate. */
  readonly profile: "ca" | "tls";
  readonly altNames?: AltNames;
}

/** O (when given) then CN, one RDN each, as UTF8String. */
export function distinguishedName(dn: DistinguishedName): NameSpec[] {
  return [
    ...(dn.organization === undefined ? [] : [{ oid: OID.organization, value: dn.organization }]),
    { oid: OID.commonName, value: dn.commonName },
  ];
}

/**
 * The certificate spec of a CA or TLS certificate: basicConstraints and keyUsage (critical), for TLS
 * extKeyUsage serverAuth + clientAuth, then subjectAltName when given, subject and authority key identifiers.
 * @example buildCertificate(ecProfileSpec({ ...names, profile: "tls", ... }), ecdsaSha384RawSigner(hsmSign))
 */
export function ecProfileSpec(req: EcProfileRequest): CertificateSpec {
  const subjectSpki = spkiFromPoint(req.subjectPoint);
  const ca = req.profile === "ca";
  return {
    serial: req.serial,
    issuer: distinguishedName(req.issuer),
    subject: distinguishedName(req.subject),
    notBefore: req.notBefore,
    notAfter: req.notAfter,
    publicKey: subjectSpki,
    extensions: [
      { oid: OID.basicConstraints, critical: true, value: ca ? basicConstraints(true, 0) : basicConstraints(false) },
      {
        oid: OID.keyUsage,
        critical: true,
        // digitalSignature for TLS: ECDHE_ECDSA signs the handshake
        value: keyUsage(ca ? ["digitalSignature", "keyCertSign", "cRLSign"] : ["digitalSignature"]),
      },
      ...(ca ? [] : [{ oid: OID.extKeyUsage, value: extendedKeyUsage([OID.serverAuth, OID.clientAuth]) }]),
      ...(req.altNames ? [{ oid: OID.subjectAltName, value: subjectAltName(req.altNames) }] : []),
      { oid: OID.subjectKeyIdentifier, value: subjectKeyIdentifier(subjectSpki) },
      { oid: OID.authorityKeyIdentifier, value: authorityKeyIdentifier(spkiFromPoint(req.issuerPoint)) },
    ],
  };
}
