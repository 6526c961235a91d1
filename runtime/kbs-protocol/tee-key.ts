/**
 * The TEE public key of a KBS Attestation (`runtime-data.tee-pubkey`, kbs-types `TeePubKey`), in
 * every form Trustee's guest client makes (guest-components `kbs_protocol` `TeeKeyAlgorithm`):
 *
 * - EC `{"kty":"EC","crv":"P-256"|"P-384"|"P-521","alg":"ECDH-ES+A256KW","x","y"}` (P-256 is
 *   Trustee's default; P-384 is ours); the point must be on the named curve;
 * - RSA `{"kty":"RSA","alg":"RSA-OAEP-256","n","e"}` (2048 to 8192 bits, odd exponent >= 3).
 *
 * Trustee's deprecated `RSA1_5` is refused (RFC 7518 8.3: padding-oracle prone). A JWK carrying a
 * private member (`d`, and for RSA `p`, `q`, `dp`, `dq`, `qi`, `oth`) is refused every time it is
 * presented; validated public keys are remembered (at most 10 000) so the point or modulus is
 * checked once per key, never the absence of private members.
 *
 * Problems raise core's `JWK_INVALID` with every problem and its field path (the broker re-raises
 * it as `TEE_KEY_INVALID`).
 */
import { createHash, createPublicKey, ECDH, type KeyObject } from "node:crypto";
import { CoreError, formatProblems, keyFromJwk, type Problem } from "../../core/index.js";

/** JWE key-management algorithm of an EC TEE key. */
export const ECDH_ES_A256KW = "ECDH-ES+A256KW";
/** JWE key-management algorithm of an RSA TEE key. */
export const RSA_OAEP_256 = "RSA-OAEP-256";

/** EC curves a TEE key may use, with their coordinate length in bytes and OpenSSL name. */
export const TEE_KEY_CURVES = {
  "P-256": { bytes: 32, openssl: "prime256v1" },
  "P-384": { bytes: 48, openssl: "secp384r1" },
  "P-521": { bytes: 66, openssl: "secp521r1" },
} as const;
/** A curve of {@link TEE_KEY_CURVES}. */
export type TeeKeyCurve = keyof typeof TEE_KEY_CURVES;

/** An EC TEE public key as sent (kbs-types `TeePubKey::EC`). */
export interface EcTeeJwk {
  readonly kty: "EC";
  readonly crv: TeeKeyCurve;
  readonly alg: string;
  readonly x: string;
  readonly y: string;
}
/** An RSA TEE public key as sent (kbs-types `TeePubKey::RSA`). */
export interface RsaTeeJwk {
  readonly kty: "RSA";
  readonly alg: string;
  readonly n: string;
  readonly e: string;
}
/** A TEE public key as sent: exactly the kbs-types `TeePubKey` members, nothing else. */
export type TeePublicJwk = EcTeeJwk | RsaTeeJwk;

/** A validated TEE key: its public JWK (TeePubKey members only) and a KeyObject to encrypt to. */
export interface TeeKey {
  readonly jwk: TeePublicJwk;
  readonly key: KeyObject;
  /** `ec` with its curve, or `rsa`. */
  readonly kind: "ec" | "rsa";
  readonly curve?: TeeKeyCurve;
}

const RSA_PRIVATE = ["d", "p", "q", "dp", "dq", "qi", "oth"] as const;
const B64URL = /^[A-Za-z0-9_-]+$/;
const cache = new Map<string, TeeKey>();
const CACHE_MAX = 10_000;

/** The TeePubKey members of a JWK (what enters the REPORT_DATA binding and the token). */
export function teePublicJwk(jwk: TeePublicJwk): TeePublicJwk {
  return jwk.kty === "RSA"
    ? { kty: "RSA", alg: jwk.alg, n: jwk.n, e: jwk.e }
    : { kty: "EC", crv: jwk.crv, alg: jwk.alg, x: jwk.x, y: jwk.y };
}

/**
 * RFC 7638 thumbprint (SHA-256, base64url) of a TEE key: `{crv,kty,x,y}` or `{e,kty,n}`, for the
 * audit log.
 */
