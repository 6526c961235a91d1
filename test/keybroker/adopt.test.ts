/**
 * The broker never overwrites HSM objects its state does not record: it adopts an operator's
 * pre-created `<base>-v1` keys (generated inside the token) on a first start, takes its own keys
 * back after losing state.json (nothing rotated yet), and refuses with HSM_KEY_CONFLICT, destroying
 * nothing, when later versions, duplicates or keys that were outside the token are there.
 */
import { createPublicKey, verify, X509Certificate } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as pkcs11js from "pkcs11js";
import { describe, expect, it } from "vitest";
import { adminRotate } from "../../runtime/keybroker/admin-service.js";
import { Pkcs11Token } from "../../runtime/keybroker/hsm/pkcs11.js";
import { ensureSoftHsmToken, SOFTHSM2_MODULE, useSoftHsm } from "../../runtime/keybroker/hsm/softhsm.js";
import { auditLines, brokerFixture, FakeVerifier, startBroker, type BrokerFixture } from "../helpers/keybroker.js";

const LABELS = { kek: "ci-kek", signing: "ci-token-signing", ca: "ci-broker-ca", session: "ci-session-root" };

/** The fixture's token, initialised and opened as the operator's tools would (same folder, label, PIN). */
function operatorToken(f: BrokerFixture): Pkcs11Token {
  mkdirSync(f.config.stateDir, { recursive: true, mode: 0o700 });
  useSoftHsm({
    tokenDir: f.config.hsm.softhsm?.tokenDir as string,
    confPath: join(f.config.stateDir, "softhsm2.conf"),
  });
  ensureSoftHsmToken(SOFTHSM2_MODULE, f.config.hsm.tokenLabel, f.pin);
  return Pkcs11Token.open({ modulePath: SOFTHSM2_MODULE, tokenLabel: f.config.hsm.tokenLabel, pin: f.pin });
}

/** Labels of every object in the token, sorted. */
function labels(token: Pkcs11Token): string[] {
  const t = token as unknown as { lib: pkcs11js.PKCS11; session: Buffer };
  t.lib.C_FindObjectsInit(t.session, []);
  const handles = t.lib.C_FindObjects(t.session, 100);
  t.lib.C_FindObjectsFinal(t.session);
  return handles
    .map((h) => String(t.lib.C_GetAttributeValue(t.session, h, [{ type: pkcs11js.CKA_LABEL }])[0]?.value))
    .sort();
}

