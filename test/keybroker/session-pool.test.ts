/** The HSM session pool: one operation per session, waiters served in order, close deferred until every session is back. */
import { describe, expect, it } from "vitest";
import { SessionPool } from "../../runtime/keybroker/hsm/session-pool.js";

const s1 = Buffer.from([1]);
const s2 = Buffer.from([2]);

/** A promise the test resolves by hand. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe("SessionPool", () => {
  it("lends each session to one operation at a time and serves waiters in arrival order", async () => {
    let idle = 0;
    const pool = new SessionPool([s1, s2], () => (idle += 1));
    const seen: string[] = [];
    const gates = [gate(), gate(), gate(), gate()];
    const ops = gates.map((g, i) =>
      pool.run(async (s) => (seen.push(`start ${i} on ${s[0]}`), await g.p, seen.push(`end ${i}`), s[0])),
    );
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(["start 0 on 2", "start 1 on 1"]);
    expect(pool.inUse).toBe(2);
    gates[1]?.open();
    await ops[1];
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(["start 0 on 2", "start 1 on 1", "end 1", "start 2 on 1"]);
    gates[0]?.open();
    gates[2]?.open();
    gates[3]?.open();
    expect(await Promise.all(ops)).toEqual([2, 1, 1, 2]);
    expect(pool.inUse).toBe(0);
    expect(idle).toBe(0);
  });

  it("returns the session when the operation fails", async () => {
    const pool = new SessionPool([s1], () => undefined);
    await expect(pool.run(async () => Promise.reject(new Error("CKR_FUNCTION_FAILED")))).rejects.toThrow(
      "CKR_FUNCTION_FAILED",
    );
    expect(await pool.run(async (s) => s[0])).toBe(1);
  });

  it("closes once every lent session is back: waiters and later callers get HSM_UNAVAILABLE", async () => {
    let idle = 0;
    const pool = new SessionPool([s1], () => (idle += 1));
    const g = gate();
    const running = pool.run(async () => (await g.p, "done"));
    const waiting = pool.run(async () => "never");
    pool.close();
    await expect(waiting).rejects.toMatchObject({ code: "HSM_UNAVAILABLE" });
    await expect(pool.run(async () => "late")).rejects.toMatchObject({ code: "HSM_UNAVAILABLE" });
    expect([idle, pool.drained]).toEqual([0, false]);
    g.open();
    expect(await running).toBe("done");
    expect([idle, pool.drained]).toEqual([1, true]);
    pool.close();
    expect(idle).toBe(1);
  });

  it("refuses an empty pool (caller misuse)", () => {
    expect(() => new SessionPool([], () => undefined)).toThrow(TypeError);
  });
});
