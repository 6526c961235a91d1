/**
 * P-384 public keys in the forms the project meets: the uncompressed point a PKCS#11 token returns,
 * node's KeyObject, the JWK of the KBS protocol (`tee-pubkey`, JWE `epk`) and the
 * SubjectPublicKeyInfo of X.509. Untrusted JWKs that are not P-384 public keys on the curve raise
 * {@link CoreError} `JWK_INVALID` with every problem and its field path; the key broker re-raises it
 * as `TEE_KEY_INVALID`.
 */
import { createHash, createPublicKey, ECDH, type KeyObject } from "node:crypto";
import { encodeBitString, encodeOid, encodeSequence } from "./der.js";
import { CoreError, formatProblems, type Problem } from "./errors.js";
import { OID } from "./x509/oid.js";

/** A P-384 public JWK (RFC 7517/7518); `alg` is what the KBS protocol sends, not part of the key. */
export interface EcPublicJwk {
  readonly kty: "EC";
  readonly crv: "P-384";
  readonly x: string;
  readonly y: string;
  readonly alg?: string;
}

/** JWK of an uncompressed P-384 point (04 || X || Y). */
export function jwkFromPoint(point: Uint8Array): EcPublicJwk {
  if (point.length !== 97 || point[0] !== 0x04)
    throw new TypeError(`jwkFromPoint: expected a 97-byte uncompressed point, got ${point.length} bytes`);
  const b = Buffer.from(point);
  return {
    kty: "EC",
    crv: "P-384",
    x: b.subarray(1, 49).toString("base64url"),
    y: b.subarray(49).toString("base64url"),
  };
}

/**
 * Validates an untrusted JWK as a P-384 public key on the curve; returns the point. Throws
 * `JWK_INVALID` naming the field (`field` is its path in the request, e.g. `runtime-data.tee-pubkey`).
 */
export function pointFromJwk(jwk: unknown, field: string): Buffer {
  return keyFromJwk(jwk, field).point;
}

/** pointFromJwk, also returning a KeyObject of the point. */
export function keyFromJwk(jwk: unknown, field: string): { readonly point: Buffer; readonly key: KeyObject } {
  const point = checkedPoint(jwk, field);
  return { point, key: publicKeyFromPoint(point) };
}

/**
 * Validates an untrusted JWK's shape and its point: the coordinates are field elements and the
 * point is on the curve (EC_POINT_oct2point), which is full public-key validation for a
 * prime-order curve like P-384 (SP 800-56A 5.6.2.3.3: the n*Q = O check is implied by cofactor 1).
 * Node's JWK import would add that redundant scalar multiplication, about 0.4 ms per key.
 */
function checkedPoint(jwk: unknown, field: string): Buffer {
  const problems: Problem[] = [];
  const o = (typeof jwk === "object" && jwk !== null ? jwk : {}) as Record<string, unknown>;
  if (typeof jwk !== "object" || jwk === null) problems.push({ path: field, message: "must be a JWK object" });
  if (o.kty !== "EC") problems.push({ path: `${field}.kty`, message: 'must be "EC"' });
  if (o.crv !== "P-384") problems.push({ path: `${field}.crv`, message: 'must be "P-384"' });
  for (const c of ["x", "y"] as const) {
    const v = o[c];
    if (typeof v !== "string" || !/^[A-Za-z0-9_-]{64}$/.test(v))
      problems.push({ path: `${field}.${c}`, message: "must be 48 bytes, base64url without padding" });
  }
  if ("d" in o) problems.push({ path: `${field}.d`, message: "a private key must never be sent" });
  if (problems.length > 0) throw new CoreError("JWK_INVALID", `${field}: ${formatProblems(problems)}`, { problems });
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(o.x as string, "base64url"),
    Buffer.from(o.y as string, "base64url"),
  ]);
  try {
    ECDH.convertKey(point, "secp384r1");
    return point;
  } catch (e) {
    throw new CoreError("JWK_INVALID", `${field}: not a point on P-384`, {
      cause: e,
      problems: [{ path: field, message: "not a point on P-384" }],
    });
  }
}

/** A validated key: its point, and its KeyObject once someone needed it. */
class CheckedKey {
  private object: KeyObject | undefined;
  constructor(readonly point: Buffer) {}
  get key(): KeyObject {
    this.object ??= publicKeyFromPoint(this.point);
    return this.object;
  }
}

const checkedKeys = new Map<string, CheckedKey>();
const CHECKED_KEYS_MAX = 10_000;

/**
 * pointFromJwk plus a KeyObject (created on first use), for a key seen again and again (the
 * attested TEE key: at /attest, for its certificate, for each resource response): validated keys
 * are remembered (at most 10 000, oldest forgotten first).
 */
export function checkedKeyFromJwk(
  jwk: EcPublicJwk,
  field: string,
): { readonly point: Buffer; readonly key: KeyObject } {
  const id = `${jwk.x}.${jwk.y}`;
  const hit = checkedKeys.get(id);
  // The cache remembers points, never a verdict on the JWK: a private `d` is refused every time.
  if (hit && jwk.kty === "EC" && jwk.crv === "P-384" && !("d" in jwk)) return hit;
  const entry = new CheckedKey(checkedPoint(jwk, field));
  if (checkedKeys.size >= CHECKED_KEYS_MAX) checkedKeys.delete(checkedKeys.keys().next().value as string);
  checkedKeys.set(id, entry);
  return entry;
}

/** The point of checkedKeyFromJwk. */
export function checkedPointFromJwk(jwk: EcPublicJwk, field: string): Buffer {
  return checkedKeyFromJwk(jwk, field).point;
}

/** DER SubjectPublicKeyInfo of a P-384 point (RFC 5480). */
export function spkiFromPoint(point: Uint8Array): Buffer {
  return encodeSequence(encodeSequence(encodeOid(OID.ecPublicKey), encodeOid(OID.secp384r1)), encodeBitString(point));
}

/** The uncompressed point (04 || X || Y, 97 bytes) of a P-384 KeyObject; see {@link jwkFromKey}. */
export function pointFromKey(key: KeyObject): Buffer {
  const jwk = jwkFromKey(key);
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
}

/**
 * The public JWK (`kty`, `crv`, `x`, `y`, in that order) of a P-384 KeyObject (public, or private:
 * its public part). Caller misuse (another curve or key type) raises `TypeError`.
 */
export function jwkFromKey(key: KeyObject): EcPublicJwk {
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty !== "EC" || jwk.crv !== "P-384")
    throw new TypeError(`jwkFromKey: expected a P-384 key, got ${`${jwk.kty ?? "?"} ${jwk.crv ?? ""}`.trim()}`);
  return { kty: "EC", crv: "P-384", x: jwk.x as string, y: jwk.y as string };
}

/** Node KeyObject for a P-384 point (no validation: for points already checked or from the HSM). */
export function publicKeyFromPoint(point: Uint8Array): KeyObject {
  return createPublicKey({ key: spkiFromPoint(point), format: "der", type: "spki" });
}

/** RFC 7638 thumbprint (SHA-256, base64url) of an EC public JWK: members crv, kty, x, y in order. */
export function jwkThumbprint(jwk: Pick<EcPublicJwk, "crv" | "kty" | "x" | "y">): string {
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  return createHash("sha256").update(canonical).digest("base64url");
}
