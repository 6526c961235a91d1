/** Pure crypto building blocks: DER, X.509, the report-data binding, JWE (known answers and jose interop). */
import {
  createECDH,
  createHash,
  createPrivateKey,
  diffieHellman,
  generateKeyPairSync,
  createPublicKey,
  sign,
  verify,
  X509Certificate,
} from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompactEncrypt, exportJWK, flattenedDecrypt, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import {
  buildCertificate,
  canonicalJson,
  ecdsaRawToDer,
  ecdsaSha384RawSigner,
  ecProfileSpec,
  encodeBitString,
  encodeInteger,
  encodeNamedBits,
  encodeOid,
  encodeTime,
  jwkFromPoint,
  jwkThumbprint,
  pointFromJwk,
  spkiFromPoint,
  toPem,
} from "../../core/index.js";
import { expectedReportData } from "../../runtime/kbs-protocol/binding.js";
import { teeKeyCheck } from "../../runtime/keybroker/keys/tee-key.js";
import { concatKdf, decryptFromTeeKey, encryptToTeeKey, prepareJwe, sealJwe } from "../../runtime/kbs-protocol/jwe.js";
import { requireTool } from "../helpers/system-tools.js";

describe("DER", () => {
  it.each([
    ["oid ecdsa-with-SHA384", encodeOid("1.2.840.10045.4.3.3"), "06082a8648ce3d040303"],
    ["oid secp384r1", encodeOid("1.3.132.0.34"), "06052b81040022"],
    ["integer 0", encodeInteger(0), "020100"],
    ["integer 127", encodeInteger(127), "02017f"],
    ["integer 128 (pad)", encodeInteger(128), "02020080"],
    ["integer 65537", encodeInteger(65537), "0203010001"],
    ["uint strips leading zeros", encodeInteger(Buffer.from("000001ff", "hex")), "020201ff"],
    ["UTCTime 2026", encodeTime(new Date("2026-01-02T03:04:05Z")), "170d3236303130323033303430355a"],
    ["GeneralizedTime 2050", encodeTime(new Date("2050-01-01T00:00:00Z")), "180f32303530303130313030303030305a"],
    ["bit string", encodeBitString(Buffer.from([0xff])), "030200ff"],
    ["key usage digitalSignature", encodeNamedBits([0]), "03020780"],
    ["key usage keyCertSign+cRLSign+digitalSignature", encodeNamedBits([0, 5, 6]), "03020186"],
  ])("%s", (_n, der, hex) => expect(der.toString("hex")).toBe(hex));

  it("turns a raw r||s signature into an Ecdsa-Sig-Value that node verifies", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const raw = sign("sha384", Buffer.from("m"), { key: privateKey, dsaEncoding: "ieee-p1363" });
    const der = ecdsaRawToDer(raw);
    expect(verify("sha384", Buffer.from("m"), publicKey, der)).toBe(true);
    expect(ecdsaRawToDer(Buffer.concat([Buffer.alloc(48, 0), Buffer.alloc(48, 0x80)])).toString("hex")).toBe(
      `3036020100023100${"80".repeat(48)}`,
    );
  });
});

describe("P-384 keys", () => {
  it("round-trips point, JWK and SPKI; refuses bad JWKs with field paths", () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const spki = publicKey.export({ type: "spki", format: "der" });
    const jwk = publicKey.export({ format: "jwk" });
    const point = pointFromJwk(jwk, "k");
    expect(spkiFromPoint(point).equals(spki)).toBe(true);
    expect(jwkFromPoint(point)).toEqual({ kty: "EC", crv: "P-384", x: jwk.x, y: jwk.y });
    expect(() => teeKeyCheck(() => pointFromJwk({ kty: "RSA", crv: "P-256", x: "a" }, "tee-pubkey"))).toThrow(
      expect.objectContaining({
        code: "TEE_KEY_INVALID",
        problems: [
          { path: "tee-pubkey.kty", message: 'must be "EC"' },
          { path: "tee-pubkey.crv", message: 'must be "P-384"' },
          { path: "tee-pubkey.x", message: "must be 48 bytes, base64url without padding" },
          { path: "tee-pubkey.y", message: "must be 48 bytes, base64url without padding" },
        ],
      }),
    );
  });

  const P384_P = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff";
  it.each([
    [
      "off the curve (y + 1)",
      (x: Buffer, y: Buffer) => [
        x,
        Buffer.from((BigInt(`0x${y.toString("hex")}`) + 1n).toString(16).padStart(96, "0"), "hex"),
      ],
    ],
    ["x = p (not a field element)", (_x: Buffer, y: Buffer) => [Buffer.from(P384_P, "hex"), y]],
    ["all zeros", () => [Buffer.alloc(48), Buffer.alloc(48)]],
  ])("refuses a point %s with TEE_KEY_INVALID", (_name, alter) => {
    const jwk = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ format: "jwk" });
    const [x, y] = alter(Buffer.from(jwk.x as string, "base64url"), Buffer.from(jwk.y as string, "base64url")) as [
      Buffer,
      Buffer,
    ];
    expect(() =>
      teeKeyCheck(() =>
        pointFromJwk({ kty: "EC", crv: "P-384", x: x.toString("base64url"), y: y.toString("base64url") }, "tee-pubkey"),
      ),
    ).toThrow(
      expect.objectContaining({
        code: "TEE_KEY_INVALID",
        problems: [{ path: "tee-pubkey", message: "not a point on P-384" }],
      }),
    );
  });

  it("computes RFC 7638 thumbprints (RFC 7638 section 3.1 example uses RSA; checked here against jose)", async () => {
    const { publicKey } = await generateKeyPair("ES384", { extractable: true });
    const jwk = await exportJWK(publicKey);
    const { calculateJwkThumbprint } = await import("jose");
    expect(jwkThumbprint(jwk as never)).toBe(await calculateJwkThumbprint(jwk, "sha256"));
  });
});