export function teeKeyThumbprint(jwk: TeePublicJwk): string {
  const canonical =
    jwk.kty === "RSA"
      ? `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`
      : `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
  return createHash("sha256").update(canonical).digest("base64url");
}

/**
 * Validates an untrusted `tee-pubkey` (see the file comment); returns the key. `field` is its path
 * in the request (`runtime-data.tee-pubkey`).
 *
 * @example const { key, jwk } = parseTeeKey(attestation["runtime-data"]["tee-pubkey"], "runtime-data.tee-pubkey");
 */
export function parseTeeKey(value: unknown, field: string): TeeKey {
  const problems: Problem[] = [];
  const o = (typeof value === "object" && value !== null && !Array.isArray(value) ? value : {}) as Record<
    string,
    unknown
  >;
  if (o !== value) throw invalid(field, [{ path: field, message: "must be a JWK object" }]);
  for (const m of o.kty === "RSA" ? RSA_PRIVATE : (["d"] as const))
    if (m in o) problems.push({ path: `${field}.${m}`, message: "a private key must never be sent" });
  if (o.kty === "EC") checkEc(o, field, problems);
  else if (o.kty === "RSA") checkRsa(o, field, problems);
  else problems.push({ path: `${field}.kty`, message: 'must be "EC" or "RSA"' });
  if (problems.length > 0) throw invalid(field, problems);
  const jwk = teePublicJwk(o as unknown as TeePublicJwk);
  const id = jwk.kty === "RSA" ? `RSA.${jwk.n}.${jwk.e}` : `${jwk.crv}.${jwk.x}.${jwk.y}`;
  const hit = cache.get(id);
  if (hit && hit.jwk.alg === jwk.alg) return hit;
  const key = jwk.kty === "RSA" ? rsaKey(jwk, field) : ecKey(jwk, field);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(id, key);
  return key;
}

function checkEc(o: Record<string, unknown>, field: string, problems: Problem[]): void {
  const curve = TEE_KEY_CURVES[o.crv as TeeKeyCurve] as (typeof TEE_KEY_CURVES)[TeeKeyCurve] | undefined;
  if (typeof o.crv !== "string" || !Object.hasOwn(TEE_KEY_CURVES, o.crv) || curve === undefined)
    problems.push({ path: `${field}.crv`, message: 'must be "P-256", "P-384" or "P-521"' });
  if (o.alg !== ECDH_ES_A256KW) problems.push({ path: `${field}.alg`, message: `must be ${ECDH_ES_A256KW}` });
  for (const c of ["x", "y"] as const) {
    const v = o[c];
    const bytes = curve?.bytes;
    if (typeof v !== "string" || !B64URL.test(v) || (bytes !== undefined && v.length !== Math.ceil((bytes * 4) / 3)))
      problems.push({
        path: `${field}.${c}`,
        message: `must be ${bytes ?? "the curve's"} bytes, base64url without padding`,
      });
  }
}

function checkRsa(o: Record<string, unknown>, field: string, problems: Problem[]): void {
  if (o.alg !== RSA_OAEP_256)
    problems.push({
      path: `${field}.alg`,
      message: `must be ${RSA_OAEP_256}${o.alg === "RSA1_5" ? " (RSA1_5 is refused: RFC 7518 8.3)" : ""}`,
    });
  for (const c of ["n", "e"] as const)
    if (typeof o[c] !== "string" || !B64URL.test(o[c] as string))
      problems.push({ path: `${field}.${c}`, message: "must be base64url without padding" });
}

function ecKey(jwk: EcTeeJwk, field: string): TeeKey {
  if (jwk.crv === "P-384") {
    // core's P-384 path: the point check without node's redundant scalar multiplication.
    const { key } = keyFromJwk({ kty: "EC", crv: "P-384", x: jwk.x, y: jwk.y }, field);
    return { jwk, key, kind: "ec", curve: "P-384" };
  }
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
  try {
    ECDH.convertKey(point, TEE_KEY_CURVES[jwk.crv].openssl);
  } catch (e) {
    throw invalid(field, [{ path: field, message: `not a point on ${jwk.crv}` }], e);
  }
  const key = createPublicKey({ key: { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y }, format: "jwk" });
  return { jwk, key, kind: "ec", curve: jwk.crv };
}

function rsaKey(jwk: RsaTeeJwk, field: string): TeeKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" });
  } catch (e) {
    throw invalid(field, [{ path: field, message: "not an RSA public key" }], e);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const e = key.asymmetricKeyDetails?.publicExponent ?? 0n;
  const problems: Problem[] = [];
  if (bits < 2048 || bits > 8192)
    problems.push({ path: `${field}.n`, message: `must be 2048 to 8192 bits, got ${bits}` });
  if (e < 3n || e % 2n === 0n) problems.push({ path: `${field}.e`, message: "must be an odd exponent of at least 3" });
  if (problems.length > 0) throw invalid(field, problems);
  return { jwk, key, kind: "rsa" };
}

function invalid(field: string, problems: Problem[], cause?: unknown): CoreError {
  return new CoreError("JWK_INVALID", `${field}: ${formatProblems(problems)}`, {
    problems,
    ...(cause === undefined ? {} : { cause }),
  });
}
