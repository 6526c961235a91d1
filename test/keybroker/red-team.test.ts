/**
 * The security review's findings against the broker (issue 15), one test each: trickling clients are
 * cut on both listeners, an unauthenticated /auth flood cannot starve an attested runtime, evidence
 * that breaks the hashers (non-integer numbers, deep nesting) is a 4xx with its audit line, and a
 * TEE key carrying its private `d` is refused every time, not only the first time its public part
 * is seen.
 */
import { generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { KbsClient } from "../../runtime/attester/kbs/client.js";
import type { Transport } from "../../runtime/attester/kbs/transport.js";
import { expectedReportData } from "../../runtime/kbs-protocol/binding.js";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { adminImportDataKey, adminImportManifest } from "../../runtime/keybroker/admin-service.js";
import { buildKbsApp } from "../../runtime/keybroker/http/kbs-app.js";
import {
  auditLines,
  brokerFixture,
  fakeClaims,
  fakeEvidence,
  FakeVerifier,
  goldenManifest,
  listen,
  measurementOf,
  signedManifest,
  startBroker,
  type BrokerFixture,
} from "../helpers/keybroker.js";
import { trickle } from "../helpers/trickle.js";

const M = measurementOf("inference-red-team");

/** A KbsClient transport over fastify inject from a fixed remote address. */
function injectTransport(app: FastifyInstance, remoteAddress: string): Transport {
  return {
    async send(method, path, o = {}) {
      const r = await app.inject({
        method,
        url: path,
        remoteAddress,
        ...(o.body === undefined ? {} : { payload: o.body as object }),
        ...(o.headers ? { headers: o.headers } : {}),
      });
      let body: unknown;
      try {
        body = r.body === "" ? undefined : JSON.parse(r.body);
      } catch {
        body = undefined;
      }
      return { status: r.statusCode, headers: r.headers as Record<string, string>, body };
    },
    close() {},
  };
}

describe("red team: the KBS and admin listeners", () => {
  let f: BrokerFixture;
  let broker: KeyBroker;
  let app: FastifyInstance;
  let net: Awaited<ReturnType<typeof listen>>;
  const verifier = new FakeVerifier();

  beforeAll(async () => {
    f = brokerFixture({
      limits: { bodyBytes: 262_144, maxSessions: 40, sessionsPerPeer: 4 },
      timeouts: { headersMs: 400, requestMs: 800, handshakeMs: 400, idleMs: 5000 },
    });
    broker = await startBroker(f, verifier);
    app = buildKbsApp(broker);
    net = await listen(broker, f);
    await adminImportManifest(
      broker,
      "operator:test",
      await signedManifest(
        goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }),
        f.release.privateKey,
      ),
    );
    await adminImportDataKey(broker, "operator:test", "default/model/m", Buffer.alloc(32, 3));
  });
  afterAll(async () => {
    await app.close();
    await net.close();
    await broker.close();
  });

  const port = (a: FastifyInstance) => (a.server.address() as AddressInfo).port;

  it.each(["headers", "body"] as const)(
    "cuts a client trickling its %s on the KBS listener (408) within the request timeout",
    async (mode) => {
      const r = await trickle({ port: port(net.kbs), tls: {}, mode, path: "/kbs/v0/auth" });
      expect(r.closedAfterMs).toBeDefined();
      expect(r.closedAfterMs as number).toBeLessThan(2500);
      expect(r.response.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    },
  );

  it("cuts a connection that never completes the TLS handshake (KBS) and a silent TLS client", async () => {
    const noHandshake = await trickle({ port: port(net.kbs), mode: "silent" });
    expect(noHandshake.closedAfterMs).toBeDefined();
    expect(noHandshake.closedAfterMs as number).toBeLessThan(2500);
    const silent = await trickle({ port: port(net.kbs), tls: {}, mode: "silent" });
    expect(silent.closedAfterMs).toBeDefined();
    expect(silent.closedAfterMs as number).toBeLessThan(2500);
  });

  it("cuts a trickling operator on the admin listener (408)", async () => {
    const r = await trickle({
      port: port(net.admin),
      tls: { cert: f.operator.certPem, key: f.operator.keyPem },
      mode: "body",
      path: "/admin/v1/manifests",
    });
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs as number).toBeLessThan(2500);
    expect(r.response.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  });

  it("keeps serving an attested runtime (boot and renewal) through an unauthenticated /auth flood", async () => {
    const flood = async (rounds: number) => {
      const codes = new Map<number, number>();
      for (let i = 0; i < rounds; i++) {
        const rs = await Promise.all(
          Array.from({ length: 20 }, (_, p) =>
            app.inject({
              method: "POST",
              url: "/kbs/v0/auth",
              remoteAddress: `10.66.0.${p + 1}`,
              payload: { version: "0.4.0", tee: "snp", "extra-params": "" },
            }),
          ),
        );
        for (const r of rs) codes.set(r.statusCode, (codes.get(r.statusCode) ?? 0) + 1);
      }
      return codes;
    };
    // 100 challenges from 20 peers into a 40-session table: each full table evicts an unanswered
    // challenge of the busiest peer, so the flood churns its own sessions and is never refused.
    const before = await flood(5);
    expect(await broker.sessions.count()).toBe(40);
    expect([...before]).toEqual([[200, 100]]);
    const runtime = new KbsClient({
      transport: injectTransport(app, "10.1.2.3"),
      evidence: fakeEvidence(fakeClaims(M)),
    });
    const boot = await runtime.getResource("default/model/m");
    expect(boot.equals(Buffer.alloc(32, 3))).toBe(true);
    await flood(3);
    const renewed = await runtime.attest();
    expect(renewed.claims.release).toBe("r1");
    expect((await runtime.getResource("default/model/m")).equals(Buffer.alloc(32, 3))).toBe(true);
    expect(auditLines(f).filter((l) => l.code === "SESSIONS_EXHAUSTED")).toEqual([]);
  });

  const session = async (peer: string) => {
    const r = await app.inject({
      method: "POST",
      url: "/kbs/v0/auth",
      remoteAddress: peer,
      payload: { version: "0.4.0", tee: "snp", "extra-params": "" },
    });
    expect(r.statusCode).toBe(200);
    return {
      cookie: /kbs-session-id=([^;]+)/.exec(String(r.headers["set-cookie"]))?.[1] as string,
      nonce: r.json().nonce as string,
    };
  };
  const teeKey = () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const pub = pair.publicKey.export({ format: "jwk" });
    const priv = pair.privateKey.export({ format: "jwk" });
    return {
      pub: { kty: "EC" as const, crv: "P-384" as const, alg: "ECDH-ES+A256KW", x: pub.x as string, y: pub.y as string },
      d: priv.d as string,
    };
  };

  it.each([
    ["a number too large for a double (1e400 parses as Infinity)", '{"n":1e400}', "tee-evidence.primary_evidence.n"],
    ["a fraction", '{"n":0.5}', "tee-evidence.primary_evidence.n"],
    [
      "nesting 5000 levels deep",
      `${"[".repeat(5000)}${"]".repeat(5000)}`,
      `tee-evidence.primary_evidence${"[0]".repeat(16)}`,
    ],
  ])("answers evidence with %s 400 BODY_INVALID and audits it", async (_name, evidence, path) => {
    const { cookie, nonce } = await session("10.9.9.9");
    const key = teeKey().pub;
    const payload = `{"runtime-data":{"nonce":${JSON.stringify(nonce)},"tee-pubkey":${JSON.stringify(key)}},"tee-evidence":{"primary_evidence":${evidence},"additional_evidence":""}}`;
    const r = await app.inject({
      method: "POST",
      url: "/kbs/v0/attest",
      payload,
      headers: { "content-type": "application/json", cookie: `kbs-session-id=${cookie}` },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe("BODY_INVALID");
    expect(r.json().problems[0].path).toBe(path);
    const last = auditLines(f)
      .filter((l) => l.event === "kbs.attest")
      .at(-1);
    expect(last).toMatchObject({ decision: "denied", code: "BODY_INVALID" });
  });

  it("refuses a TEE key with its private d every time, also after its public part was attested", async () => {
    const key = teeKey();
    const attest = async (jwk: Record<string, string>) => {
      const { cookie, nonce } = await session("10.8.8.8");
      return app.inject({
        method: "POST",
        url: "/kbs/v0/attest",
        headers: { cookie: `kbs-session-id=${cookie}` },
        payload: {
          "runtime-data": { nonce, "tee-pubkey": jwk },
          "tee-evidence": {
            primary_evidence: { reportData: expectedReportData(nonce, key.pub).toString("hex"), claims: fakeClaims(M) },
            additional_evidence: "",
          },
        },
      });
    };
    expect((await attest(key.pub)).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await attest({ ...key.pub, d: key.d });
      expect(r.statusCode).toBe(400);
      expect(r.json().code).toBe("TEE_KEY_INVALID");
      expect(r.json().problems).toEqual([
        { path: "runtime-data.tee-pubkey.d", message: "a private key must never be sent" },
      ]);
    }
  });
});
