import { describe, expect, it } from "vitest";
import { ApiKeyStore, generateApiKey } from "../../runtime/gateway/api-keys.js";
import { CodedError } from "../../core/errors.js";
import { GatewayError } from "../../runtime/gateway/errors.js";
import { RateLimiter } from "../../runtime/gateway/rate-limit.js";

describe("API keys (hashed at rest)", () => {
  const a = generateApiKey("team-a");
  const b = generateApiKey("team-b");
  const store = new ApiKeyStore([a.record, b.record]);

  it("authenticates each key as its client and stores only a SHA-256 of the secret", () => {
    expect([store.authenticate(a.apiKey), store.authenticate(b.apiKey)]).toEqual(["team-a", "team-b"]);
    expect(a.apiKey).toMatch(/^cik_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(a.record)).not.toContain(a.apiKey.slice(17));
  });

  it.each([
    ["absent", undefined],
    ["malformed", "hello"],
    ["right id, wrong secret", `${a.apiKey.slice(0, 17)}${"A".repeat(43)}`],
    ["unknown id", `cik_000000000000_${a.apiKey.slice(17)}`],
    ["another client's secret under this id", `${a.apiKey.slice(0, 17)}${b.apiKey.slice(17)}`],
  ])("refuses a key that is %s", (_case, key) => {
    expect(store.authenticate(key)).toBeUndefined();
  });

  it("rejects bad records (caller misuse) with TypeError", () => {
    expect(() => new ApiKeyStore([{ id: "x", client: "c", sha256: "0".repeat(64) }])).toThrow(TypeError);
    expect(() => new ApiKeyStore([a.record, a.record])).toThrow(TypeError);
  });
});

describe("rate limiter (token bucket per client)", () => {
  it("allows the burst, then refuses with the seconds until the next token, and refills over time", () => {
    const rl = new RateLimiter();
    const limit = { perSecond: 0.5, burst: 2 };
    const at = (ms: number) => rl.take("c", limit, ms);
    expect([at(0), at(0), at(0)]).toEqual([{ ok: true }, { ok: true }, { ok: false, retryAfterSeconds: 2 }]);
    expect(at(1000)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(at(2000)).toEqual({ ok: true });
    expect(rl.take("other", limit, 2000)).toEqual({ ok: true });
    expect(() => rl.take("c", { perSecond: 0, burst: 1 }, 0)).toThrow(TypeError);
  });
});

describe("gateway errors", () => {
  it("carry code, status, retry hint and cause", () => {
    const e = new GatewayError("RATE_LIMITED", "slow down", { retryAfterSeconds: 3, cause: "x" });
    expect([e instanceof CodedError, e.name, e.code, e.status, e.retryAfterSeconds, e.cause]).toEqual([
      true,
      "GatewayError",
      "RATE_LIMITED",
      429,
      3,
      "x",
    ]);
  });
});
