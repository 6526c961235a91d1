/**
 * The lower layer's strict X.509 parser (`core/x509/certificate.ts`) under the verifier's error
 * type: `core` raises CoreError `CERTIFICATE_MALFORMED` (and `DER_MALFORMED` from a raw DER read);
 * the verifier's public code for both is AttestationError `CERTIFICATE_MALFORMED`, with the same
 * message and the core error as `cause`.
 */
import { isCoreError, parseCertificates, type Certificate } from "../../../core/index.js";
import { AttestationError } from "../errors.js";

/** Runs a certificate or DER read of `core`, re-raising its errors as `CERTIFICATE_MALFORMED`. */
export function readingCertificate<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (isCoreError(e, "CERTIFICATE_MALFORMED") || isCoreError(e, "DER_MALFORMED"))
      throw new AttestationError("CERTIFICATE_MALFORMED", e.message, { cause: e });
    throw e;
  }
}

/**
 * Parses PEM text (one or more `CERTIFICATE` blocks) or one DER certificate of untrusted collateral;
 * anything else is AttestationError `CERTIFICATE_MALFORMED`.
 */
export function readCertificates(input: Uint8Array | string): Certificate[] {
  return readingCertificate(() => parseCertificates(input));
}
