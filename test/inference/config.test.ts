import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "../../runtime/gateway/config.js";
import { parseRuntimeConfig } from "../../runtime/inference/config.js";

describe("runtime config", () => {
  it("fills defaults", () => {
    const c = parseRuntimeConfig({
      models: [{ name: "sentiment", container: "m.enc", signature: "m.jws" }],
      signerPublicKeyFile: "signer.pem",
      gatewayCaFile: "gw.pem",
      keyBroker: {},
    });
    expect([c.listen, c.ops, c.batching, c.bodyLimitBytes, c.logLevel]).toEqual([
      { host: "0.0.0.0", port: 8443 },
      { host: "0.0.0.0", port: 9464 },
      { maxBatchSize: 8, maxBatchDelayMs: 5, maxQueue: 256, requestTimeoutMs: 10000, retryAfterSeconds: 1 },
      1048576,
      "info",
    ]);
  });

  it("reports every problem with its path (CONFIG_INVALID)", () => {
    expect(() =>
      parseRuntimeConfig({
        models: [{ name: "Bad_Name", container: "", signature: "s", extra: 1 }],
        batching: { maxBatchSize: 0 },
        keyBroker: {},
      }),
    ).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: [
          "invalid runtime config (6 problems):",
          "batching.maxBatchSize: Too small: expected number to be >=1",
          "gatewayCaFile: Invalid input: expected string, received undefined",
          "models[0].container: Too small: expected string to have >=1 characters",
          "models[0].extra: unknown key",
          "models[0].name: must be a DNS label",
          "signerPublicKeyFile: Invalid input: expected string, received undefined",
        ].join("\n"),
      }),
    );
    expect(() =>
      parseRuntimeConfig({
        models: [{ name: "m", container: "c", signature: "s", text: {} }],
        signerPublicKeyFile: "k",
        gatewayCaFile: "g",
        keyBroker: {},
      }),
    ).toThrow("invalid runtime config (1 problem):\nmodels[0].tokenizer: required for a text model");
  });
});

describe("gateway config", () => {
  const ok = {
    upstreamTls: { brokerCaFile: "broker.pem", certFile: "gw.pem", keyFile: "gw.key" },
    routes: { sentiment: [{ url: "https://runtime:8443" }] },
    clients: [{ name: "team-a", rateLimit: { perSecond: 5, burst: 10 } }],
    apiKeys: [{ id: "0123456789ab", client: "team-a", sha256: "a".repeat(64) }],
  };

  it("fills defaults", () => {
    const c = parseGatewayConfig(ok);
    expect([c.listen, c.ops, c.upstreamTimeoutMs, c.bodyLimitBytes]).toEqual([
      { host: "0.0.0.0", port: 8080 },
      { host: "0.0.0.0", port: 9465 },
      15000,
      1048576,
    ]);
  });

  it("refuses plain-HTTP runtimes, dangling clients and unknown keys, all at once", () => {
    expect(() =>
      parseGatewayConfig({
        ...ok,
        routes: { sentiment: [{ url: "http://runtime:8443" }] },
        apiKeys: [{ ...ok.apiKeys[0], client: "nobody" }],
        typo: 1,
      }),
    ).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: "invalid gateway config (2 problems):\nroutes.sentiment[0].url: Invalid URL\ntypo: unknown key",
        problems: [
          { path: "routes.sentiment[0].url", message: "Invalid URL" },
          { path: "typo", message: "unknown key" },
        ],
      }),
    );
    expect(() => parseGatewayConfig({ ...ok, apiKeys: [{ ...ok.apiKeys[0], client: "nobody" }] })).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: "invalid gateway config (1 problem):\napiKeys[0].client: no client named nobody",
        problems: [{ path: "apiKeys[0].client", message: "no client named nobody" }],
      }),
    );
  });
});
