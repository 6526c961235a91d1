/**
 * The broker CA bundle as the key broker publishes it for the gateway (one-pass bootstrap, see
 * docs/deploy.md "Broker CA bootstrap"): a compact JWS (ES384, `typ` {@link CA_BUNDLE_JWS_TYPE})
 * whose payload is `{ issuedAt, certificates }`, signed with the publication key whose public half
 * the gateway pins in its config. The gateway applies a bundle only when the signature verifies with
 * that key, every certificate is a CA certificate, and `issuedAt` is newer than the bundle in use
 * (no rollback to a retired CA). Pure: bytes and keys in, a document or a reason out.
 *
 * @example
 * const jws = signCaBundle({ issuedAt: new Date().toISOString(), certificates: broker.caBundle() }, publicationKey);
 * const r = verifyCaBundle(jws, pinnedPublicKey); // { ok: true, doc } | { ok: false, reason, detail }
 */
import { sign, verify, X509Certificate, type KeyObject } from "node:crypto";

/** `typ` of a published CA bundle. */
export const CA_BUNDLE_JWS_TYPE = "ci-broker-ca-bundle+jws";

/** What the broker publishes. */
export interface CaBundleDocument {
  /** When this bundle was published (RFC 3339, UTC); a gateway never goes back to an older one. */
  readonly issuedAt: string;
  /** PEM certificates of the broker CA(s) runtimes' certificates may chain to (active first). */
  readonly certificates: string;
}

/** Why a published bundle was refused. */
export type CaBundleRejection = "malformed" | "signature" | "not-ca";

/** Result of {@link verifyCaBundle}. */
export type CaBundleVerdict =
  | { readonly ok: true; readonly doc: CaBundleDocument; readonly certificates: readonly X509Certificate[] }
  | { readonly ok: false; readonly reason: CaBundleRejection; readonly detail: string };

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/**
 * Signs a bundle with the publication key (EC P-384, ES384).
 * @throws TypeError when the key is not a P-384 private key or the document is malformed (caller misuse).
 */
export function signCaBundle(doc: CaBundleDocument, privateKey: KeyObject): string {
  if (privateKey.type !== "private" || privateKey.asymmetricKeyDetails?.namedCurve !== "secp384r1")
    throw new TypeError("signCaBundle: the publication key must be an EC P-384 private key");
  if (!ISO_UTC.test(doc.issuedAt)) throw new TypeError("signCaBundle: issuedAt must be an RFC 3339 UTC time");
  const input = `${b64url(JSON.stringify({ alg: "ES384", typ: CA_BUNDLE_JWS_TYPE }))}.${b64url(
    JSON.stringify({ issuedAt: doc.issuedAt, certificates: doc.certificates }),
  )}`;
  const signature = sign("sha384", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${b64url(signature)}`;
}

function parseJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** Verifies a published bundle with the pinned publication public key. */
export function verifyCaBundle(jws: string, publicKey: KeyObject): CaBundleVerdict {
  const parts = jws.trim().split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)))
    return { ok: false, reason: "malformed", detail: "not a compact JWS" };
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(h) as { alg?: unknown; typ?: unknown } | undefined;
  if (header?.alg !== "ES384" || header.typ !== CA_BUNDLE_JWS_TYPE)
    return {
      ok: false,
      reason: "signature",
      detail: `header must be ES384 ${CA_BUNDLE_JWS_TYPE} (unsigned or foreign)`,
    };
  const signature = Buffer.from(s, "base64url");
  let valid = false;
  try {
    valid =
      signature.length === 96 &&
      verify("sha384", Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: "signature", detail: "signature does not verify with the pinned key" };
  const payload = parseJson(p) as { issuedAt?: unknown; certificates?: unknown } | undefined;
  if (typeof payload?.issuedAt !== "string" || !ISO_UTC.test(payload.issuedAt))
    return { ok: false, reason: "malformed", detail: "issuedAt: must be an RFC 3339 UTC time" };
  if (typeof payload.certificates !== "string")
    return { ok: false, reason: "malformed", detail: "certificates: must be PEM text" };
  const blocks = payload.certificates.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return { ok: false, reason: "not-ca", detail: "certificates: no certificate" };
  const certificates: X509Certificate[] = [];
  for (const [i, pem] of blocks.entries()) {
    let x: X509Certificate;
    try {
      x = new X509Certificate(pem);
    } catch {
      return { ok: false, reason: "malformed", detail: `certificates[${i}]: not a certificate` };
    }
    if (!x.ca) return { ok: false, reason: "not-ca", detail: `certificates[${i}]: not a CA certificate` };
    certificates.push(x);
  }
  return { ok: true, doc: { issuedAt: payload.issuedAt, certificates: payload.certificates }, certificates };
}
