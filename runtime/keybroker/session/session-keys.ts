/**
 * Session keys derived per (manifest release, chip id, epoch) inside the HSM: HMAC-SHA384 under a
 * non-extractable derivation secret over a fixed-format label, truncated to 32 bytes (an
 * HKDF-Expand-style single block). A new release, a new chip, a new epoch or a new secret version
 * gives a new key; the same triple gives the same key on every broker replica sharing the token.
 */
import { createHash } from "node:crypto";
import type { KeyBroker } from "../broker.js";
import type { TokenClaims } from "./tokens.js";
import type { SessionKey } from "../../kbs-protocol/index.js";

/** The derivation label (public): which (release, chip id, epoch) a key belongs to. */
export function sessionKeyLabel(release: string, chipId: string, epoch: number): string {
  return `ci-session-key/v1|release=${release}|chip=${chipId}|epoch=${epoch}`;
}

/** Derives the session key for the token's release, chip id and epoch. */
export async function deriveSessionKey(broker: KeyBroker, claims: TokenClaims): Promise<SessionKey> {
  const label = sessionKeyLabel(claims.release, claims["chip-id"], claims.epoch);
  const { mac, record } = await broker.keyring.hmacAsync(Buffer.from(label, "utf8"));
  try {
    const key = mac.subarray(0, 32);
    const notAfter = new Date(broker.now().getTime() + broker.config.ttl.sessionKeySeconds * 1000);
    return {
      kid: `${record.label}:e${claims.epoch}:${createHash("sha256").update(label).digest("hex").slice(0, 16)}`,
      alg: "A256GCM",
      k: key.toString("base64url"),
      release: claims.release,
      chipId: claims["chip-id"],
      epoch: claims.epoch,
      notAfter: notAfter.toISOString(),
    };
  } finally {
    mac.fill(0);
  }
}
