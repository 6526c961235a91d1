/**
 * Errors of the key broker (runtime/keybroker). Every failure has a stable code; the HTTP layers
 * map each code to a status and a problem `type` URI (STYLE.md rules 8-9). Messages never carry
 * secrets (PINs, key bytes, report data, nonces, tokens).
 */
import { CodedError, type Problem } from "../../core/index.js";

/** Every key-broker error code, in documentation order. */
export const KEY_BROKER_ERROR_CODES = [
  // request shape (KBS and admin listeners)
  "BODY_MALFORMED",
  "BODY_INVALID",
  "BODY_TOO_LARGE",
  "MEDIA_TYPE_UNSUPPORTED",
  "ROUTE_NOT_FOUND",
  // KBS protocol
  "PROTOCOL_VERSION_UNSUPPORTED",
  "TEE_UNSUPPORTED",
  "SESSION_MISSING",
  "SESSION_UNKNOWN",
  "NONCE_EXPIRED",
  "NONCE_REUSED",
  "NONCE_MISMATCH",
  "TEE_KEY_INVALID",
  "EVIDENCE_REJECTED",
  "ATTESTATION_DENIED",
  "TOKEN_MISSING",
  "TOKEN_INVALID",
  "TOKEN_EXPIRED",
  "TOKEN_SUPERSEDED",
  "RESOURCE_NOT_FOUND",
  "RESOURCE_FORBIDDEN",
  "SESSIONS_EXHAUSTED",
  "PEER_SESSIONS_EXHAUSTED",
  // dependencies (fail closed)
  "HSM_UNAVAILABLE",
  "VERIFIER_UNAVAILABLE",
  "AUDIT_UNAVAILABLE",
  "STORE_UNAVAILABLE",
  "CA_PUBLICATION_FAILED",
  // admin API
  "ADMIN_UNAUTHENTICATED",
  "MANIFEST_SIGNATURE_INVALID",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "MANIFEST_STATE_CONFLICT",
  "DATA_KEY_INVALID",
  "ROTATION_IN_PROGRESS",
  // start-up and HSM
  "CONFIG_INVALID",
  "PIN_UNAVAILABLE",
  "HSM_MODULE_LOAD_FAILED",
  "HSM_TOKEN_NOT_FOUND",
  "HSM_LOGIN_FAILED",
  "HSM_MECHANISM_MISSING",
  "HSM_KEY_MISSING",
  "HSM_KEY_CONFLICT",
  "HSM_OPERATION_FAILED",
  "WRAPPED_KEY_CORRUPT",
  "STATE_CORRUPT",
  "INTERNAL",
] as const;

/** Stable code of a key-broker failure. */
export type KeyBrokerErrorCode = (typeof KEY_BROKER_ERROR_CODES)[number];

/** HTTP status for each code (codes that never reach HTTP map to 500). */
export const KEY_BROKER_ERROR_STATUS: Readonly<Record<KeyBrokerErrorCode, number>> = {
  BODY_MALFORMED: 400,
  BODY_INVALID: 400,
  BODY_TOO_LARGE: 413,
  MEDIA_TYPE_UNSUPPORTED: 415,
  ROUTE_NOT_FOUND: 404,
  PROTOCOL_VERSION_UNSUPPORTED: 400,
  TEE_UNSUPPORTED: 400,
  SESSION_MISSING: 401,
  SESSION_UNKNOWN: 401,
  NONCE_EXPIRED: 401,
  NONCE_REUSED: 401,
  NONCE_MISMATCH: 400,
  TEE_KEY_INVALID: 400,
  EVIDENCE_REJECTED: 401,
  ATTESTATION_DENIED: 403,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_SUPERSEDED: 401,
  RESOURCE_NOT_FOUND: 404,
  RESOURCE_FORBIDDEN: 403,
  SESSIONS_EXHAUSTED: 503,
  PEER_SESSIONS_EXHAUSTED: 429,
  HSM_UNAVAILABLE: 503,
  VERIFIER_UNAVAILABLE: 503,
  AUDIT_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  CA_PUBLICATION_FAILED: 500,
  ADMIN_UNAUTHENTICATED: 401,
  MANIFEST_SIGNATURE_INVALID: 422,
  MANIFEST_INVALID: 422,
  MANIFEST_UNKNOWN: 404,
  MANIFEST_STATE_CONFLICT: 409,
  DATA_KEY_INVALID: 422,
  ROTATION_IN_PROGRESS: 409,
  CONFIG_INVALID: 500,
  PIN_UNAVAILABLE: 500,
  HSM_MODULE_LOAD_FAILED: 503,
  HSM_TOKEN_NOT_FOUND: 503,
  HSM_LOGIN_FAILED: 503,
  HSM_MECHANISM_MISSING: 500,
  HSM_KEY_MISSING: 503,
  HSM_KEY_CONFLICT: 500,
  HSM_OPERATION_FAILED: 500,
  WRAPPED_KEY_CORRUPT: 500,
  STATE_CORRUPT: 500,
  INTERNAL: 500,
};

