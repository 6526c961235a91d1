/**
 * The broker's metrics listener (`metrics` in broker.json): a real HTTP listener serving Prometheus
 * metrics (Trustee-like `kbs_attestation_*`, decisions by drift class, releases, HSM latency and
 * availability, sessions, the listener certificate's expiry, the process series) and the health routes
 * the pod's HTTP probes use; it cuts trickling clients like the other listeners (`timeouts`).
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminImportDataKey, adminImportManifest } from "../../runtime/keybroker/admin-service.js";
import { startKeyBrokerService, type KeyBrokerService } from "../../runtime/keybroker/service.js";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import { httpsTransport } from "../../runtime/attester/kbs/transport.js";
import {
  brokerFixture,
  fakeClaims,
  fakeEvidence,
  FakeVerifier,
  goldenManifest,
  measurementOf,
  quietLogger,
  signedManifest,
} from "../helpers/keybroker.js";
import { trickle } from "../helpers/trickle.js";

const GOOD = measurementOf("metrics-good");
const ROGUE = measurementOf("metrics-rogue");

function get(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on("error", reject)
      .end();
  });
}

describe("key broker metrics listener", () => {
  let svc: KeyBrokerService;
  beforeAll(async () => {
    const f = brokerFixture({
      listen: { host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0 },
      metrics: { host: "127.0.0.1", port: 0 },
      timeouts: { headersMs: 500, requestMs: 1000, handshakeMs: 500, idleMs: 5000 },
    });
    svc = await startKeyBrokerService(f.config, { verifier: new FakeVerifier(), logger: quietLogger() });
    await adminImportManifest(
      svc.broker,
      "operator:test",
      await signedManifest(
        goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": GOOD } }),
        f.release.privateKey,
      ),
    );
    await adminImportDataKey(svc.broker, "operator:test", "default/model/m", Buffer.alloc(32, 7));
    const good = new KbsClient({ url: svc.kbsUrl, ca: svc.caBundle, evidence: fakeEvidence(fakeClaims(GOOD)) });
    await good.attest();
    await good.getResource("default/model/m");
    const rogue = new KbsClient({ url: svc.kbsUrl, ca: svc.caBundle, evidence: fakeEvidence(fakeClaims(ROGUE)) });
    await expect(rogue.attest()).rejects.toMatchObject({ details: { serverCode: "ATTESTATION_DENIED" } });
    const t = httpsTransport(svc.kbsUrl, svc.caBundle);
    expect(
      (await t.send("POST", "/kbs/v0/auth", { body: { version: "9.9.9", tee: "snp", "extra-params": "" } })).status,
    ).toBe(400);
    expect((await t.send("POST", "/kbs/v0/attest", { body: {} })).status).toBe(401);
  });
  afterAll(async () => {
    await svc.close();
  });

  it("listens on the configured port and serves Prometheus text", async () => {
    expect(svc.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { status, text } = await get(`${svc.metricsUrl}/metrics`);
    expect(status).toBe(200);
    const lines = text.split("\n");
    for (const line of [
      "kbs_attestation_requests_total 3",
      'kbs_attestation_successes_total{tee_type="snp"} 1',
      'kbs_attestation_failures_total{tee_type="snp"} 1',
      "kbs_attestation_errors_total 1",
      'ci_keybroker_attestations_total{decision="granted",drift_class="ok",code=""} 1',
      'ci_keybroker_attestations_total{decision="denied",drift_class="unknown-measurement",code="ATTESTATION_DENIED"} 1',
      'ci_keybroker_attestations_total{decision="denied",drift_class="none",code="SESSION_MISSING"} 1',
      "kbs_auth_requests_total 3",
      "kbs_auth_successes_total 2",
      "kbs_auth_errors_total 1",
      'kbs_resource_reads_total{resource_path="default/model/m"} 1',
      'ci_keybroker_releases_total{decision="granted",code=""} 1',
      "ci_keybroker_hsm_available 1",
      "ci_keybroker_sessions 2",
    ])
      expect(lines).toContain(line);
    const hsmCount = Number(
      /^ci_keybroker_hsm_operation_duration_seconds_count\{outcome="ok"\} (\d+)$/m.exec(text)?.[1],
    );
    expect(hsmCount).toBeGreaterThanOrEqual(3); // token signature, certificate, data-key unwrap at least
    expect(text).toMatch(/^ci_tls_certificate_expiry_timestamp_seconds\{certificate="listener"\} \d{10}$/m);
    expect(text).toMatch(/^process_resident_memory_bytes [1-9]\d*$/m);
  });

  it("answers the HTTP probes: live, and ready while the HSM is usable", async () => {
    expect(await get(`${svc.metricsUrl}/v2/health/live`)).toEqual({ status: 200, text: '{"live":true}' });
    expect(await get(`${svc.metricsUrl}/v2/health/ready`)).toEqual({ status: 200, text: '{"ready":true}' });
  });

  it.each([
    ["trickling its head", "headers"],
    ["sending nothing", "silent"],
  ] as const)("cuts a client %s on the metrics listener within the timeouts", async (_what, mode) => {
    const r = await trickle({ port: Number(new URL(svc.metricsUrl ?? "").port), mode, path: "/metrics" });
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs as number).toBeLessThan(3000);
    if (mode === "headers") expect(r.response.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  });
});
