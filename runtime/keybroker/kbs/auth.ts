/**
 * KBS protocol step 1-2 (/auth): validates the Request and opens a session with a fresh challenge.
 * Also the pieces every KBS operation shares: where a request came from, and the audit identity of
 * a session. Every denial is written to the audit log before the error leaves.
 */
import { createHash } from "node:crypto";
import type { KeyBroker } from "../broker.js";
import { KeyBrokerError, isKeyBrokerError } from "../errors.js";
import {
  CERTIFICATE_PARAM,
  KBS_PROTOCOL_VERSION,
  REFUSED_TEES,
  requestSchema,
  SUPPORTED_TEES,
  type KbsChallenge,
} from "../../kbs-protocol/index.js";
import { parseBody } from "../http/parse-body.js";

/** Where a request came from (for the audit log). */
export interface RequestMeta {
  readonly peer?: string;
}

/** Short, non-reversible audit identity of a session id (the cookie is a credential). */
export function sessionWho(id: string | undefined): string | undefined {
  return id === undefined ? undefined : `session:${createHash("sha256").update(id).digest("hex").slice(0, 16)}`;
}

/** Step 1-2: validates the Request and opens a session with a fresh challenge. */
export async function kbsAuth(
  broker: KeyBroker,
  body: unknown,
  meta: RequestMeta,
): Promise<{ sessionId: string; challenge: KbsChallenge }> {
  try {
    const req = parseBody(requestSchema, body, "KBS Request");
    if (req.version !== KBS_PROTOCOL_VERSION) {
      throw new KeyBrokerError(
        "PROTOCOL_VERSION_UNSUPPORTED",
        `KBS protocol version ${JSON.stringify(req.version).slice(0, 40)} is not supported (this broker speaks ${KBS_PROTOCOL_VERSION})`,
      );
    }
    const refused = Object.hasOwn(REFUSED_TEES, req.tee) ? REFUSED_TEES[req.tee] : undefined;
    if (refused !== undefined) throw new KeyBrokerError("TEE_UNSUPPORTED", refused);
    if (!SUPPORTED_TEES.includes(req.tee))
      throw new KeyBrokerError(
        "TEE_UNSUPPORTED",
        `tee ${JSON.stringify(req.tee).slice(0, 40)} is not supported (supported: ${SUPPORTED_TEES.join(", ")})`,
      );
    const s = await broker.sessions.create(req.tee, {
      certificate: wantsCertificate(req["extra-params"]),
      ...(meta.peer ? { peer: meta.peer } : {}),
    });
    return { sessionId: s.id, challenge: { nonce: s.nonce, "extra-params": { "selected-hash-algorithm": "sha384" } } };
  } catch (e) {
    if (isKeyBrokerError(e))
      await broker.record({
        event: "kbs.auth",
        decision: "denied",
        code: e.code,
        ...(meta.peer ? { peer: meta.peer } : {}),
      });
    throw e;
  }
}

/**
 * Whether a Request asks for the runtime certificate with the token (our extension of Trustee's
 * reserved `extra-params`: `{"runtime-certificate": true}`, as an object or its JSON text).
 */
export function wantsCertificate(extra: unknown): boolean {
  let o = extra;
  if (typeof extra === "string" && extra.startsWith("{")) {
    try {
      o = JSON.parse(extra) as unknown;
    } catch {
      return false;
    }
  }
  return typeof o === "object" && o !== null && (o as Record<string, unknown>)[CERTIFICATE_PARAM] === true;
}