/** One line per code (docs/errors.md is generated from it); `start-up:` codes end the start and never reach a client. */
export const KEY_BROKER_ERROR_MEANINGS: Readonly<Record<KeyBrokerErrorCode, string>> = {
  BODY_MALFORMED: "the body is not JSON (or empty)",
  BODY_INVALID: "the JSON does not fit the message schema; `problems` lists every field path",
  BODY_TOO_LARGE: "the body exceeds `limits.bodyBytes` (default 256 KiB)",
  MEDIA_TYPE_UNSUPPORTED: "a Content-Type other than `application/json` (admin data keys: `application/octet-stream`)",
  ROUTE_NOT_FOUND: "no such endpoint or method",
  PROTOCOL_VERSION_UNSUPPORTED: "`Request.version` is not `0.4.0`",
  TEE_UNSUPPORTED: "`Request.tee` is not `snp` (`az-snp-vtpm` is refused with its reason)",
  SESSION_MISSING: "`/attest` without the `kbs-session-id` cookie",
  SESSION_UNKNOWN: "unknown or forgotten session (e.g. after a broker restart): run `/auth` again",
  NONCE_EXPIRED: "the challenge is older than `ttl.nonceSeconds`",
  NONCE_REUSED: "the challenge was already answered (nonces are single-use, even after a failure)",
  NONCE_MISMATCH: "`runtime-data.nonce` is not the session's challenge",
  TEE_KEY_INVALID:
    "`runtime-data.tee-pubkey` is not an EC P-256/P-384/P-521 (`ECDH-ES+A256KW`) or RSA 2048-8192 bit (`RSA-OAEP-256`) public JWK, or carries a private member; `problems` names each field",
  EVIDENCE_REJECTED:
    "the verifier found the evidence not authentic or not bound to the nonce, key or init-data (drift class `invalid-evidence`)",
  ATTESTATION_DENIED:
    "authentic evidence, but a policy failure or a drift class other than `ok`/`platform-updated`; `driftClass` says which",
  TOKEN_MISSING: "resource request without a bearer token or an attested session cookie",
  TOKEN_INVALID: "malformed token, unknown `kid`, bad signature, wrong issuer or unknown epoch",
  TOKEN_EXPIRED: "the token is older than `ttl.tokenSeconds`",
  TOKEN_SUPERSEDED: "the token's epoch was superseded more than `ttl.graceSeconds` ago",
  RESOURCE_NOT_FOUND: "no such resource",
  RESOURCE_FORBIDDEN: "no resource rule lets this release / launch shape read it",
  SESSIONS_EXHAUSTED:
    "`limits.maxSessions` open sessions and none may be evicted (attestations in progress, sessions attested within the nonce lifetime)",
  PEER_SESSIONS_EXHAUSTED:
    "this peer (IPv4 address or IPv6 /64) already holds `limits.sessionsPerPeer` unanswered challenges",
  HSM_UNAVAILABLE:
    "the HSM (device, token or session) is gone; requests fail closed and the broker reconnects by itself",
  VERIFIER_UNAVAILABLE: "collateral (VCEK, chain) could not be obtained: no verdict, fail closed",
  AUDIT_UNAVAILABLE: "the audit log cannot be written: nothing is released",
  STORE_UNAVAILABLE:
    "the replicated state store (PostgreSQL) cannot be reached or timed out: this replica releases nothing until it can",
  CA_PUBLICATION_FAILED:
    "publishing the broker CA bundle to the gateway's ConfigMap failed (API server unreachable, token refused, RBAC); retried every `caPublication.intervalSeconds`; the gateway keeps the bundle it has (logged, never sent to a client)",
  ADMIN_UNAUTHENTICATED:
    "admin request without a verified operator certificate (only reachable through `identify` in tests; TLS refuses earlier)",
  MANIFEST_SIGNATURE_INVALID: "the manifest JWS does not verify with the pinned release key",
  MANIFEST_INVALID: "the signed manifest is not a valid golden manifest",
  MANIFEST_UNKNOWN: "no verified manifest with that id",
  MANIFEST_STATE_CONFLICT: "activating a manifest that is retired (or signed as retired)",
  DATA_KEY_INVALID: "data key not 16, 24 or 32 bytes, or a bad `repository/type/tag`",
  ROTATION_IN_PROGRESS: "another rotation is running (on this replica, or another replica holds the rotation lease)",
  CONFIG_INVALID: "start-up: the configuration is invalid (`problems` lists every field path)",
  PIN_UNAVAILABLE: "start-up: the PIN file or variable is missing or empty",
  HSM_MODULE_LOAD_FAILED: "start-up: the PKCS#11 module cannot be loaded or initialised",
  HSM_TOKEN_NOT_FOUND: "start-up: no token with the configured label",
  HSM_LOGIN_FAILED: "start-up: the token refused the PIN",
  HSM_MECHANISM_MISSING: "start-up: the token lacks a required mechanism (`problems` names each one)",
  HSM_KEY_MISSING: "a key version the state names is not in the token (fails closed, never re-created)",
  HSM_KEY_CONFLICT:
    "start-up or rotation: the token holds objects under a key label the state does not record (state.json lost or replaced, another broker on the token, or keys not generated inside the token); nothing is overwritten",
  HSM_OPERATION_FAILED: "an unexpected PKCS#11 result (CKR code in the message)",
  WRAPPED_KEY_CORRUPT: "a wrapped data key fails its GCM tag",
  STATE_CORRUPT: "`state.json` cannot be read",
  INTERNAL: "anything unexpected (fixed message, nothing forwarded)",
};

