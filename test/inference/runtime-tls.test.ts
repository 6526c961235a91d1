import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRuntime, type RunningRuntime, type RuntimeOptions } from "../../runtime/inference/runtime.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import {
  createTestPki,
  fakeKeyRelease,
  freePort,
  httpsJson,
  sealBundled,
  type SealedBundle,
  type TestPki,
} from "../helpers/runtime.js";

let pki: TestPki;
let sealed: SealedBundle;
let rt: RunningRuntime;
const { logger, lines } = captureLogger("inference");
let releaseGate: () => void = () => {};
let readinessDuringBoot: Array<[number, unknown]> = [];

function options(over: Partial<RuntimeOptions> = {}): RuntimeOptions {
  return {
    artifacts: sealed.artifacts,
    keyRelease: fakeKeyRelease(pki, sealed.keys),
    signerKey: sealed.signerKey,
    batching: TEST_BATCHING,
    ort: { intraOpThreads: 1 },
    logger,
    gatewayCa: pki.gateway.cert,
    listen: { host: "127.0.0.1", port: 0 },
    ops: { host: "127.0.0.1", port: 0 },
    ...over,
  };
}

const opsGet = async (port: number, path: string) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return [r.status, path === "/metrics" ? await r.text() : await r.json()] as [number, unknown];
};

beforeAll(async () => {
  pki = createTestPki();
  sealed = await sealBundled(["sentiment"]);
  const opsPort = await freePort();
  const gate = new Promise<void>((r) => (releaseGate = r));
  const starting = startRuntime(
    options({ keyRelease: fakeKeyRelease(pki, sealed.keys, { gate }), ops: { host: "127.0.0.1", port: opsPort } }),
  );
  // The broker has not answered yet: the ops listener is up, the runtime is live but not ready.
  for (let i = 0; i < 200 && readinessDuringBoot.length === 0; i++) {
    try {
      readinessDuringBoot = [await opsGet(opsPort, "/v2/health/live"), await opsGet(opsPort, "/v2/health/ready")];
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  releaseGate();
  rt = await starting;
});
afterAll(() => rt?.stop());

const REFUSED = [
  "ECONNRESET",
  "EPROTO",
  "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
];
const client = () => ({ ca: pki.broker.cert, cert: pki.gatewayClient.cert, key: pki.gatewayClient.key });

describe("runtime over mTLS on loopback", () => {
  it("is live but not ready until attestation released the keys and the model loaded", async () => {
    expect(readinessDuringBoot).toEqual([
      [200, { live: true }],
      [503, { ready: false }],
    ]);
    expect(rt.phase()).toBe("ready");
    expect(await opsGet(rt.opsPort, "/v2/health/ready")).toEqual([200, { ready: true }]);
  });

  it("serves OIP to a gateway client certificate, with the broker-issued server certificate", async () => {
    const r = await httpsJson({
      port: rt.port,
      path: "/v2/models/sentiment/infer",
      body: {
        inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: ["a great, wonderful product"] }],
        outputs: [{ name: "label" }],
      },
      ...client(),
    });
    expect([r.status, r.body.outputs]).toEqual([
      200,
      [{ name: "label", datatype: "BYTES", shape: [1], data: ["positive"] }],
    ]);
    const meta = await httpsJson({ port: rt.port, path: "/v2/models/sentiment", ...client() });
    expect(meta.body.parameters.model_sha256).toBe("5f18545ee98f109e3c4daafb0040172cdcd13138dc577ab67ba82ae6672530bf");
  });

  it.each([
    ["no client certificate (TLS 1.3)", () => ({ ca: pki.broker.cert })],
    ["no client certificate (TLS 1.2)", () => ({ ca: pki.broker.cert, maxVersion: "TLSv1.2" as const })],
    ["a client certificate from another CA (TLS 1.3)", () => ({ ca: pki.broker.cert, ...pki.rogue.issue("intruder") })],
    [
      "a client certificate from another CA (TLS 1.2)",
      () => ({ ca: pki.broker.cert, ...pki.rogue.issue("intruder"), maxVersion: "TLSv1.2" as const }),
    ],
  ])("refuses the handshake with %s (the app never sees the request)", async (_case, tls) => {
    const before = lines.length;
    const failures = async () =>
      Number(/ci_inference_tls_handshake_failures_total (\d+)/.exec(await rt.registry.render())?.[1]);
    const counted = await failures();
    const err = await httpsJson({ port: rt.port, path: "/v2/health/live", ...tls() }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e.code,
    );
    // The client-side code depends on TLS timing (1.3 finishes the client's handshake before the server checks
    // the certificate); the server side is exact: one refused handshake, no request.
    expect(REFUSED).toContain(err);
    for (let i = 0; i < 100 && (await failures()) === counted; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await failures()).toBe(counted + 1);
    expect(lines.slice(before).filter((l) => l.includes('"msg":"request"'))).toEqual([]);
  });

  it("exports Prometheus metrics on the ops port", async () => {
    const [status, text] = await opsGet(rt.opsPort, "/metrics");
    expect(status).toBe(200);
    expect(text).toContain("ci_inference_ready 1\n");
    expect(text).toContain('ci_inference_requests_total{model="sentiment",code="OK"} 2\n');
    expect(text).toContain('ci_inference_batch_rows_bucket{le="1",model="sentiment"} 1\n');
    expect(text).toContain('ci_inference_queue_depth{model="sentiment"} 0\n');
    // prom-client's standard process series
    expect(text).toMatch(/^process_resident_memory_bytes [1-9]\d*\n/m);
    expect(text).toMatch(/^process_start_time_seconds \d{10}\n/m);
    expect(text).toContain("# TYPE nodejs_eventloop_lag_seconds gauge\n");
  });

  it("rotates its certificate without a restart", async () => {
    const before = await httpsJson({ port: rt.port, path: "/v2/health/ready", ...client() });
    const next = pki.broker.issue("runtime");
    rt.rotateCredentials({
      modelKeys: new Map(),
      serverCertificate: next.cert,
      serverKey: next.key,
      brokerCa: pki.broker.cert,
    });
    const after = await httpsJson({ port: rt.port, path: "/v2/health/ready", ...client() });
    expect(after.status).toBe(200);
    expect(after.serverSerial).not.toBe(before.serverSerial);
    expect(() =>
      rt.rotateCredentials({
        modelKeys: new Map(),
        ...(({ cert, key }) => ({ serverCertificate: cert, serverKey: key }))(pki.rogue.issue("x")),
        brokerCa: pki.broker.cert,
      }),
    ).toThrow(expect.objectContaining({ code: "KEY_RELEASE_FAILED" }));
  });
});

