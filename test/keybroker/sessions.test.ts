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

describe("SessionStore limits", () => {
  const peerStore = (now: { t: number }, max: number) =>
    new SessionStore({ nonceTtlSeconds: 60, maxSessions: max, sessionsPerPeer: 3, now: () => new Date(now.t) });

  it("refuses a peer its fourth unanswered challenge (429), counting an IPv6 /64 as one peer", () => {
    const now = { t: Date.parse("2026-11-26T12:00:00Z") };
    const s = peerStore(now, 100);
    for (const a of ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:0db8:0001:0002::7"]) s.create("snp", { peer: a });
    expect(() => s.create("snp", { peer: "2001:db8:1:2::abcd" })).toThrow(
      expect.objectContaining({ code: "PEER_SESSIONS_EXHAUSTED", status: 429 }),
    );
    expect(s.create("snp", { peer: "2001:db8:1:3::1" }).peer).toBe("2001:db8:1:3::/64");
    expect(s.create("snp", { peer: "::ffff:10.0.0.1" }).peer).toBe("10.0.0.1");
  });

  it("evicts the busiest peer's oldest challenge when full, never an attestation in progress or a fresh attested session", () => {
    const now = { t: Date.parse("2026-11-26T12:00:00Z") };
    const s = peerStore(now, 4);
    const runtime = s.create("snp", { peer: "10.0.0.1" });
    s.beginAttestation(runtime.id);
    const attested = s.create("snp", { peer: "10.0.0.2" });
    s.beginAttestation(attested.id);
    s.finishAttestation(attested, { token: "t", expiresAt: now.t + 300_000 });
    now.t += 1000;
    const a1 = s.create("snp", { peer: "10.0.0.3" });
    now.t += 1000;
    s.create("snp", { peer: "10.0.0.3" });
    now.t += 1000;
    s.create("snp", { peer: "10.0.0.4" }); // full: 10.0.0.3 holds the most, its oldest goes
    expect(s.size).toBe(4);
    expect(() => s.beginAttestation(a1.id)).toThrow(expect.objectContaining({ code: "SESSION_UNKNOWN" }));
    expect(s.tokenOf(attested.id)).toBe("t");
    s.beginAttestation(s.create("snp", { peer: "10.0.0.5" }).id); // evicts 10.0.0.3's last (oldest of the 1-session peers)
    s.beginAttestation(s.create("snp", { peer: "10.0.0.6" }).id); // evicts 10.0.0.4's
    expect(() => s.create("snp", { peer: "10.0.0.7" })).toThrow(
      expect.objectContaining({ code: "SESSIONS_EXHAUSTED", status: 503 }),
    );
    now.t += 60_000; // the three attestations in progress outlived their nonce: swept, room again
    expect(s.create("snp", { peer: "10.0.0.7" }).peer).toBe("10.0.0.7");
    expect(s.size).toBe(2);
    expect(s.tokenOf(attested.id)).toBe("t");
  });
});
