/**
 * kill -9 during rotation: a child process rotates a key role and is killed with SIGKILL at each
 * crash point of the rotation protocol (or at a random instant of a rotation loop); after a
 * restart every key version is intact and usable and rotation works again.
 */
import { spawn } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adminImportDataKey, adminRotate } from "../../runtime/keybroker/admin-service.js";
import type { KeyBroker } from "../../runtime/keybroker/broker.js";
import { dataKeyAad } from "../../runtime/keybroker/keys/data-keys.js";
import { DEFAULT_KEY_LABELS } from "../../runtime/keybroker/keys/keyring-config.js";
import { KEY_ROLES, type KeyRole } from "../../runtime/keybroker/state/state.js";
import { auditLines, brokerFixture, FakeVerifier, startBroker, type BrokerFixture } from "../helpers/keybroker.js";

const CHILD = join(__dirname, "fixtures", "rotate-child.ts");
const KEYS: Record<string, Buffer> = {
  "default/model/a": Buffer.alloc(32, 0xa1),
  "default/model/b": Buffer.alloc(16, 0xb2),
};

function runChild(
  f: BrokerFixture,
  env: Record<string, string>,
  killAfterRotations?: number,
): Promise<{ signal: NodeJS.Signals | null; code: number | null; out: string; err: string }> {
  const cfg = join(f.dir, "config.json");
  writeFileSync(cfg, JSON.stringify(f.config));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
      env: { ...process.env, KB_CONFIG: cfg, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (killAfterRotations !== undefined && out.split("rotated").length - 1 >= killAfterRotations && !child.killed) {
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 40));
      }
    });
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    // close, not exit: exit can fire before the pipes are read to the end.
    child.on("close", (code, signal) => resolve({ code, signal, out, err }));
  });
}

/** Every committed version of every role is present and usable; data keys unwrap under every KEK that wrapped them. */
function checkEveryVersion(broker: KeyBroker): void {
  expect(broker.state.pendingRotation).toBeUndefined();
  for (const role of KEY_ROLES) {
    const versions = broker.keyring.versions(role);
    expect(versions.filter((v) => v.status === "active")).toHaveLength(1);
    for (const v of versions) {
      if (role === "signing" || role === "ca") {
        const { signature } = broker.keyring.signEs384(role, Buffer.from("probe"), v.version);
        const key = createPublicKey({
          key: { ...(v.publicJwk as object), kty: "EC", crv: "P-384" } as never,
          format: "jwk",
        });
        expect(verify("sha384", Buffer.from("probe"), { key, dsaEncoding: "ieee-p1363" }, signature)).toBe(true);
      } else if (role === "session") {
        expect(
          broker.hsm.use((token, handle) => token.hmacSha384(handle("hmac", v.label), Buffer.from("probe"))),
        ).toHaveLength(48);
      }
    }
  }
  for (const [resource, plain] of Object.entries(KEYS)) {
    const ds = broker.state.dataKeys[resource];
    for (const v of ds?.versions ?? []) {
      for (const [kek, blob] of Object.entries(v.wrapped)) {
        expect(
          broker.keyring.unwrap(dataKeyAad(resource, v.version), Number(kek), blob.iv, blob.ct).equals(plain),
        ).toBe(true);
      }
    }
  }
}

async function prepared(): Promise<{ f: BrokerFixture; before: Record<KeyRole, number> }> {
  const f = brokerFixture();
  const b = await startBroker(f, new FakeVerifier());
  for (const [r, k] of Object.entries(KEYS)) await adminImportDataKey(b, "operator:test", r, Buffer.from(k));
  await adminRotate(b, "operator:test", "kek");
  const before = Object.fromEntries(KEY_ROLES.map((r) => [r, b.keyring.versions(r).length])) as Record<KeyRole, number>;
  await b.close();
  return { f, before };
}

describe("kill -9 during rotation", () => {
  it.each([
    ["kek", "rotation:pending-saved", false],
    ["kek", "rotation:hsm-created", false],
    ["kek", "rotation:derived", false],
    ["kek", "rotation:committed", true],
    ["signing", "rotation:hsm-created", false],
    ["ca", "rotation:hsm-created", false],
    ["session", "rotation:derived", false],
  ] as const)("%s killed at %s: every key version intact after restart", async (role, point, committed) => {
    const { f, before } = await prepared();
    const r = await runChild(f, { KB_ROTATE: role, KB_CRASH_AT: point });
    expect(r.signal).toBe("SIGKILL");
    expect(r.out).toBe("started\n");
    const b = await startBroker(f, new FakeVerifier());
    try {
      expect(b.keyring.versions(role)).toHaveLength(before[role] + (committed ? 1 : 0));
      checkEveryVersion(b);
      const start = auditLines(f)
        .filter((l) => l.event === "broker.start")
        .at(-1);
      if (committed) expect(start.detail).toBe("keys loaded");
      else
        expect(start.detail).toBe(
          `keys loaded; undid interrupted rotation ${DEFAULT_KEY_LABELS[role]}-v${before[role] + 1}`,
        );
      const again = await adminRotate(b, "operator:test", role);
      expect(again.version).toBe(before[role] + (committed ? 2 : 1));
      checkEveryVersion(b);
    } finally {
      await b.close();
    }
  });

  it("kill -9 from outside at a random instant of a KEK rotation loop leaves every version usable", async () => {
    const { f } = await prepared();
    const r = await runChild(f, { KB_ROTATE: "kek", KB_LOOP: "1" }, 2);
    expect(r.signal).toBe("SIGKILL");
    const b = await startBroker(f, new FakeVerifier());
    try {
      expect(b.keyring.versions("kek").length).toBeGreaterThanOrEqual(4);
      checkEveryVersion(b);
    } finally {
      await b.close();
    }
  });
});
