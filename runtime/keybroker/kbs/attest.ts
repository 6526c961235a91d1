/**
 * KBS protocol step 3-4 (/attest): verifies the Attestation against the session's challenge, records
 * the node, and issues the attestation token (and the runtime certificate when the Request asked for
 * it). Every attestation decision is written to the audit log before it takes effect.
 */
import { createHash } from "node:crypto";
import type { KeyBroker } from "../broker.js";
import { canonicalJson } from "../../../core/index.js";
import { KeyBrokerError, isKeyBrokerError } from "../errors.js";
import { serialNumber } from "../keys/ca-certificate.js";
import {
  expectedReportData,
  prepareJwe,
  type PreparedJwe,
  attestationSchema,
  RUNTIME_CERTIFICATE_RESOURCE,
  type RuntimeCertificate,
  teeKeyThumbprint,
} from "../../kbs-protocol/index.js";
import { decideAttestation, decideResource } from "../release/release-rule.js";
import { certificateKeyProblem, issueRuntimeCertificate } from "../session/certificates.js";
import { parseBody } from "../http/parse-body.js";
import { issueTokenAsync, newTokenId, type TokenClaims } from "../session/tokens.js";
import type { AuditEntry } from "../state/audit.js";
import { checkAttestationInput } from "./attestation-input.js";
import { sessionWho, type RequestMeta } from "./auth.js";

/** How often a known node's lastSeen is written to a shared store (ms): not once per handshake. */
const NODE_TOUCH_MS = 60_000;