describe("X.509", () => {
  it("builds a CA and a TLS certificate that node and openssl verify", () => {
    const ca = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const leaf = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const pt = (k: typeof ca.publicKey) => pointFromJwk(k.export({ format: "jwk" }), "k");
    const signer = ecdsaSha384RawSigner((tbs) =>
      sign("sha384", tbs, { key: ca.privateKey, dsaEncoding: "ieee-p1363" }),
    );
    const dn = { commonName: "Broker CA", organization: "ci" };
    const now = new Date();
    const caDer = buildCertificate(
      ecProfileSpec({
        serial: Buffer.from([1]),
        issuer: dn,
        subject: dn,
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + 86_400_000),
        subjectPoint: pt(ca.publicKey),
        issuerPoint: pt(ca.publicKey),
        profile: "ca",
      }),
      signer,
    );
    const leafDer = buildCertificate(
      ecProfileSpec({
        serial: Buffer.from("00ff01", "hex"),
        issuer: dn,
        subject: { commonName: "runtime" },
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + 900_000),
        subjectPoint: pt(leaf.publicKey),
        issuerPoint: pt(ca.publicKey),
        profile: "tls",
        altNames: { dns: ["localhost"], ip: ["127.0.0.1", "::1"], uri: ["urn:x"] },
      }),
      signer,
    );
    const c = new X509Certificate(caDer);
    const l = new X509Certificate(leafDer);
    expect([c.ca, l.ca, l.checkIssued(c), l.verify(c.publicKey), c.verify(c.publicKey)]).toEqual([
      true,
      false,
      true,
      true,
      true,
    ]);
    expect(l.subjectAltName).toBe("DNS:localhost, URI:urn:x, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(l.serialNumber).toBe("FF01");
    expect(l.checkPrivateKey(leaf.privateKey)).toBe(true);
    requireTool("openssl");
    const dir = mkdtempSync(join(tmpdir(), "kb-x509-"));
    writeFileSync(join(dir, "ca.pem"), toPem(caDer));
    writeFileSync(join(dir, "leaf.pem"), toPem(leafDer));
    expect(
      execFileSync(
        "openssl",
        ["verify", "-purpose", "sslserver", "-CAfile", join(dir, "ca.pem"), join(dir, "leaf.pem")],
        { encoding: "utf8" },
      ),
    ).toBe(`${join(dir, "leaf.pem")}: OK\n`);
  });
});

describe("report-data binding (Trustee KBS 0.4.0)", () => {
  const jwk = { kty: "EC", crv: "P-384", alg: "ECDH-ES+A256KW", x: "x".repeat(64), y: "y".repeat(64) };
  it("hashes the JCS form of {additional-evidence, nonce, tee-pubkey} with SHA-384, zero-padded to 64 bytes", () => {
    const canonical = `{"additional-evidence":"","nonce":"bm9uY2U=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-384","kty":"EC","x":"${"x".repeat(64)}","y":"${"y".repeat(64)}"}}`;
    expect(
      canonicalJson({ "tee-pubkey": { ...jwk, extra: undefined }, nonce: "bm9uY2U=", "additional-evidence": "" }),
    ).toBe(canonical);
    const rd = expectedReportData("bm9uY2U=", { ...jwk, extra: "ignored" } as never);
    expect(rd.subarray(0, 48).toString("hex")).toBe(createHash("sha384").update(canonical).digest("hex"));
    expect(rd.subarray(48).equals(Buffer.alloc(16))).toBe(true);
  });
  it("sorts keys by UTF-16 code units and escapes like JSON", () => {
    expect(canonicalJson({ b: [1, "é\n"], a: null, A: true, "\u00e9": {} })).toBe(
      '{"A":true,"a":null,"b":[1,"é\\n"],"é":{}}',
    );
  });
});