/** Prefix of the problem `type` URI; the code follows (`.../errors/NONCE_REUSED`). */
export const PROBLEM_TYPE_PREFIX = "https://confidential-inference.dev/keybroker/errors/";

/** Options of a {@link KeyBrokerError}. */
export interface KeyBrokerErrorOptions {
  readonly cause?: unknown;
  /** Every problem found, each with its field path (sent as the problem body's `problems`). */
  readonly problems?: readonly Problem[];
  /** Drift class of the verdict that caused the error (sent as the problem body's `driftClass`). */
  readonly driftClass?: string;
}

/** A key-broker failure with a stable `code`; `cause` is forwarded. */
export class KeyBrokerError extends CodedError<KeyBrokerErrorCode> {
  /** Drift class of the verdict that caused the error, when one did. */
  readonly driftClass: string | undefined;

  constructor(code: KeyBrokerErrorCode, message: string, options: KeyBrokerErrorOptions = {}) {
    const problems = options.problems;
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(problems === undefined ? {} : { problems }),
    });
    this.driftClass = options.driftClass;
  }

  /** HTTP status of this error. */
  get status(): number {
    return KEY_BROKER_ERROR_STATUS[this.code];
  }
}

/** True when `e` is a KeyBrokerError, optionally with the given code. */
export function isKeyBrokerError(e: unknown, code?: KeyBrokerErrorCode): e is KeyBrokerError {
  return e instanceof KeyBrokerError && (code === undefined || e.code === code);
}