/** Step 3-4: verifies the Attestation against the session's challenge and issues a token. */
export async function kbsAttest(
  broker: KeyBroker,
  sessionId: string | undefined,
  body: unknown,
  meta: RequestMeta,
): Promise<{ token: string; claims: TokenClaims; certificate?: RuntimeCertificate }> {
  const base: { who?: string; peer?: string } = {
    ...(sessionWho(sessionId) ? { who: sessionWho(sessionId) } : {}),
    ...(meta.peer ? { peer: meta.peer } : {}),
  };
  let audit: Partial<AuditEntry> = {};
  let session;
  let prepared: Promise<PreparedJwe> | undefined;
  try {
    session = await broker.sessions.begin(sessionId);
  } catch (e) {
    if (isKeyBrokerError(e)) await broker.record({ event: "kbs.attest", decision: "denied", code: e.code, ...base });
    throw e;
  }
  try {
    const att = parseBody(attestationSchema, body, "KBS Attestation");
    await broker.fresh(session.docVersion);
    const input = checkAttestationInput(att, broker.config.attestation.additionalDevices);
    const rd = att["runtime-data"];
    const teeKey = input.teeKey.jwk;
    audit = {
      teeKey: teeKeyThumbprint(teeKey),
      tee: session.tee,
      ...(input.devices.length > 0 ? { detail: `additional evidence: ${input.devices.join(", ")}` } : {}),
    };
    if (rd.nonce !== session.nonce)
      throw new KeyBrokerError("NONCE_MISMATCH", "runtime-data.nonce is not this session's challenge nonce");
    const evidence = att["tee-evidence"].primary_evidence;
    audit = { ...audit, evidenceHash: createHash("sha256").update(canonicalJson(evidence)).digest("hex") };
    const expected = expectedReportData(rd.nonce, teeKey, att["tee-evidence"].additional_evidence);
    const now = broker.now();
    const manifests = broker.manifests();
    const verdict = await broker.verifier.verify({
      tee: session.tee,
      evidence,
      expectedReportData: expected,
      ...(input.initData ? { expectedHostData: input.initData.hostData } : {}),
      manifests,
      inventory: broker.inventory(),
      now,
    });
    const decision = decideAttestation(verdict, manifests);
    const claims = decision.claims;
    audit = {
      ...audit,
      verdict: verdict.accepted ? "accepted" : "rejected",
      driftClass: decision.driftClass,
      ...(claims ? { measurement: claims.measurement, chipId: claims.chipId } : {}),
    };
    if (!decision.granted) {
      // The failed checks (codes and field paths) or the drift reason: identifiers only, never report bytes.
      audit = { ...audit, detail: decision.reason.slice(0, 300) };
      throw new KeyBrokerError(
        decision.code,
        `attestation ${decision.code === "EVIDENCE_REJECTED" ? "rejected" : "denied"} (drift class ${decision.driftClass}): ${decision.reason}`,
        { driftClass: decision.driftClass },
      );
    }
    await observe(broker, decision.claims.chipId, decision.claims.product, decision.claims.reportedTcb);
    const signing = broker.keyring.active("signing");
    const jti = newTokenId();
    const epoch = broker.epoch();
    const unsigned = {
      iss: broker.config.issuer,
      "tee-pubkey": teeKey,
      tee: session.tee,
      epoch,
      "drift-class": decision.driftClass,
      measurement: decision.claims.measurement,
      "chip-id": decision.claims.chipId,
      tcb: decision.claims.reportedTcb,
      release: decision.release,
      "launch-shape": decision.launchShape,
    };
    // The certificate the Request asked for, under the same resource rule as GET runtime/certificate/tls.
    const certDenied = session.certificate
      ? (certificateKeyProblem(teeKey) ??
        decideResource(broker.policy.resourceRules, RUNTIME_CERTIFICATE_RESOURCE, {
          release: decision.release,
          launchShape: decision.launchShape,
        }))
      : undefined;
    const serial = session.certificate && certDenied === undefined ? serialNumber() : undefined;
    const granted = {
      release: decision.release,
      measurement: decision.claims.measurement,
      chipId: decision.claims.chipId,
      driftClass: decision.driftClass,
      epoch,
      tokenId: jti,
    };
    // The grants are written (one group commit, on the thread pool) while the HSM signs token and
    // certificate (two pooled sessions, in parallel); nothing leaves before all of them are done.
    const audited = Promise.all([
      broker.record({
        event: "kbs.attest",
        decision: "granted",
        ...base,
        ...audit,
        release: decision.release,
        epoch,
        tokenId: jti,
      }),
      ...(serial
        ? [
            broker.record({
              event: "kbs.resource",
              decision: "granted",
              ...base,
              resource: RUNTIME_CERTIFICATE_RESOURCE,
              ...granted,
              detail: `certificate serial ${serial.toString("hex")}`,
            }),
          ]
        : []),
      ...(certDenied !== undefined
        ? [
            broker.record({
              event: "kbs.resource",
              decision: "denied",
              code: "RESOURCE_FORBIDDEN",
              ...base,
              resource: RUNTIME_CERTIFICATE_RESOURCE,
              ...granted,
              detail: certDenied.slice(0, 200),
            }),
          ]
        : []),
    ]);
    audited.catch(() => undefined); // observed below, after the signatures; never an unhandled rejection meanwhile
    const signed = Promise.all([
      issueTokenAsync(
        unsigned,
        now,
        broker.config.ttl.tokenSeconds,
        {
          kid: signing.label,
          sign: async (input) => (await broker.keyring.signEs384Async("signing", input, signing.version)).signature,
        },
        jti,
      ),
      serial ? issueRuntimeCertificate(broker, unsigned, serial) : undefined,
    ]);
    // The key agreement of the session's first resource response (a pre-generated ephemeral key,
    // the ECDH), computed once this response is written, while it travels and the guest prepares
    // its next request: that request then only needs the unwrap and the seal.
    prepared = prepareJwe(input.teeKey, {
      keys: broker.ephemeralKeys,
      after: signed,
    });
    prepared.catch(() => undefined); // a failure surfaces when a resource request awaits it
    let issued: { token: string; claims: TokenClaims };
    let certificate: RuntimeCertificate | undefined;
    try {
      [issued, certificate] = await signed;
    } finally {
      await audited.catch(() => undefined);
    }
    await audited;
    if (decision.driftClass === "platform-updated")
      broker.log.warn(
        { event: "kbs.attest", driftClass: decision.driftClass, release: decision.release },
        "platform updated above the floor: raise the TCB floor",
      );
    await broker.sessions.finish(session, {
      token: issued.token,
      expiresAt: issued.claims.exp * 1000,
      claims: issued.claims,
    });
    broker.prepared.put(session.id, issued.token, prepared);
    return certificate ? { ...issued, certificate } : issued;
  } catch (e) {
    void prepared?.then(
      (p) => p.cek.fill(0),
      () => undefined,
    );
    await broker.sessions.finish(session, undefined).catch(() => undefined);
    // Every refusal leaves its line, the unexpected ones too (as INTERNAL: no error text is logged).
    if (!isKeyBrokerError(e, "AUDIT_UNAVAILABLE")) {
      const code = isKeyBrokerError(e) ? e.code : "INTERNAL";
      await broker.record({ event: "kbs.attest", decision: "denied", code, ...base, ...audit });
    }
    throw e;
  }
}

/** Records a node; a known chip with a different TCB starts a new epoch (node rebuilt or re-patched). */
async function observe(broker: KeyBroker, chipId: string, product: string, tcb: TokenClaims["tcb"]): Promise<void> {
  const now = broker.now();
  if (broker.knowsNode(chipId, tcb, now, NODE_TOUCH_MS)) return;
  const r = await broker.store.observeNode(chipId, product, tcb, now, NODE_TOUCH_MS);
  broker.noteNode(chipId, { product, tcb, firstSeen: now.toISOString(), lastSeen: now.toISOString() });
  if (r.seen === "same") return;
  await broker.fresh();
  if (r.epoch)
    await broker.record({
      event: "rotation",
      decision: "info",
      epoch: r.epoch.epoch,
      chipId,
      detail: "node-rebuilt: new reported TCB",
    });
}