describe("JWE ECDH-ES+A256KW / A256GCM", () => {
  it("Concat KDF matches RFC 7518 Appendix C", () => {
    const alice = createPrivateKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
        y: "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
        d: "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo",
      },
      format: "jwk",
    });
    const bob = createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
        y: "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
      },
      format: "jwk",
    });
    const z = diffieHellman({ privateKey: alice, publicKey: bob });
    expect(concatKdf(z, "A128GCM", 128, Buffer.from("Alice"), Buffer.from("Bob")).toString("base64url")).toBe(
      "VqqN6vgjbSBcIijNcacQGg",
    );
  });

  it("jose decrypts what the broker encrypts, with the expected header", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const jwe = encryptToTeeKey(pointFromJwk(publicKey.export({ format: "jwk" }), "k"), Buffer.from("model key"));
    const out = await flattenedDecrypt(jwe, privateKey, {
      keyManagementAlgorithms: ["ECDH-ES+A256KW"],
      contentEncryptionAlgorithms: ["A256GCM"],
    });
    expect(Buffer.from(out.plaintext).toString()).toBe("model key");
    expect(Object.keys(out.protectedHeader ?? {}).sort()).toEqual(["alg", "enc", "epk"]);
    expect(Object.keys(jwe).sort()).toEqual(["ciphertext", "encrypted_key", "iv", "protected", "tag"]);
    const tampered = { ...jwe, ciphertext: Buffer.from("other text").toString("base64url") };
    await expect(flattenedDecrypt(tampered, privateKey)).rejects.toThrow();
  });

  it("decryptFromTeeKey opens jose's JWEs and refuses tampered ones", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const { FlattenedEncrypt } = await import("jose");
    const jwe = await new FlattenedEncrypt(Buffer.from("from jose"))
      .setProtectedHeader({ alg: "ECDH-ES+A256KW", enc: "A256GCM" })
      .encrypt(publicKey);
    expect(decryptFromTeeKey(jwe as never, privateKey).toString()).toBe("from jose");
    expect(() =>
      decryptFromTeeKey(
        { ...(jwe as never as { tag: string }), tag: Buffer.alloc(16).toString("base64url") } as never,
        privateKey,
      ),
    ).toThrow();
    expect(
      decryptFromTeeKey(
        encryptToTeeKey(pointFromJwk(publicKey.export({ format: "jwk" }), "k"), Buffer.from("ours")),
        privateKey,
      ).toString(),
    ).toBe("ours");
  });

  it("prepareJwe + sealJwe (ephemeral key from the thread pool) give JWEs that jose and decryptFromTeeKey open, one ephemeral key each", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const [a, b] = await Promise.all([prepareJwe(publicKey), prepareJwe(publicKey)]);
    const ja = sealJwe(a, Buffer.from("first"));
    const jb = sealJwe(b, Buffer.from("second"));
    expect(a.cek.equals(Buffer.alloc(32))).toBe(true); // zeroed once sealed
    expect(
      Buffer.from(
        (
          await flattenedDecrypt(ja, privateKey, {
            keyManagementAlgorithms: ["ECDH-ES+A256KW"],
            contentEncryptionAlgorithms: ["A256GCM"],
          })
        ).plaintext,
      ).toString(),
    ).toBe("first");
    expect(decryptFromTeeKey(jb, privateKey).toString()).toBe("second");
    const epk = (j: { protected: string }) => JSON.parse(Buffer.from(j.protected, "base64url").toString()).epk.x;
    expect(epk(ja)).not.toBe(epk(jb));
  });

  it("derives the same key-wrapping key as jose for the same ephemeral key (independent ECDH)", async () => {
    // jose encrypts to our key; we redo its key agreement with node and unwrap its CEK.
    const recipient = createECDH("secp384r1");
    recipient.generateKeys();
    const pub = jwkFromPoint(recipient.getPublicKey());
    const { importJWK } = await import("jose");
    const jwe = await new CompactEncrypt(Buffer.from("x"))
      .setProtectedHeader({ alg: "ECDH-ES+A256KW", enc: "A256GCM" })
      .encrypt(await importJWK({ ...pub, alg: "ECDH-ES+A256KW" }, "ECDH-ES+A256KW"));
    const [h, ek] = jwe.split(".") as [string, string];
    const epk = JSON.parse(Buffer.from(h, "base64url").toString()).epk;
    const z = recipient.computeSecret(pointFromJwk(epk, "epk"));
    const kek = concatKdf(z, "ECDH-ES+A256KW", 256);
    const { createDecipheriv } = await import("node:crypto");
    const d = createDecipheriv("id-aes256-wrap", kek, Buffer.from("a6a6a6a6a6a6a6a6", "hex"));
    expect(Buffer.concat([d.update(Buffer.from(ek, "base64url")), d.final()])).toHaveLength(32);
  });
});
