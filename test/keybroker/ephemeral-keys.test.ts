/** Ephemeral keys of resource JWEs, generated ahead on the thread pool: each pair handed out once, the pool refilled, closing stops it. */
import { describe, expect, it } from "vitest";
import { EphemeralKeys } from "../../runtime/kbs-protocol/ephemeral-keys.js";

/** Waits until `check` holds, yielding to the thread pool's completions in between. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}

const pub = (p: { publicKey: { export(o: { format: "jwk" }): { x?: string } } }) =>
  p.publicKey.export({ format: "jwk" }).x;

describe("EphemeralKeys", () => {
  it("fills up to its target, hands out every pair once, refills, and generates on demand when empty", async () => {
    const keys = new EphemeralKeys({ target: 3 });
    await until(() => keys.size === 3);
    const taken = await Promise.all(Array.from({ length: 5 }, () => keys.take()));
    expect(new Set(taken.map(pub)).size).toBe(5);
    expect(taken.map((p) => p.privateKey.asymmetricKeyDetails?.namedCurve)).toEqual(Array(5).fill("secp384r1"));
    await until(() => keys.size === 3);
    expect(taken.map(pub)).not.toContain(pub(await keys.take()));
    keys.close();
    expect(keys.size).toBe(0);
  });

  it("with target 0 keeps nothing and generates each pair when taken", async () => {
    const keys = new EphemeralKeys({ target: 0 });
    const [a, b] = await Promise.all([keys.take(), keys.take()]);
    expect(pub(a)).not.toBe(pub(b));
    expect(keys.size).toBe(0);
  });

  it("stops refilling once closed", async () => {
    const keys = new EphemeralKeys({ target: 2 });
    keys.close();
    await keys.take(); // generated on demand
    await new Promise((r) => setTimeout(r, 20));
    expect(keys.size).toBe(0);
  });
});
