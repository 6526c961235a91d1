import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Timers } from "../../runtime/inference/batching/batcher.js";
import type { KeyRelease } from "../../runtime/inference/boot.js";
import { certificateWindow, refreshDelayMs } from "../../runtime/inference/credentials.js";
import { startRuntime, type RunningRuntime } from "../../runtime/inference/runtime.js";
import { captureLogger, TEST_BATCHING } from "../helpers/inference.js";
import { createTestPki, httpsJson, sealBundled, type TestPki } from "../helpers/runtime.js";

describe("refreshDelayMs", () => {
  it.each([
    [{ notBefore: 0, notAfter: 900_000 }, 0, undefined, 600_000],
    [{ notBefore: 0, notAfter: 900_000 }, 300_000, undefined, 300_000],
    [{ notBefore: 0, notAfter: 900_000 }, 899_000, undefined, 1000],
    [{ notBefore: 1000, notAfter: 3000 }, 1000, 0.5, 1000],
    [{ notBefore: 0, notAfter: 100_000 }, 0, 0.9, 90_000],
  ])("window %j at %i (fraction %s) -> %i ms", (w, now, fraction, expected) => {
    expect(refreshDelayMs(w, now, fraction)).toBe(expected);
  });
});

describe("certificate renewal before expiry", () => {
  let pki: TestPki;
  let rt: RunningRuntime;
  const calls: string[][] = [];
  let refuse = false;
  let skewMs = 0;
  const pending: Array<() => void> = [];
  const timers: Timers = { setTimeout: (fn) => pending.push(fn), clearTimeout: () => {} };
  const { logger, lines } = captureLogger("inference");

  beforeAll(async () => {
    pki = createTestPki();
    const sealed = await sealBundled(["sentiment"]);
    const keyRelease: KeyRelease = {
      async release({ keyIds }) {
        calls.push([...keyIds]);
        if (refuse) throw new Error("broker unavailable");
        const cert = pki.broker.issue("runtime");
        return {
          modelKeys: new Map(keyIds.map((k) => [k, sealed.keys.get(k)!])),
          serverCertificate: cert.cert,
          serverKey: cert.key,
          brokerCa: pki.broker.cert,
        };
      },
    };
    rt = await startRuntime({
      artifacts: sealed.artifacts,
      keyRelease,
      signerKey: sealed.signerKey,
      batching: TEST_BATCHING,
      logger,
      gatewayCa: pki.gateway.cert,
      listen: { host: "127.0.0.1", port: 0 },
      ops: { host: "127.0.0.1", port: 0 },
      renewal: { timers, now: () => Date.now() + skewMs, retryMs: 10 },
    });
  });
  afterAll(() => rt.stop());

  const ready = async () => (await fetch(`http://127.0.0.1:${rt.opsPort}/v2/health/ready`)).status;
  const serial = async () =>
    (await httpsJson({ port: rt.port, path: "/v2/health/ready", ca: pki.broker.cert, ...pki.gatewayClient }))
      .serverSerial;
  const fire = async () => {
    pending.shift()!();
    for (let i = 0; i < 200 && pending.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  };

  it("schedules a renewal at 2/3 of the certificate lifetime and installs the new certificate", async () => {
    expect([calls, pending.length, await ready()]).toEqual([[["default/model/sentiment"]], 1, 200]);
    const before = await serial();
    await fire();
    expect(calls).toEqual([["default/model/sentiment"], []]);
    expect(await serial()).not.toBe(before);
    expect(lines.some((l) => l.includes('"event":"credentials-renewed"'))).toBe(true);
  });

  it("retries a failed renewal and reports not ready once the certificate has expired", async () => {
    refuse = true;
    await fire();
    expect(
      lines.filter((l) => l.includes('"event":"credentials-renewal-failed"')).map((l) => JSON.parse(l).code),
    ).toEqual(["KEY_RELEASE_FAILED"]);
    expect(pending.length).toBe(1);
    const { cert } = pki.broker.issue("x");
    skewMs = certificateWindow(cert).notAfter - Date.now() + 1000;
    expect(await ready()).toBe(503);
    refuse = false;
    skewMs = 0;
    await fire();
    expect(await ready()).toBe(200);
  });
});
