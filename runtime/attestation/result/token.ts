/**
 * Attestation results as short-lived JWTs (RFC 7519, JWS ES384): what a relying party needs to act
 * on a verdict without re-verifying the evidence. Signing goes through an injected ES384 signer
 * (the key broker signs with its HSM key: SHA-384 then CKM_ECDSA gives the raw r||s JWS wants), so
 * the same `ManifestSigner` shape serves golden manifests and tokens. Tokens never carry raw
 * REPORT_DATA, only its SHA-256.
 */
import { createHash, randomUUID, type KeyObject } from "node:crypto";
import { errors as joseErrors, jwtVerify, type JWK } from "jose";
import type { DriftClass, TcbComponents } from "../../../measurements/drift/index.js";
import type { ManifestSigner } from "../../../measurements/manifest/index.js";
import type { SnpVerdict } from "../appraise.js";
import { AttestationError } from "../errors.js";

/** JOSE `typ` of attestation-result tokens; verification refuses any other. */
export const RESULT_TOKEN_TYPE = "attestation-result+jwt";
/** Longest lifetime a result token may have, in seconds (verification refuses longer ones). */
export const MAX_RESULT_TTL_SECONDS = 3600;

/** Produces raw ES384 signatures (r||s, 96 bytes) over the JWS signing input. */
export type ResultSigner = ManifestSigner;

/** The claims of an attestation-result token. */
export interface AttestationResultClaims {
  readonly iss: string;
  readonly aud?: string | string[];
  /** Chip id (128 hex) when bound, else `vek:<sha256 of the VEK>`. */
  readonly sub: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  readonly tee: "sev-snp";
  readonly verdict: "accepted" | "rejected";
  readonly drift_class: DriftClass;
  readonly measurement: string;
  readonly product: string;
  readonly tcb: TcbComponents;
  /** CHIP_ID (128 hex) or null when not bound (VLEK, masked). */
  readonly chip_id: string | null;
  /** Guest POLICY word, `0x` hex. */
  readonly policy: string;
  readonly vmpl: number;
  readonly signer: "vcek" | "vlek";
  readonly root: string;
  /** Release id of the active golden manifest, or null. */
  readonly release: string | null;
  /** SHA-256 of REPORT_DATA (hex): lets the relying party check the binding without the data. */
  readonly report_data_sha256: string;
  /** SHA-256 of the raw report (hex), for audit. */
  readonly report_sha256: string;
  /** Failure codes of a rejected verdict (empty when accepted). */
  readonly failures: readonly string[];
  /** The caller's nonce, when given (e.g. the KBS challenge). */
  readonly nonce?: string;
  /** Further claims added by the issuer (e.g. the TEE's public key). */
  readonly [extra: string]: unknown;
}

