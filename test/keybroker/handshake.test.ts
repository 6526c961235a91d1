/**
 * End to end over real TLS on loopback, real SoftHSM2 and the real verifier on simulated SNP
 * evidence (byte-exact reports from a generated ARK/ASK/VCEK chain).
 */
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { flattenedDecrypt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimulatedSnp } from "../../runtime/simulators/snp/platform.js";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { decodeClaims, KbsClient, type KbsEvidenceProvider } from "../../runtime/attester/kbs/client.js";
import { simulatedSnpEvidence } from "../../runtime/simulators/index.js";
import {
  adminRequest,
  auditLines,
  brokerFixture,
  goldenManifest,
  listen,
  measurementOf,
  signedManifest,
  startBroker,
  testClock,
  type BrokerFixture,
  simulatedVerifier,
} from "../helpers/keybroker.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

const M_ACTIVE = measurementOf("inference-r1");
const M_OTHER_SHAPE = measurementOf("batch-job-r1");
const M_PENDING = measurementOf("inference-r2");
const M_RETIRED = measurementOf("inference-r0");
const FLOOR = { bootloader: 10, tee: 0, snp: 25, microcode: 84 };
const MODEL_KEY = Buffer.from("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "hex");

describe("KBS handshake with simulated SNP evidence", () => {
  let f: BrokerFixture;
  let broker: KeyBroker;
  let net: Awaited<ReturnType<typeof listen>>;
  let sim: SimulatedSnp;
  const clock = testClock();
  const client = (evidence: KbsEvidenceProvider) => new KbsClient({ url: net.kbsUrl, ca: net.ca, evidence });
  const admin = (method: "GET" | "POST", path: string, body?: unknown, type?: string) =>
    adminRequest(net.adminUrl, net.ca, f.operator, method, path, body, type);
  let pendingId = "";

  beforeAll(async () => {
    sim = await sharedSimulatedSnp("Genoa");
    f = brokerFixture({ ttl: { nonceSeconds: 30, tokenSeconds: 120, sessionKeySeconds: 600, graceSeconds: 60 } });
    broker = await startBroker(f, simulatedVerifier(sim), { now: clock.now });
    net = await listen(broker, f);
    const active = goldenManifest({
      release: "r1",
      status: "active",
      shapes: { "inference-small": M_ACTIVE, "batch-job": M_OTHER_SHAPE },
      tcbFloors: { Genoa: FLOOR },
    });
    const pending = goldenManifest({ release: "r2", status: "pending", shapes: { "inference-small": M_PENDING } });
    const retired = goldenManifest({ release: "r0", status: "retired", shapes: { "inference-small": M_RETIRED } });
    for (const m of [active, pending, retired]) {
      const r = await admin("POST", "/admin/v1/manifests", { jws: await signedManifest(m, f.release.privateKey) });
      expect(r.status).toBe(201);
      if (m.release === "r2") pendingId = r.body.manifest.id;
    }
    expect(
      (
        await admin(
          "POST",
          "/admin/v1/data-keys/default/model/sentiment",
          Buffer.from(MODEL_KEY),
          "application/octet-stream",
        )
      ).status,
    ).toBe(200);
  });
  afterAll(async () => {
    await net.close();
    await broker.close();
  });

  it("releases the model key, a runtime certificate and a session key to an active measurement", async () => {
    const c = client(simulatedSnpEvidence(sim, { measurement: M_ACTIVE }));
    const creds = await c.release({ keyIds: ["default/model/sentiment"], sessionKey: true });
    c.close();
    expect(Buffer.from(creds.modelKeys.get("default/model/sentiment") as Uint8Array).toString("hex")).toBe(
      MODEL_KEY.toString("hex"),
    );
    const cert = new X509Certificate(creds.certificate.certificate);
    const ca = new X509Certificate(broker.keyring.active("ca").certPem as string);
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(creds.serverKey))).toBe(true);
    expect(cert.subjectAltName).toContain(
      `URI:urn:confidential-inference:runtime:release:r1:shape:inference-small:epoch:${broker.epoch()}`,
    );
    expect(creds.sessionKey?.release).toBe("r1");
    expect(creds.sessionKey?.chipId).toBe(sim.chipId.toString("hex"));
    expect(Buffer.from(creds.sessionKey?.k as string, "base64url")).toHaveLength(32);
  });

  it("an independent JWE implementation (jose) opens the model key the broker sends over the wire", async () => {
    const decrypt = async (jwe: Parameters<typeof flattenedDecrypt>[0], key: Parameters<typeof flattenedDecrypt>[1]) =>
      Buffer.from(
        (
          await flattenedDecrypt(jwe, key, {
            keyManagementAlgorithms: ["ECDH-ES+A256KW"],
            contentEncryptionAlgorithms: ["A256GCM"],
          })
        ).plaintext,
      );
    const c = new KbsClient({
      url: net.kbsUrl,
      ca: net.ca,
      evidence: simulatedSnpEvidence(sim, { measurement: M_ACTIVE }),
      decrypt,
    });
    expect((await c.getResource("default/model/sentiment")).toString("hex")).toBe(MODEL_KEY.toString("hex"));
    c.close();
  });

  it("refuses models/* to a measurement of another launch shape (resource rule)", async () => {
    const c = client(simulatedSnpEvidence(sim, { measurement: M_OTHER_SHAPE }));
    await c.attest();
    await expect(c.getResource("default/model/sentiment")).rejects.toMatchObject({
      details: { status: 403, serverCode: "RESOURCE_FORBIDDEN" },
    });
    c.close();
  });

  const denials: [string, () => KbsEvidenceProvider, number, string, string][] = [
    [
      "pending-release",
      () => simulatedSnpEvidence(sim, { measurement: M_PENDING }),
      403,
      "ATTESTATION_DENIED",
      "pending-release",
    ],
    [
      "retired-release",
      () => simulatedSnpEvidence(sim, { measurement: M_RETIRED }),
      403,
      "ATTESTATION_DENIED",
      "retired-release",
    ],
    [
      "unknown-measurement",
      () => simulatedSnpEvidence(sim, { measurement: measurementOf("tampered") }),
      403,
      "ATTESTATION_DENIED",
      "unknown-measurement",
    ],
    [
      "tcb-below-floor",
      () => simulatedSnpEvidence(sim, { measurement: M_ACTIVE, reportedTcb: { ...FLOOR, snp: 24 } }),
      403,
      "ATTESTATION_DENIED",
      "tcb-below-floor",
    ],
    [
      "invalid-evidence (report data of another key)",
      () => ({
        tee: "snp",
        getEvidence: (rd: Buffer) =>
          simulatedSnpEvidence(sim, { measurement: M_ACTIVE }).getEvidence(Buffer.from(rd).fill(1, 0, 8)),
      }),
      401,
      "EVIDENCE_REJECTED",
      "invalid-evidence",
    ],
    [
      "a debug guest (golden measurement, authentic, outside the policy: DEBUG_ALLOWED)",
      () => simulatedSnpEvidence(sim, { measurement: M_ACTIVE, policy: { smt: true, debug: true } }),
      403,
      "ATTESTATION_DENIED",
      "invalid-evidence",
    ],
  ];
  it.each(denials)(
    "denies %s with its drift class and audits it",
    async (_name, provider, status, code, driftClass) => {
      const c = client(provider());
      const err = await c.attest().then(
        () => undefined,
        (e: unknown) => e,
      );
      c.close();
      expect(err).toMatchObject({ code: "CLIENT_PROTOCOL_ERROR", details: { status, serverCode: code, driftClass } });
      const last = auditLines(f)
        .filter((l) => l.event === "kbs.attest")
        .at(-1);
      expect(last).toMatchObject({ event: "kbs.attest", decision: "denied", code, driftClass, verdict: "rejected" });
      expect(last.evidenceHash).toMatch(/^[0-9a-f]{64}$/);
    },
  );

  it("rejects replayed evidence: the same Attestation twice, and captured evidence in a new session", async () => {
    let captured: unknown;
    const recording: KbsEvidenceProvider = {
      tee: "snp",
      getEvidence: async (rd) =>
        (captured = await simulatedSnpEvidence(sim, { measurement: M_ACTIVE }).getEvidence(rd)),
    };
    const c = client(recording);
    await c.attest();
    c.close();
    const replay = client({ tee: "snp", getEvidence: async () => captured });
    await expect(replay.attest()).rejects.toMatchObject({
      details: { status: 401, serverCode: "EVIDENCE_REJECTED", driftClass: "invalid-evidence" },
    });
    replay.close();
    expect(
      auditLines(f)
        .filter((l) => l.event === "kbs.attest")
        .at(-1),
    ).toMatchObject({ decision: "denied", code: "EVIDENCE_REJECTED" });
  });

  it("expires tokens: TOKEN_EXPIRED after tokenSeconds, and the client attests again", async () => {
    const c = client(simulatedSnpEvidence(sim, { measurement: M_ACTIVE }));
    const { token } = await c.attest();
    clock.advance(121);
    const r = await fetchWithToken(net.kbsUrl, net.ca, token, "default/model/sentiment");
    expect(r).toMatchObject({ status: 401, code: "TOKEN_EXPIRED" });
    expect((await c.getResource("default/model/sentiment")).toString("hex")).toBe(MODEL_KEY.toString("hex"));
    expect(c.currentToken).not.toBe(token);
    c.close();
  });

  it("rotates on manifest change: new epoch, old tokens accepted during the grace period, then refused", async () => {
    const c = client(simulatedSnpEvidence(sim, { measurement: M_ACTIVE }));
    const before = await c.release({ keyIds: [], sessionKey: true });
    const oldToken = c.currentToken as string;
    const epoch = broker.epoch();
    const act = await admin("POST", `/admin/v1/manifests/${pendingId}/activate`);
    expect(act).toMatchObject({
      status: 200,
      body: { epoch: epoch + 1, manifest: { status: "active", release: "r2" } },
    });
    expect(
      auditLines(f)
        .filter((l) => l.event === "rotation")
        .at(-1),
    ).toMatchObject({ epoch: epoch + 1, detail: "manifest-changed" });
    expect((await fetchWithToken(net.kbsUrl, net.ca, oldToken, "runtime/session-key/current")).status).toBe(200);
    clock.advance(61);
    expect(await fetchWithToken(net.kbsUrl, net.ca, oldToken, "runtime/session-key/current")).toMatchObject({
      status: 401,
      code: "TOKEN_SUPERSEDED",
    });
    const after = await c.release({ keyIds: [], sessionKey: true });
    expect(decodeClaims(c.currentToken as string).epoch).toBe(epoch + 1);
    expect(after.sessionKey?.epoch).toBe(epoch + 1);
    expect(after.sessionKey?.kid).not.toBe(before.sessionKey?.kid);
    expect(after.sessionKey?.k).not.toBe(before.sessionKey?.k);
    c.close();
    // The newly active release may now attest too.
    const c2 = client(simulatedSnpEvidence(sim, { measurement: M_PENDING }));
    expect((await c2.attest()).claims.release).toBe("r2");
    c2.close();
  });

  it("rotates when a node reports a new TCB (rebuilt or re-patched) and classifies it platform-updated", async () => {
    const epoch = broker.epoch();
    const higher = { bootloader: 11, tee: 1, snp: 26, microcode: 85 };
    const c = client(simulatedSnpEvidence(sim, { measurement: M_ACTIVE, reportedTcb: higher }));
    const { claims } = await c.attest();
    c.close();
    expect(claims["drift-class"]).toBe("platform-updated");
    expect(claims.epoch).toBe(epoch + 1);
    expect(
      auditLines(f)
        .filter((l) => l.event === "rotation")
        .at(-1),
    ).toMatchObject({ epoch: epoch + 1, detail: "node-rebuilt: new reported TCB", chipId: sim.chipId.toString("hex") });
    // The same TCB again: no further rotation, and now ok.
    const again = client(simulatedSnpEvidence(sim, { measurement: M_ACTIVE, reportedTcb: higher }));
    expect((await again.attest()).claims).toMatchObject({ epoch: epoch + 1, "drift-class": "ok" });
    again.close();
  });

  it("gives a different session key to a different chip (per chip id derivation)", async () => {
    const otherChip = createHash("sha512").update("another chip").digest();
    const a = client(
      simulatedSnpEvidence(sim, {
        measurement: M_ACTIVE,
        reportedTcb: { bootloader: 11, tee: 1, snp: 26, microcode: 85 },
      }),
    );
    const b = client(
      simulatedSnpEvidence(sim, {
        measurement: M_ACTIVE,
        chipId: otherChip,
        reportedTcb: { bootloader: 11, tee: 1, snp: 26, microcode: 85 },
      }),
    );
    const ka = (await a.release({ keyIds: [], sessionKey: true })).sessionKey;
    const kb = (await b.release({ keyIds: [], sessionKey: true })).sessionKey;
    a.close();
    b.close();
    expect(kb?.chipId).toBe(otherChip.toString("hex"));
    expect(ka?.epoch).toBe(kb?.epoch);
    expect(ka?.k).not.toBe(kb?.k);
  });
});

/** GET a resource with a bearer token; returns status and problem code. */
async function fetchWithToken(
  url: string,
  ca: string,
  token: string,
  path: string,
): Promise<{ status: number; code?: string }> {
  const { httpsTransport } = await import("../../runtime/attester/kbs/transport.js");
  const t = httpsTransport(url, ca);
  try {
    const r = await t.send("GET", `/kbs/v0/resource/${path}`, { headers: { authorization: `Bearer ${token}` } });
    return {
      status: r.status,
      ...((r.body as { code?: string })?.code && r.status !== 200 ? { code: (r.body as { code: string }).code } : {}),
    };
  } finally {
    t.close();
  }
}
