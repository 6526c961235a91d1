/**
 * The security review's listener findings outside the broker (issue 15): the gateway answers an
 * unauthenticated request 401 before reading its body (it used to buffer up to 1 MiB first), on the
 * plaintext API and the OHTTP relay alike, and every listener (gateway, inference runtime, ops) cuts
 * clients that trickle their headers or body.
 */
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { generateApiKey } from "../../runtime/gateway/api-keys.js";
import { buildGatewayApp } from "../../runtime/gateway/app.js";
import { GatewayError } from "../../runtime/gateway/errors.js";
import type { RelayClient } from "../../runtime/gateway/relay-client.js";
import { runtimeId } from "../../runtime/gateway/relay.js";
import { buildApp } from "../../runtime/inference/server/app.js";
import { buildOpsApp } from "../../runtime/observability/ops-app.js";
import { MetricsRegistry } from "../../runtime/observability/metrics.js";
import { trickle } from "../helpers/trickle.js";

const FAST = { headersMs: 400, requestMs: 800, handshakeMs: 400, idleMs: 5000 };
const key = generateApiKey("team-a");
let forwarded = 0;
let relayed = 0;
const RUNTIME = { url: "https://127.0.0.1:1" };
/** A relay that counts what reached it (nothing should, unauthenticated). */
const relay: RelayClient = {
  open: async () => {
    relayed += 1;
    throw new GatewayError("UPSTREAM_UNAVAILABLE", "test relay: no runtime");
  },
  setTrust: () => undefined,
  close: () => undefined,
};

function gateway(): FastifyInstance {
  return buildGatewayApp({
    clients: [{ name: "team-a", rateLimit: { perSecond: 100, burst: 100 } }],
    apiKeys: [key.record],
    routes: { m: [RUNTIME] },
    runtimes: {
      forward: async () => {
        forwarded += 1;
        return {
          status: 200,
          body: Buffer.from("{}"),
          contentType: "application/json",
          retryAfter: undefined,
          headerLength: undefined,
        };
      },
    },
    relay,
    logger: pino({ level: "silent" }),
    timeouts: FAST,
  });
}

const apps: FastifyInstance[] = [];
async function started(app: FastifyInstance): Promise<number> {
  apps.push(app);
  await app.listen({ host: "127.0.0.1", port: 0 });
  return (app.server.address() as AddressInfo).port;
}
afterAll(async () => {
  for (const a of apps) await a.close();
});

/** Sends a request head announcing a body (`headers` say how) and sends none; resolves with what came back. */
function headOnly(port: number, path: string, headers: string[]): Promise<{ response: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port }, () =>
      s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${headers.join("\r\n")}\r\n\r\n`),
    );
    let response = "";
    const t = setTimeout(() => {
      s.destroy();
      resolve({ response, closed: false });
    }, 3000);
    s.on("data", (d: Buffer) => void (response += d.toString("latin1")));
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(t);
      resolve({ response, closed: true });
    });
  });
}

describe("gateway: authentication before the body", () => {
  it("answers 401 to an unauthenticated 1 MiB request without reading its body, and closes the connection", async () => {
    const port = await started(gateway());
    const r = await headOnly(port, "/v2/models/m/infer", ["Content-Type: application/json", "Content-Length: 1048576"]);
    expect(r.response.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
    expect(r.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(
      r.response.endsWith('{"error":"missing or invalid API key or client certificate","code":"UNAUTHENTICATED"}'),
    ).toBe(true);
    expect(r.closed).toBe(true);
  });

  it.each([
    ["message/ohttp-req", "Content-Length: 1048576"],
    ["message/ohttp-chunked-req", "Transfer-Encoding: chunked"],
  ])("answers 401 to an unauthenticated OHTTP relay request (%s) before its body, and closes", async (type, length) => {
    const port = await started(gateway());
    const before = relayed;
    const r = await headOnly(port, `/v1/ohttp/m/${runtimeId(RUNTIME)}`, [`Content-Type: ${type}`, length]);
    expect(r.response.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
    expect(r.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(
      r.response.endsWith('{"error":"missing or invalid API key or client certificate","code":"UNAUTHENTICATED"}'),
    ).toBe(true);
    expect(r.closed).toBe(true);
    expect(relayed).toBe(before);
  });

  it("authenticates the relay's GET routes too (no runtime is asked)", async () => {
    const gw = gateway();
    const before = relayed;
    for (const url of [
      "/v1/attestation/m",
      `/v1/attestation/m/${runtimeId(RUNTIME)}`,
      `/v1/ohttp-keys/m/${runtimeId(RUNTIME)}`,
    ]) {
      const r = await gw.inject({ url });
      expect([r.statusCode, r.json()]).toEqual([
        401,
        { error: "missing or invalid API key or client certificate", code: "UNAUTHENTICATED" },
      ]);
    }
    expect(relayed).toBe(before);
  });

  it("passes an authenticated relay request on to the runtime (the relay is reached)", async () => {
    const gw = gateway();
    const before = relayed;
    const r = await gw.inject({
      method: "POST",
      url: `/v1/ohttp/m/${runtimeId(RUNTIME)}`,
      payload: Buffer.alloc(64),
      headers: { authorization: `Bearer ${key.apiKey}`, "content-type": "message/ohttp-req" },
    });
    expect([r.statusCode, r.json<{ code: string }>().code]).toEqual([503, "UPSTREAM_UNAVAILABLE"]);
    expect(relayed).toBe(before + 1);
  });

  it("still waits for the body of an authenticated request (and forwards it)", async () => {
    const gw = gateway();
    const before = forwarded;
    const r = await gw.inject({
      method: "POST",
      url: "/v2/models/m/infer",
      payload: { inputs: [] },
      headers: { authorization: `Bearer ${key.apiKey}` },
    });
    expect(r.statusCode).toBe(200);
    expect(forwarded).toBe(before + 1);
  });

  it("serves the probes without credentials", async () => {
    const gw = gateway();
    expect((await gw.inject({ url: "/v2/health/live" })).json()).toEqual({ live: true });
  });
});

describe("listener timeouts: trickling clients are cut (408)", () => {
  it.each(["headers", "body"] as const)("gateway: a client trickling its %s", async (mode) => {
    const port = await started(gateway());
    const r = await trickle({
      port,
      mode,
      path: "/v2/models/m/infer",
      headers: [`Authorization: Bearer ${key.apiKey}`],
    });
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs as number).toBeLessThan(2500);
    expect(r.response.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  });

  it.each(["headers", "body"] as const)("inference runtime: a client trickling its %s", async (mode) => {
    const app = buildApp({
      models: new Map(),
      isReady: () => true,
      server: { name: "t", version: "0" },
      logger: pino({ level: "silent" }),
      timeouts: FAST,
    });
    const r = await trickle({ port: await started(app), mode, path: "/v2/models/m/infer" });
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs as number).toBeLessThan(2500);
    expect(r.response.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
  });

  it.each(["headers", "silent"] as const)("ops listener: a client %s", async (mode) => {
    const app = buildOpsApp({ registry: new MetricsRegistry(), isReady: () => true, timeouts: FAST });
    const r = await trickle({ port: await started(app), mode, path: "/metrics" });
    expect(r.closedAfterMs).toBeDefined();
    expect(r.closedAfterMs as number).toBeLessThan(2500);
  });
});
