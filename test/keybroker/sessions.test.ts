/** KBS sessions: the key agreement prepared at /attest goes to the session's own token, once; expired sessions zero unused ones. */
import { describe, expect, it } from "vitest";
import type { PreparedJwe } from "../../runtime/kbs-protocol/jwe.js";
import { SessionStore } from "../../runtime/keybroker/session/sessions.js";

function store(now: { t: number }) {
  return new SessionStore({ nonceTtlSeconds: 60, maxSessions: 2, now: () => new Date(now.t) });
}
const prepared = (): PreparedJwe => ({
  protectedB64: "h",
  encryptedKey: Buffer.alloc(40, 1),
  cek: Buffer.alloc(32, 7),
});

describe("SessionStore prepared key agreements", () => {
  it("hands the prepared agreement to the session's own token, once", async () => {
    const now = { t: Date.parse("2026-11-26T12:00:00Z") };
    const s = store(now);
    const session = s.create("snp", { certificate: true });
    expect(session.certificate).toBe(true);
    s.beginAttestation(session.id);
    const p = Promise.resolve(prepared());
    s.finishAttestation(session, { token: "tok", expiresAt: now.t + 300_000, prepared: p });
    expect(s.takePrepared(session.id, "another token")).toBeUndefined();
    expect(s.takePrepared("another session", "tok")).toBeUndefined();
    expect(s.takePrepared(session.id, "tok")).toBe(p);
    expect(s.takePrepared(session.id, "tok")).toBeUndefined();
  });

  it("zeroes the content key of an unused agreement when its session is swept", async () => {
    const now = { t: Date.parse("2026-11-26T12:00:00Z") };
    const s = store(now);
    const session = s.create("snp");
    s.beginAttestation(session.id);
    const p = prepared();
    s.finishAttestation(session, { token: "tok", expiresAt: now.t + 300_000, prepared: Promise.resolve(p) });
    now.t += 301_000;
    s.sweep();
    await new Promise((r) => setImmediate(r));
    expect(s.size).toBe(0);
    expect(p.cek.equals(Buffer.alloc(32))).toBe(true);
  });
});
