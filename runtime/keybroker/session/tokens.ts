/**
 * KBS attestation tokens: JWTs (RFC 7519) signed ES384 by the broker's HSM signing key. The JWS
 * signing input is built here and signed through an injected raw signer (SHA-384 + CKM_ECDSA
 * giving r||s, which is exactly the JWS ES384 signature format, RFC 7518 3.4). Verification is
 * pure over the public keys of every signing-key version (`kid` = the HSM label).
 */
import { createPublicKey, randomBytes, verify } from "node:crypto";
import type { DriftClass, TcbComponents } from "../../../measurements/drift/index.js";
import type { EcPublicJwk } from "../../../core/index.js";
import type { TeePublicJwk } from "../../kbs-protocol/index.js";
import { KeyBrokerError } from "../errors.js";
import { epochStanding } from "./epochs.js";
import type { EpochRecord } from "../state/state.js";

/** Claims of a broker-issued attestation token. Trustee's registered claims plus our verdict. */
export interface TokenClaims {
  readonly iss: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  /** The attested ephemeral key (KBS `tee-pubkey`, EC or RSA); resources are encrypted to it. */
  readonly "tee-pubkey": TeePublicJwk;
  readonly tee: string;
  readonly epoch: number;
  readonly "drift-class": DriftClass;
  readonly measurement: string;
  readonly "chip-id": string;
  readonly tcb: TcbComponents;
  /** Golden manifest release the measurement matched. */
  readonly release: string;
  /** Launch shape of that manifest the measurement matched. */
  readonly "launch-shape": string;
}

/** The active signing key: its label (the `kid`) and a raw r||s ES384 signer bound to it. */
export interface TokenSigner {
  readonly kid: string;
  sign(signingInput: Buffer): Buffer;
}

/** A fresh token id (`jti`): 16 random bytes, base64url. */
export function newTokenId(): string {
  return randomBytes(16).toString("base64url");
}

/** Issues a token for `claims` (without iat/exp/jti, which are set from `now` and `ttlSeconds`). */
export function issueToken(
  claims: Omit<TokenClaims, "iat" | "exp" | "jti">,
  now: Date,
  ttlSeconds: number,
  signer: TokenSigner,
  jti = newTokenId(),
): { token: string; claims: TokenClaims } {
  const t = unsignedToken(claims, now, ttlSeconds, signer.kid, jti);
  return { token: `${t.input}.${signer.sign(Buffer.from(t.input, "ascii")).toString("base64url")}`, claims: t.claims };
}

/** issueToken with a signer that runs off the event loop (the HSM's pooled sessions). */
export async function issueTokenAsync(
  claims: Omit<TokenClaims, "iat" | "exp" | "jti">,
  now: Date,
  ttlSeconds: number,
  signer: { readonly kid: string; sign(signingInput: Buffer): Promise<Buffer> },
  jti = newTokenId(),
): Promise<{ token: string; claims: TokenClaims }> {
  const t = unsignedToken(claims, now, ttlSeconds, signer.kid, jti);
  return {
    token: `${t.input}.${(await signer.sign(Buffer.from(t.input, "ascii"))).toString("base64url")}`,
    claims: t.claims,
  };
}

function unsignedToken(
  claims: Omit<TokenClaims, "iat" | "exp" | "jti">,
  now: Date,
  ttlSeconds: number,
  kid: string,
  jti: string,
): { input: string; claims: TokenClaims } {
  const iat = Math.floor(now.getTime() / 1000);
  const full: TokenClaims = { ...claims, iat, exp: iat + ttlSeconds, jti };
  const payload = Buffer.from(JSON.stringify(full)).toString("base64url");
  const header = Buffer.from(JSON.stringify({ alg: "ES384", typ: "JWT", kid })).toString("base64url");
  return { input: `${header}.${payload}`, claims: full };
}

/** What token verification needs. */
export interface TokenVerifyOptions {
  /** Public key for a `kid` (every signing-key version, active and retired), or undefined. */
  readonly keyFor: (kid: string) => EcPublicJwk | undefined;
  readonly issuer: string;
  readonly now: Date;
  readonly epochs: readonly EpochRecord[];
  readonly graceSeconds: number;
}

/**
 * Verifies a token: shape, algorithm, known kid, signature, issuer, expiry (TOKEN_EXPIRED) and the
 * epoch's standing (TOKEN_SUPERSEDED after the grace period). Anything else is TOKEN_INVALID.
 */
export function verifyToken(token: string, o: TokenVerifyOptions): TokenClaims {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw invalid("not a compact JWS");
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(h, "header") as { alg?: unknown; kid?: unknown; typ?: unknown; crit?: unknown };
  if (header.alg !== "ES384") throw invalid("alg must be ES384");
  if (header.crit !== undefined) throw invalid("crit is not supported");
  if (typeof header.kid !== "string") throw invalid("kid missing");
  const jwk = o.keyFor(header.kid);
  if (!jwk) throw invalid("unknown signing key");
  const sig = Buffer.from(s, "base64url");
  const key = createPublicKey({ key: { kty: "EC", crv: "P-384", x: jwk.x, y: jwk.y }, format: "jwk" });
  const ok =
    sig.length === 96 && verify("sha384", Buffer.from(`${h}.${p}`, "ascii"), { key, dsaEncoding: "ieee-p1363" }, sig);
  if (!ok) throw invalid("bad signature");
  return checkTokenClaims(parseJson(p, "payload") as Partial<TokenClaims>, o);
}

/**
 * The time and epoch checks of verifyToken, for claims whose signature is already established
 * (a token this broker issued and kept in the session): issuer, expiry (TOKEN_EXPIRED) and the
 * epoch's standing (TOKEN_SUPERSEDED after the grace period).
 */
export function checkTokenClaims(claims: Partial<TokenClaims>, o: Omit<TokenVerifyOptions, "keyFor">): TokenClaims {
  if (claims.iss !== o.issuer) throw invalid("wrong issuer");
  if (typeof claims.exp !== "number" || typeof claims.iat !== "number" || typeof claims.epoch !== "number")
    throw invalid("exp, iat and epoch are required");
  const nowS = Math.floor(o.now.getTime() / 1000);
  if (nowS >= claims.exp) throw new KeyBrokerError("TOKEN_EXPIRED", `token expired ${nowS - claims.exp} s ago`);
  const standing = epochStanding(o.epochs, claims.epoch, o.now, o.graceSeconds);
  if (standing === "superseded")
    throw new KeyBrokerError(
      "TOKEN_SUPERSEDED",
      `token of epoch ${claims.epoch} was superseded and its grace period is over`,
    );
  if (standing === "unknown") throw invalid(`unknown epoch ${claims.epoch}`);
  return claims as TokenClaims;
}

function invalid(why: string): KeyBrokerError {
  return new KeyBrokerError("TOKEN_INVALID", `attestation token rejected: ${why}`);
}

function parseJson(b64: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(b64, "base64url").toString("utf8")) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch {
    throw invalid(`${what} is not a JSON object`);
  }
}
