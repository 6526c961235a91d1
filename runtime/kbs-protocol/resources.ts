/**
 * Resources and evidence shapes both ends of the KBS protocol agree on: the broker releases them, the
 * attester's client decodes them. Paths follow Trustee's `{repository}/{type}/{tag}` resource URIs.
 */

/** Resource path of the runtime's TLS certificate. */
export const RUNTIME_CERTIFICATE_RESOURCE = "runtime/certificate/tls";

/** What the certificate resource contains (JSON inside the JWE). */
export interface RuntimeCertificate {
  /** PEM of the runtime certificate. */
  readonly certificate: string;
  /** PEM chain: the certificate then the issuing CA. */
  readonly chain: string;
  /** PEM of every broker CA a peer should trust now (active first). */
  readonly caBundle: string;
  /** Serial number (hex). */
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly epoch: number;
}

/** Resource path of the runtime's session key. */
export const SESSION_KEY_RESOURCE = "runtime/session-key/current";

/** What the session-key resource contains (JSON inside the JWE). */
export interface SessionKey {
  /** Key id: derivation secret label, epoch and a digest of the label. */
  readonly kid: string;
  readonly alg: "A256GCM";
  /** The key, base64url (32 bytes). */
  readonly k: string;
  readonly release: string;
  readonly chipId: string;
  readonly epoch: number;
  readonly notAfter: string;
}

/**
 * SNP evidence in the broker's wire form (`tee-evidence.primary_evidence` for tee `snp`):
 * `{ "report": "<base64 of the 1184-byte ATTESTATION_REPORT>", "cert_chain": "<base64 of the
 * extended-report certificate table>" }`; `cert_chain` is optional when the verifier can fetch the VCEK.
 */
export interface SnpWireEvidence {
  readonly report: string;
  readonly cert_chain?: string;
}