describe("keys the state does not record", () => {
  it("adopts keys an operator generated inside the token as version 1 (and uses them)", async () => {
    const f = brokerFixture();
    const token = operatorToken(f);
    token.generateAesKey(`${LABELS.kek}-v1`);
    const signing = token.generateEcKeyPair(`${LABELS.signing}-v1`);
    const ca = token.generateEcKeyPair(`${LABELS.ca}-v1`);
    token.generateHmacKey(`${LABELS.session}-v1`);
    const signingPoint = token.ecPoint(signing.publicKey);
    const caPoint = token.ecPoint(ca.publicKey);
    token.close();

    const broker = await startBroker(f, new FakeVerifier());
    try {
      expect(
        Object.fromEntries(
          Object.entries(broker.state.keys).map(([role, rs]) => [role, rs?.versions.map((v) => v.label)]),
        ),
      ).toEqual({
        kek: ["ci-kek-v1"],
        signing: ["ci-token-signing-v1"],
        ca: ["ci-broker-ca-v1"],
        session: ["ci-session-root-v1"],
      });
      expect(broker.keyring.active("signing").publicJwk).toEqual({
        kty: "EC",
        crv: "P-384",
        x: signingPoint.subarray(1, 49).toString("base64url"),
        y: signingPoint.subarray(49).toString("base64url"),
      });
      const caCert = new X509Certificate(broker.keyring.active("ca").certPem as string);
      expect(caCert.publicKey.export({ format: "jwk" })).toMatchObject({
        x: caPoint.subarray(1, 49).toString("base64url"),
      });
      expect(caCert.verify(caCert.publicKey)).toBe(true);
      const { signature } = await broker.keyring.signEs384Async("signing", Buffer.from("probe"));
      expect(
        verify(
          "sha384",
          Buffer.from("probe"),
          {
            key: createPublicKey({ key: { ...broker.keyring.active("signing").publicJwk }, format: "jwk" }),
            dsaEncoding: "ieee-p1363",
          },
          signature,
        ),
      ).toBe(true);
      expect(auditLines(f).find((l) => l.event === "broker.start")).toMatchObject({
        detail: "keys loaded; adopted pre-created keys: kek, signing, ca, session",
      });
    } finally {
      await broker.close();
    }
  });

  it("takes its own keys back when state.json is lost before any rotation", async () => {
    const f = brokerFixture();
    const first = await startBroker(f, new FakeVerifier());
    const before = JSON.stringify(
      Object.values(first.state.keys).map((rs) => rs?.versions.map((v) => [v.label, v.publicJwk ?? null])),
    );
    await first.close();
    rmSync(join(f.config.stateDir, "state.json"));
    const again = await startBroker(f, new FakeVerifier());
    try {
      expect(
        JSON.stringify(
          Object.values(again.state.keys).map((rs) => rs?.versions.map((v) => [v.label, v.publicJwk ?? null])),
        ),
      ).toBe(before);
    } finally {
      await again.close();
    }
  });

  it("refuses to start (HSM_KEY_CONFLICT) and destroys nothing when state.json is lost after a rotation", async () => {
    const f = brokerFixture();
    const first = await startBroker(f, new FakeVerifier());
    await adminRotate(first, "operator:test", "kek");
    await first.close();
    rmSync(join(f.config.stateDir, "state.json"));
    await expect(startBroker(f, new FakeVerifier())).rejects.toMatchObject({
      code: "HSM_KEY_CONFLICT",
      message:
        'the token holds "ci-kek-v1" (kek) but the broker\'s state records no kek key: later versions exist too (state.json lost after a rotation?); restore state.json (or the store), or use other key labels',
    });
    const token = operatorToken(f);
    expect(labels(token)).toEqual([
      "ci-broker-ca-v1",
      "ci-broker-ca-v1",
      "ci-kek-v1",
      "ci-kek-v2",
      "ci-session-root-v1",
      "ci-token-signing-v1",
      "ci-token-signing-v1",
    ]);
    token.close();
  });

  it("refuses a key whose value was outside the token (imported), even marked sensitive", async () => {
    const f = brokerFixture();
    const token = operatorToken(f);
    const t = token as unknown as { lib: pkcs11js.PKCS11; session: Buffer };
    t.lib.C_CreateObject(t.session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_LABEL, value: `${LABELS.kek}-v1` },
      { type: pkcs11js.CKA_VALUE, value: Buffer.alloc(32, 7) },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
    ]);
    token.close();
    await expect(startBroker(f, new FakeVerifier())).rejects.toMatchObject({
      code: "HSM_KEY_CONFLICT",
      message: expect.stringContaining("it was not generated inside the token or its value was exposed"),
    });
  });

  it("refuses a rotation onto a label the token already holds, leaving the object, the state and no pending marker", async () => {
    const f = brokerFixture();
    const broker = await startBroker(f, new FakeVerifier());
    try {
      broker.hsm.use((token) => token.generateAesKey(`${LABELS.kek}-v2`));
      await expect(adminRotate(broker, "operator:test", "kek")).rejects.toMatchObject({ code: "HSM_KEY_CONFLICT" });
      expect(broker.state.keys.kek).toMatchObject({ active: 1, versions: [{ label: "ci-kek-v1" }] });
      expect(broker.state.pendingRotation).toBeUndefined();
      expect(broker.hsm.use((token) => token.find("aes", `${LABELS.kek}-v2`))).toHaveLength(1);
    } finally {
      await broker.close();
    }
  });
});