describe("runtime refuses to serve when boot fails", () => {
  it.each<[string, () => Partial<RuntimeOptions>, string, string]>([
    [
      "the broker refuses attestation",
      () => ({ keyRelease: fakeKeyRelease(pki, sealed.keys, { refuse: true }) }),
      "KEY_RELEASE_FAILED",
      "attesting to the key broker: key release refused or unavailable",
    ],
    [
      "the broker releases no key for the model",
      () => ({ keyRelease: fakeKeyRelease(pki, new Map()) }),
      "KEY_RELEASE_FAILED",
      "attesting to the key broker: no data key released for default/model/sentiment",
    ],
    [
      "the released certificate is not from the broker CA",
      () => ({ keyRelease: fakeKeyRelease(pki, sealed.keys, { cert: pki.rogue.issue("runtime") }) }),
      "KEY_RELEASE_FAILED",
      "checking released TLS credentials: not issued by the broker CA",
    ],
    [
      "the wrong data key is released",
      () => ({ keyRelease: fakeKeyRelease(pki, new Map([["default/model/sentiment", Buffer.alloc(32)]])) }),
      "MODEL_DECRYPT_FAILED",
      "decrypting model container: authentication failed (wrong data key or modified container)",
    ],
    [
      "the container differs from its pin",
      () => ({ artifacts: [{ ...sealed.artifacts[0]!, containerSha256: "0".repeat(64) }] }),
      "MODEL_DIGEST_MISMATCH",
      expect.stringContaining("checking model container: sha256 ") as unknown as string,
    ],
  ])("when %s", async (_case, over, code, message) => {
    const failed = await startRuntime(options(over()));
    try {
      expect([failed.phase(), failed.failure?.code, failed.failure?.message, failed.port]).toEqual([
        "failed",
        code,
        message,
        0,
      ]);
      expect(await opsGet(failed.opsPort, "/v2/health/ready")).toEqual([503, { ready: false }]);
      const line = lines
        .map((l) => JSON.parse(l))
        .find((l) => l.event === "boot" && l.phase === "failed" && l.code === code);
      expect(line).toBeDefined();
    } finally {
      await failed.stop();
    }
  });
});
