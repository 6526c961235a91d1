import { describe, expect, it } from "vitest";
import {
  cachedGetter,
  kdsCertChainPath,
  kdsCrlPath,
  kdsGetter,
  mapGetter,
  type CollateralGetter,
} from "../../runtime/attestation/verify/collateral.js";
import { kdsPathToFile } from "../../runtime/attestation/verify/collateral-dir.js";

describe("collateral getters", () => {
  it("kdsGetter asks AMD KDS for the path and returns the body", async () => {
    const urls: string[] = [];
    const fetch = (async (url: string) => {
      urls.push(url);
      return new Response(new Uint8Array([1, 2, 3]), { status: 200 });
    }) as unknown as typeof globalThis.fetch;
    const got = await kdsGetter({ fetch }).get(kdsCertChainPath("Genoa", "vlek"));
    expect([...got]).toEqual([1, 2, 3]);
    expect(urls).toEqual(["https://kdsintf.amd.com/vlek/v1/Genoa/cert_chain"]);
  });

  it.each([
    [
      "HTTP 404",
      async () => new Response("not found", { status: 404 }),
      "fetching collateral /vcek/v1/Milan/crl: HTTP 404",
    ],
    [
      "HTTP 429 (KDS throttling)",
      async () => new Response("slow down", { status: 429 }),
      "fetching collateral /vcek/v1/Milan/crl: HTTP 429",
    ],
    [
      "a network error",
      async () => {
        throw new TypeError("fetch failed");
      },
      "fetching collateral /vcek/v1/Milan/crl: request failed (fetch failed)",
    ],
  ])("kdsGetter: %s is COLLATERAL_UNAVAILABLE", async (_name, impl, message) => {
    await expect(
      kdsGetter({ fetch: impl as unknown as typeof globalThis.fetch }).get(kdsCrlPath("Milan")),
    ).rejects.toMatchObject({ code: "COLLATERAL_UNAVAILABLE", message });
  });

  it("cachedGetter memoises successes, coalesces concurrent requests, expires after ttlMs, and does not cache failures", async () => {
    let calls = 0;
    let fail = true;
    const inner: CollateralGetter = {
      async get(p) {
        calls++;
        if (p === "/flaky" && fail) {
          fail = false;
          throw new Error("down");
        }
        return new Uint8Array([calls]);
      },
    };
    let clock = 0;
    const g = cachedGetter(inner, { ttlMs: 1000, clock: () => clock });
    const [a, b] = await Promise.all([g.get("/x"), g.get("/x")]);
    expect([calls, a[0], b[0], g.size]).toEqual([1, 1, 1, 1]);
    clock = 999;
    expect((await g.get("/x"))[0]).toBe(1);
    clock = 1000;
    expect((await g.get("/x"))[0]).toBe(2);
    await expect(g.get("/flaky")).rejects.toThrow("down");
    expect((await g.get("/flaky"))[0]).toBe(4);
  });

  it("mapGetter serves a map; anything else is COLLATERAL_UNAVAILABLE", async () => {
    const g = mapGetter(new Map([["/a", new Uint8Array([9])]]));
    expect([...(await g.get("/a"))]).toEqual([9]);
    await expect(g.get("/b")).rejects.toMatchObject({ code: "COLLATERAL_UNAVAILABLE" });
  });

  it("maps KDS paths to files and refuses paths that escape the directory", () => {
    expect(kdsPathToFile("/vcek/v1/Milan/abcd?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68")).toBe(
      "vcek/v1/Milan/abcd/blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68",
    );
    expect(() => kdsPathToFile("/../../etc/passwd")).toThrow(TypeError);
  });
});
