/**
 * The audit log holds every decision and no secret: after handshakes, denials, admin imports and
 * rotations, the log (and the broker's own log lines, and the state file) are searched for the
 * PIN, the model key bytes, the session key, tokens, session ids, nonces and report data in
 * every encoding they travel in.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { KbsClient, type KbsEvidenceProvider } from "../../runtime/attester/kbs/client.js";
import { simulatedSnpEvidence } from "../../runtime/simulators/index.js";
import { parseAuditLog } from "../../runtime/keybroker/state/audit.js";
import {
  adminRequest,
  auditLines,
  brokerFixture,
  goldenManifest,
  listen,
  measurementOf,
  signedManifest,
  startBroker,
  simulatedVerifier,
} from "../helpers/keybroker.js";
import { sharedSimulatedSnp } from "../helpers/simulated-snp.js";

const M = measurementOf("inference-audit");
const MODEL_KEY = Buffer.from("5ec12e7c0ffee5ec12e7c0ffee5ec12e7c0ffee5ec12e7c0ffee5ec12e7c0ffe", "hex");

function encodings(b: Buffer): string[] {
  return [b.toString("hex"), b.toString("hex").toUpperCase(), b.toString("base64"), b.toString("base64url")];
}

describe("audit log", () => {
  it("records every decision with who, evidence hash, verdict, drift class and resource, and never a secret", async () => {
    const sim = await sharedSimulatedSnp("Genoa");
    const f = brokerFixture();
    const logLines: string[] = [];
    const logger = pino(
      { level: "debug" },
      new Writable({ write: (c: Buffer, _e, cb) => (logLines.push(c.toString()), cb()) }),
    );
    const broker = await startBroker(f, simulatedVerifier(sim), { logger });
    const net = await listen(broker, f);
    const admin = (method: "GET" | "POST", path: string, body?: unknown, type?: string) =>
      adminRequest(net.adminUrl, net.ca, f.operator, method, path, body, type);
    expect(
      (
        await admin("POST", "/admin/v1/manifests", {
          jws: await signedManifest(
            goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
            f.release.privateKey,
          ),
        })
      ).status,
    ).toBe(201);
    expect(
      (await admin("POST", "/admin/v1/data-keys/default/model/m", Buffer.from(MODEL_KEY), "application/octet-stream"))
        .status,
    ).toBe(200);

    const reportData: Buffer[] = [];
    const recorded = (measurement: string): KbsEvidenceProvider => {
      const inner = simulatedSnpEvidence(sim, { measurement });
      return { tee: "snp", getEvidence: (rd) => (reportData.push(Buffer.from(rd)), inner.getEvidence(rd)) };
    };
    const c = new KbsClient({ url: net.kbsUrl, ca: net.ca, evidence: recorded(M) });
    const creds = await c.release({ keyIds: ["default/model/m"], sessionKey: true });
    const token = c.currentToken as string;
    c.close();
    const denied = new KbsClient({ url: net.kbsUrl, ca: net.ca, evidence: recorded(measurementOf("unknown")) });
    await expect(denied.attest()).rejects.toMatchObject({ details: { serverCode: "ATTESTATION_DENIED" } });
    denied.close();
    expect((await admin("POST", "/admin/v1/rotate", { target: "kek" })).status).toBe(200);
    expect((await admin("GET", "/admin/v1/keys")).status).toBe(200);
    await net.close();
    await broker.close();

    const text = readFileSync(join(f.config.stateDir, "audit.log"), "utf8");
    const lines = auditLines(f);
    expect(parseAuditLog(text)).toEqual(lines);
    const secrets = [
      f.pin,
      ...encodings(MODEL_KEY),
      ...encodings(Buffer.from(creds.sessionKey?.k as string, "base64url")),
      token,
      ...token.split("."),
      ...reportData.flatMap((rd) => [...encodings(rd), ...encodings(rd.subarray(0, 48))]),
    ];
    const haystacks = {
      audit: text,
      logs: logLines.join(""),
      state: readFileSync(join(f.config.stateDir, "state.json"), "utf8"),
    };
    for (const [name, hay] of Object.entries(haystacks)) {
      for (const s of secrets) expect(hay.includes(s), `${name} contains a secret (${s.slice(0, 8)}…)`).toBe(false);
    }

    const attests = lines.filter((l) => l.event === "kbs.attest");
    expect(attests.map((l) => [l.decision, l.verdict, l.driftClass, l.code ?? null])).toEqual([
      ["granted", "accepted", "ok", null],
      ["denied", "rejected", "unknown-measurement", "ATTESTATION_DENIED"],
    ]);
    for (const l of attests) {
      expect(l.who).toMatch(/^session:[0-9a-f]{16}$/);
      expect(l.evidenceHash).toMatch(/^[0-9a-f]{64}$/);
      expect(l.teeKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(l.ts).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }
    // The runtime certificate comes with the token (release() asks for it), so its grant is next to the attestation's.
    expect(lines.filter((l) => l.event === "kbs.resource").map((l) => [l.resource, l.decision])).toEqual([
      ["runtime/certificate/tls", "granted"],
      ["default/model/m", "granted"],
      ["runtime/session-key/current", "granted"],
    ]);
    const grant = lines.find((l) => l.event === "kbs.attest" && l.decision === "granted");
    expect(lines.find((l) => l.resource === "runtime/certificate/tls")).toMatchObject({
      tokenId: grant.tokenId,
      who: grant.who,
      release: "r1",
      detail: `certificate serial ${creds.certificate.serial}`,
    });
    expect(lines.map((l) => l.event)).toEqual([
      "broker.start",
      "rotation",
      "admin.manifest.import",
      "admin.data-key.import",
      "kbs.attest",
      "kbs.resource",
      "kbs.resource",
      "kbs.resource",
      "kbs.attest",
      "admin.rotate",
      "admin.keys.list",
      "broker.stop",
    ]);
    expect(lines.find((l) => l.event === "admin.data-key.import")).toMatchObject({
      decision: "granted",
      who: expect.stringMatching(/^operator:alice#[0-9a-f]{16}$/),
      resource: "default/model/m",
      key: "data-key:v1",
    });
  });
});
