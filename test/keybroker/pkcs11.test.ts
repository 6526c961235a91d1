/** The PKCS#11 wrapper against real SoftHSM2, each test file with its own token folder. */
import { createPublicKey, verify } from "node:crypto";
import { join } from "node:path";
import * as pkcs11js from "pkcs11js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkMechanisms, REQUIRED_MECHANISMS } from "../../runtime/keybroker/hsm/mechanisms.js";
import { Pkcs11Token } from "../../runtime/keybroker/hsm/pkcs11.js";
import { padLabel } from "../../runtime/keybroker/hsm/pkcs11-session.js";
import { ensureSoftHsmToken, SOFTHSM2_MODULE, softHsmConf, useSoftHsm } from "../../runtime/keybroker/hsm/softhsm.js";
import { jwkFromPoint } from "../../core/index.js";
import { tempDir } from "../helpers/keybroker.js";

describe("PKCS#11 wrapper on SoftHSM2", () => {
  const dir = tempDir("kb-p11-");
  let token: Pkcs11Token;
  beforeAll(() => {
    useSoftHsm({ tokenDir: join(dir, "tokens"), confPath: join(dir, "softhsm2.conf") });
    expect(ensureSoftHsmToken(SOFTHSM2_MODULE, "unit", "1234")).toBe(true);
    expect(ensureSoftHsmToken(SOFTHSM2_MODULE, "unit", "1234")).toBe(false);
    token = Pkcs11Token.open({ modulePath: SOFTHSM2_MODULE, tokenLabel: "unit", pin: "1234" });
  });
  afterAll(() => token.close());

  it("writes a private configuration whose token folder is the project folder", () => {
    expect(softHsmConf("/srv/kb/tokens")).toBe(
      "directories.tokendir = /srv/kb/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
    );
    expect(process.env.SOFTHSM2_CONF).toBe(join(dir, "softhsm2.conf"));
  });

  it("pads labels to 32 bytes with spaces and refuses longer ones", () => {
    expect(padLabel("kb")).toBe(`kb${" ".repeat(30)}`);
    expect(() => padLabel("x".repeat(33))).toThrow(TypeError);
  });

  it("has every required mechanism", () => {
    expect(() => checkMechanisms(token.mechanisms())).not.toThrow();
  });

  it("names every missing mechanism and its use", () => {
    const err = (() => {
      try {
        checkMechanisms([pkcs11js.CKM_AES_KEY_GEN, pkcs11js.CKM_ECDSA]);
      } catch (e) {
        return e as { code: string; message: string; problems: { path: string }[] };
      }
      return undefined;
    })();
    expect(err?.code).toBe("HSM_MECHANISM_MISSING");
    expect(err?.problems.map((p) => p.path)).toEqual([
      "hsm.mechanisms.CKM_AES_GCM",
      "hsm.mechanisms.CKM_EC_KEY_PAIR_GEN",
      "hsm.mechanisms.CKM_GENERIC_SECRET_KEY_GEN",
      "hsm.mechanisms.CKM_SHA384_HMAC",
    ]);
    expect(err?.message).toContain("CKM_AES_GCM (wrap and unwrap model data keys under the KEK)");
    expect(REQUIRED_MECHANISMS).toHaveLength(6);
  });

  it("creates a KEK that is sensitive, never extractable, a token object, and whose value cannot be read", () => {
    const kek = token.generateAesKey("kek-v1");
    expect(token.flags(kek)).toEqual({ sensitive: true, extractable: false, token: true });
    expect(() =>
      (token as unknown as { lib: pkcs11js.PKCS11; session: Buffer }).lib.C_GetAttributeValue(
        (token as unknown as { session: Buffer }).session,
        kek,
        [{ type: pkcs11js.CKA_VALUE }],
      ),
    ).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    expect(token.find("aes", "kek-v1")).toHaveLength(1);
  });

  it("wraps with AES-256-GCM and reports a tampered blob as WRAPPED_KEY_CORRUPT", () => {
    const [kek] = token.find("aes", "kek-v1") as [Buffer];
    const iv = token.random(12);
    const aad = Buffer.from("ci-data-key|default/model/m|v1");
    const ct = token.gcmEncrypt(kek, iv, aad, Buffer.alloc(32, 5));
    expect(ct).toHaveLength(48);
    expect(token.gcmDecrypt(kek, iv, aad, ct).equals(Buffer.alloc(32, 5))).toBe(true);
    const bad = Buffer.from(ct);
    bad[0] = (bad[0] as number) ^ 1;
    expect(() => token.gcmDecrypt(kek, iv, aad, bad)).toThrow(expect.objectContaining({ code: "WRAPPED_KEY_CORRUPT" }));
    expect(() => token.gcmDecrypt(kek, iv, Buffer.from("other aad"), ct)).toThrow(
      expect.objectContaining({ code: "WRAPPED_KEY_CORRUPT" }),
    );
  });

  it("signs ES384 as raw r||s that node verifies with the token's public point", () => {
    const pair = token.generateEcKeyPair("sig-v1");
    expect(token.flags(pair.privateKey)).toEqual({ sensitive: true, extractable: false, token: true });
    const point = token.ecPoint(pair.publicKey);
    const sig = token.signEs384(pair.privateKey, Buffer.from("payload"));
    expect(sig).toHaveLength(96);
    const key = createPublicKey({ key: { ...jwkFromPoint(point) }, format: "jwk" });
    expect(verify("sha384", Buffer.from("payload"), { key, dsaEncoding: "ieee-p1363" }, sig)).toBe(true);
  });

  it("derives with HMAC-SHA384 deterministically", () => {
    const k = token.generateHmacKey("sess-v1");
    expect(token.hmacSha384(k, Buffer.from("a")).equals(token.hmacSha384(k, Buffer.from("a")))).toBe(true);
    expect(token.hmacSha384(k, Buffer.from("a")).equals(token.hmacSha384(k, Buffer.from("b")))).toBe(false);
  });

  it("runs signatures, HMACs and unwraps on pooled sessions off the event loop: 12 at once on 2 sessions, each correct", async () => {
    const [kek] = token.find("aes", "kek-v1") as [Buffer];
    const [priv] = token.find("ec-private", "sig-v1") as [Buffer];
    const [pub] = token.find("ec-public", "sig-v1") as [Buffer];
    const [hmac] = token.find("hmac", "sess-v1") as [Buffer];
    const key = createPublicKey({ key: { ...jwkFromPoint(token.ecPoint(pub)) }, format: "jwk" });
    const iv = token.random(12);
    const aad = Buffer.from("ci-data-key|default/model/m|v1");
    const ct = token.gcmEncrypt(kek, iv, aad, Buffer.alloc(32, 7));
    const messages = Array.from({ length: 12 }, (_, i) => Buffer.from(`message ${i}`));
    const [sigs, macs, keys] = await Promise.all([
      Promise.all(messages.map((m) => token.signEs384Async(priv, m))),
      Promise.all(messages.map((m) => token.hmacSha384Async(hmac, m))),
      Promise.all(messages.map(() => token.gcmDecryptAsync(kek, iv, aad, ct))),
    ]);
    expect(
      sigs.map((sig, i) => verify("sha384", messages[i] as Buffer, { key, dsaEncoding: "ieee-p1363" }, sig)),
    ).toEqual(messages.map(() => true));
    expect(macs.map((m, i) => m.equals(token.hmacSha384(hmac, messages[i] as Buffer)))).toEqual(
      messages.map(() => true),
    );
    expect(keys.every((k) => k.equals(Buffer.alloc(32, 7)))).toBe(true);
    const bad = Buffer.from(ct);
    bad[5] = (bad[5] as number) ^ 1;
    await expect(token.gcmDecryptAsync(kek, iv, aad, bad)).rejects.toMatchObject({ code: "WRAPPED_KEY_CORRUPT" });
  });

  it("finalises only after the operations still on the thread pool return; later ones fail HSM_UNAVAILABLE", async () => {
    const [priv] = token.find("ec-private", "sig-v1") as [Buffer];
    const running = Array.from({ length: 6 }, (_, i) => token.signEs384Async(priv, Buffer.from(`in flight ${i}`)));
    token.close();
    expect(token.closed).toBe(false);
    expect((await Promise.allSettled(running)).map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
    ]);
    expect(token.closed).toBe(true);
    await expect(token.signEs384Async(priv, Buffer.from("after"))).rejects.toMatchObject({ code: "HSM_UNAVAILABLE" });
    token = Pkcs11Token.open({ modulePath: SOFTHSM2_MODULE, tokenLabel: "unit", pin: "1234" });
  });

  it.each([
    ["a wrong PIN", { tokenLabel: "unit", pin: "9999" }, "HSM_LOGIN_FAILED"],
    ["an unknown token label", { tokenLabel: "nope", pin: "1234" }, "HSM_TOKEN_NOT_FOUND"],
    [
      "a missing module",
      { modulePath: "/nonexistent/libpkcs11.so", tokenLabel: "unit", pin: "1234" },
      "HSM_MODULE_LOAD_FAILED",
    ],
  ])("opening with %s fails with its code and never shows the PIN", (_n, o, code) => {
    token.close();
    try {
      Pkcs11Token.open({ modulePath: SOFTHSM2_MODULE, ...o });
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe(code);
      expect((e as Error).message).not.toContain(o.pin);
    } finally {
      token = Pkcs11Token.open({ modulePath: SOFTHSM2_MODULE, tokenLabel: "unit", pin: "1234" });
    }
  });
});
