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
          "models[0].name: must be a DNS label",
          "models[0].container: Too small: expected string to have >=1 characters",
          'models[0]: Unrecognized key: "extra"',
          "signerPublicKeyFile: Invalid input: expected string, received undefined",
          "gatewayCaFile: Invalid input: expected string, received undefined",
          "batching.maxBatchSize: Too small: expected number to be >=1",
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
    ).toThrow("invalid runtime config (1 problems):\nmodels[0].tokenizer: required for a text model");
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
        message: expect.stringContaining("routes.sentiment[0].url: "),
      }),
    );
    expect(() => parseGatewayConfig({ ...ok, apiKeys: [{ ...ok.apiKeys[0], client: "nobody" }] })).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: "invalid gateway config (1 problems):\napiKeys[0].client: no client named nobody",
      }),
    );
  });
});