/** Options of {@link signAttestationResult}. */
export interface SignResultOptions {
  /** A verdict on authentic evidence (`verdict.evidence` present). */
  readonly verdict: SnpVerdict;
  readonly signer: ResultSigner;
  readonly issuer: string;
  readonly audience?: string | readonly string[];
  /** Issue time (seconds precision). */
  readonly now: Date;
  /** Lifetime in seconds (default 300, at most {@link MAX_RESULT_TTL_SECONDS}). */
  readonly ttlSeconds?: number;
  readonly nonce?: string;
  /** Extra claims; may not override the standard ones. */
  readonly extraClaims?: Readonly<Record<string, unknown>>;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");

/**
 * Issues a signed attestation-result token for a verdict on authentic evidence.
 * @throws TypeError for a verdict without evidence, a bad TTL or a signer that returns other than 96 bytes.
 * @example const jwt = await signAttestationResult({ verdict, signer: softwareSigner(key, kid), issuer: "https://kbs.example", now: new Date() });
 */
export async function signAttestationResult(opts: SignResultOptions): Promise<string> {
  const { verdict, signer } = opts;
  const ev = verdict.evidence;
  if (!ev || !verdict.claims)
    throw new TypeError("signAttestationResult: the verdict has no authentic evidence to describe");
  const ttl = opts.ttlSeconds ?? 300;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_RESULT_TTL_SECONDS)
    throw new TypeError(`signAttestationResult: ttlSeconds must be an integer 1..${MAX_RESULT_TTL_SECONDS}`);
  if (signer.alg !== "ES384") throw new TypeError("signAttestationResult: the signer must be ES384");
  const iat = Math.floor(opts.now.getTime() / 1000);
  const standard: AttestationResultClaims = {
    iss: opts.issuer,
    ...(opts.audience === undefined
      ? {}
      : { aud: typeof opts.audience === "string" ? opts.audience : [...opts.audience] }),
    sub: ev.chipIdBound ? ev.claims.chipId : `vek:${ev.vek.sha256}`,
    iat,
    nbf: iat,
    exp: iat + ttl,
    jti: randomUUID(),
    tee: "sev-snp",
    verdict: verdict.accepted ? "accepted" : "rejected",
    drift_class: verdict.driftClass,
    measurement: ev.claims.measurement,
    product: ev.product,
    tcb: ev.claims.reportedTcb,
    chip_id: ev.chipIdBound ? ev.claims.chipId : null,
    policy: `0x${ev.report.policy.raw.toString(16)}`,
    vmpl: ev.report.vmpl,
    signer: ev.signer,
    root: ev.rootId,
    release: verdict.release ?? null,
    report_data_sha256: createHash("sha256").update(ev.report.reportData).digest("hex"),
    report_sha256: ev.reportSha256,
    failures: verdict.failures.map((f) => f.code),
    ...(opts.nonce === undefined ? {} : { nonce: opts.nonce }),
  };
  for (const k of Object.keys(opts.extraClaims ?? {}))
    if (k in standard) throw new TypeError(`signAttestationResult: extra claim ${k} would override a standard claim`);
  const header = b64({ alg: "ES384", kid: signer.kid, typ: RESULT_TOKEN_TYPE });
  const payload = b64({ ...opts.extraClaims, ...standard });
  const signature = await signer.sign(new TextEncoder().encode(`${header}.${payload}`));
  if (!(signature instanceof Uint8Array) || signature.length !== 96)
    throw new TypeError("signAttestationResult: the signer must return a raw 96-byte ES384 signature (r||s)");
  return `${header}.${payload}.${Buffer.from(signature).toString("base64url")}`;
}

/** Options of {@link verifyAttestationResult}. */
export interface VerifyResultOptions {
  /** The issuer's ES384 public key. */
  readonly key: KeyObject | JWK;
  readonly issuer: string;
  /** Required audience, when tokens carry one. */
  readonly audience?: string;
  readonly now: Date;
  /** Allowed clock skew in seconds (default 0). */
  readonly clockToleranceSeconds?: number;
}

/**
 * Verifies a result token: ES384 only, `typ` as issued, issuer (and audience), not before `nbf`,
 * not after `exp`, lifetime at most {@link MAX_RESULT_TTL_SECONDS}, and the claims a relying party
 * relies on present. Codes: `TOKEN_EXPIRED`, `TOKEN_INVALID`.
 */
export async function verifyAttestationResult(
  token: string,
  opts: VerifyResultOptions,
): Promise<AttestationResultClaims> {
  let payload: Record<string, unknown>;
  try {
    const r = await jwtVerify(token, opts.key, {
      algorithms: ["ES384"],
      typ: RESULT_TOKEN_TYPE,
      issuer: opts.issuer,
      ...(opts.audience === undefined ? {} : { audience: opts.audience }),
      currentDate: opts.now,
      clockTolerance: opts.clockToleranceSeconds ?? 0,
      requiredClaims: [
        "iat",
        "nbf",
        "exp",
        "jti",
        "sub",
        "tee",
        "verdict",
        "drift_class",
        "measurement",
        "product",
        "tcb",
        "policy",
        "vmpl",
        "signer",
        "root",
        "report_data_sha256",
      ],
    });
    payload = r.payload as Record<string, unknown>;
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired)
      throw new AttestationError("TOKEN_EXPIRED", "verifying attestation result: the token has expired", {
        path: "token.exp",
        cause: e,
      });
    const code = (e as { code?: string }).code ?? "error";
    throw new AttestationError("TOKEN_INVALID", `verifying attestation result: ${code}: ${(e as Error).message}`, {
      path: "token",
      cause: e,
    });
  }
  const exp = payload.exp as number;
  const iat = payload.iat as number;
  if (exp - iat > MAX_RESULT_TTL_SECONDS)
    throw new AttestationError(
      "TOKEN_INVALID",
      `verifying attestation result: lifetime ${exp - iat} s exceeds ${MAX_RESULT_TTL_SECONDS} s`,
      { path: "token.exp" },
    );
  if (payload.tee !== "sev-snp")
    throw new AttestationError("TOKEN_INVALID", "verifying attestation result: unsupported tee", { path: "token.tee" });
  return payload as unknown as AttestationResultClaims;
}
