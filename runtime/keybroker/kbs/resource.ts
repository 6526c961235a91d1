/**
 * KBS protocol step 4 for resources (/resource): authorises the request by its attestation token and
 * returns the resource (a model data key, the runtime certificate or the session key) sealed as JWE
 * to the TEE key. Every resource decision is written to the audit log before it takes effect.
 */
import type { KeyBroker } from "../broker.js";
import { KeyBrokerError, isKeyBrokerError } from "../errors.js";
import { hasDataKey, RESOURCE_ID, unwrapDataKey } from "../keys/data-keys.js";
import { serialNumber } from "../keys/ca-certificate.js";
import { teeKeyCheck } from "../keys/tee-key.js";
import {
  parseTeeKey,
  prepareJwe,
  sealJwe,
  type FlattenedJwe,
  RUNTIME_CERTIFICATE_RESOURCE,
  SESSION_KEY_RESOURCE,
} from "../../kbs-protocol/index.js";
import { decideResource } from "../release/release-rule.js";
import { issueRuntimeCertificate } from "../session/certificates.js";
import { deriveSessionKey } from "../session/session-keys.js";
import { checkTokenClaims, verifyToken, type TokenClaims } from "../session/tokens.js";
import type { AuditEntry } from "../state/audit.js";
import { sessionWho, type RequestMeta } from "./auth.js";

/** Credentials of a resource request: a bearer token or the session cookie. */
export interface ResourceAuth {
  readonly bearer?: string;
  readonly sessionId?: string;
}

/** Step 4 (resources): authorises the request and returns the resource as JWE to the TEE key. */
export async function kbsResource(
  broker: KeyBroker,
  auth: ResourceAuth,
  repository: string,
  type: string,
  tag: string,
  meta: RequestMeta,
): Promise<FlattenedJwe> {
  const resource = `${repository}/${type}/${tag}`;
  const base: Partial<AuditEntry> = {
    resource: resource.slice(0, 200),
    ...(meta.peer ? { peer: meta.peer } : {}),
    ...(sessionWho(auth.sessionId) ? { who: sessionWho(auth.sessionId) } : {}),
  };
  let claims: TokenClaims | undefined;
  try {
    const held = auth.sessionId === undefined ? undefined : await broker.sessions.tokenOf(auth.sessionId);
    await broker.fresh(held?.docVersion);
    const token = auth.bearer ?? held?.token;
    if (token === undefined)
      throw new KeyBrokerError(
        "TOKEN_MISSING",
        "no attestation token: send Authorization: Bearer <token> or the kbs-session-id cookie of an attested session",
      );
    const checks = {
      issuer: broker.config.issuer,
      now: broker.now(),
      epochs: broker.state.epochs,
      graceSeconds: broker.config.ttl.graceSeconds,
    };
    // The token of this very session was issued by this broker: its claims are kept, only time and
    // epoch need checking.
    const own = held !== undefined && held.token === token ? (held.claims as Partial<TokenClaims>) : undefined;
    claims = own
      ? checkTokenClaims(own, checks)
      : verifyToken(token, {
          ...checks,
          keyFor: (kid) => broker.keyring.versions("signing").find((v) => v.label === kid)?.publicJwk,
        });
    const builtIn = resource === RUNTIME_CERTIFICATE_RESOURCE || resource === SESSION_KEY_RESOURCE;
    if (!RESOURCE_ID.test(resource) || (!builtIn && !hasDataKey(broker.state, resource)))
      throw new KeyBrokerError("RESOURCE_NOT_FOUND", `no resource ${resource.slice(0, 200)}`);
    const why = decideResource(broker.policy.resourceRules, resource, {
      release: claims.release,
      launchShape: claims["launch-shape"],
    });
    if (why !== undefined) throw new KeyBrokerError("RESOURCE_FORBIDDEN", why);
    const teeJwk = claims["tee-pubkey"];
    const recipient = teeKeyCheck(() => parseTeeKey(teeJwk, "token tee-pubkey"));
    const serial = serialNumber();
    const detail =
      resource === RUNTIME_CERTIFICATE_RESOURCE
        ? `certificate serial ${serial.toString("hex")}`
        : resource === SESSION_KEY_RESOURCE
          ? `session key epoch ${claims.epoch}`
          : `data key v${broker.state.dataKeys[resource]?.active}`;
    // Three jobs at once on the thread pool: the grant's audit write, the JWE's ephemeral key and the
    // HSM operation producing the plaintext; nothing leaves before all of them are done.
    const audited = broker.record({
      event: "kbs.resource",
      decision: "granted",
      ...base,
      tokenId: claims.jti,
      release: claims.release,
      measurement: claims.measurement,
      chipId: claims["chip-id"],
      driftClass: claims["drift-class"],
      epoch: claims.epoch,
      detail,
    });
    audited.catch(() => undefined);
    // The session's own token brings the agreement prepared at /attest (once); anything else prepares one now.
    const prepared =
      (own && auth.sessionId !== undefined ? broker.prepared.take(auth.sessionId, token) : undefined) ??
      prepareJwe(recipient, { keys: broker.ephemeralKeys });
    prepared.catch(() => undefined); // awaited after the HSM operation; its failure surfaces there
    let plaintext: Buffer | undefined;
    try {
      if (resource === RUNTIME_CERTIFICATE_RESOURCE)
        plaintext = Buffer.from(JSON.stringify(await issueRuntimeCertificate(broker, claims, serial)));
      else if (resource === SESSION_KEY_RESOURCE)
        plaintext = Buffer.from(JSON.stringify(await deriveSessionKey(broker, claims)));
      else plaintext = (await unwrapDataKey(broker.state, broker.keyring, resource)).key;
      const jwe = sealJwe(await prepared, plaintext);
      await audited;
      return jwe;
    } finally {
      plaintext?.fill(0);
      void prepared.then(
        (p) => p.cek.fill(0),
        () => undefined,
      );
      await audited.catch(() => undefined);
    }
  } catch (e) {
    if (isKeyBrokerError(e) && e.code !== "AUDIT_UNAVAILABLE") {
      await broker.record({
        event: "kbs.resource",
        decision: "denied",
        code: e.code,
        ...base,
        ...(claims ? { tokenId: claims.jti, release: claims.release, driftClass: claims["drift-class"] } : {}),
      });
    }
    throw e;
  }
}
