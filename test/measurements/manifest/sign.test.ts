import { createHash, createHmac, createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { CompactSign, compactVerify, exportPKCS8, importPKCS8 } from "jose";
import { describe, expect, it } from "vitest";
import {
  MANIFEST_JWS_TYPE,
  ManifestError,
  canonicalManifestBytes,
  formatManifest,
  keyThumbprint,
  signManifest,
  softwareSigner,
  verifySignedManifest,
  type ManifestSigner,
} from "../../../measurements/manifest/index.js";
import { devManifest, withEdit } from "../../helpers/golden.js";

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
const other = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
const signer = softwareSigner(privateKey, "release-key-1");

const b64 = (value: string | Uint8Array) => Buffer.from(value).toString("base64url");
const header = (h: Record<string, unknown>) => b64(JSON.stringify(h));
const GOOD_HEADER = { alg: "ES384", kid: "release-key-1", typ: MANIFEST_JWS_TYPE };

async function joseSign(
  payload: Uint8Array,
  protectedHeader: Record<string, unknown> = GOOD_HEADER,
  key: KeyObject = privateKey,
): Promise<string> {
  return new CompactSign(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(key);
}

async function refusal(jws: string, key: KeyObject = publicKey, options = {}): Promise<ManifestError> {
  try {
    await verifySignedManifest(jws, key, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return error as ManifestError;
  }
  throw new Error("expected the JWS to be refused");
}

describe("signManifest / verifySignedManifest", () => {
  it("round-trips: the verified manifest equals the signed one", async () => {
    const jws = await signManifest(devManifest(), signer);
    const [h, p, s] = jws.split(".");
    expect(Buffer.from(h as string, "base64url").toString()).toBe(
      `{"alg":"ES384","kid":"release-key-1","typ":"golden-manifest+jws"}`,
    );
    expect(Buffer.from(p as string, "base64url")).toEqual(Buffer.from(canonicalManifestBytes(devManifest())));
    expect(Buffer.from(s as string, "base64url").length).toBe(96);
    expect(await verifySignedManifest(jws, publicKey)).toEqual(devManifest());
    expect(await verifySignedManifest(jws, publicKey, { kid: "release-key-1" })).toEqual(devManifest());
  });

  it("interoperates with jose in both directions", async () => {
    const ours = await signManifest(devManifest(), signer);
    const verified = await compactVerify(ours, publicKey, { algorithms: ["ES384"] });
    expect(verified.protectedHeader).toEqual(GOOD_HEADER);
    const theirs = await joseSign(canonicalManifestBytes(devManifest()));
    expect(await verifySignedManifest(theirs, publicKey)).toEqual(devManifest());
  });

  it("accepts keys as CryptoKey (jose imports) and public JWK", async () => {
    const cryptoKey = await importPKCS8(privateKey.export({ format: "pem", type: "pkcs8" }) as string, "ES384");
    const jws = await signManifest(devManifest(), softwareSigner(cryptoKey, "k"));
    expect(await verifySignedManifest(jws, publicKey.export({ format: "jwk" }) as never)).toEqual(devManifest());
    expect(typeof (await exportPKCS8(privateKey))).toBe("string");
  });

  it("signs through an HSM-shaped signer that returns raw r||s", async () => {
    const calls: Uint8Array[] = [];
    const hsm: ManifestSigner = {
      alg: "ES384",
      kid: "hsm:ci-manifest-signing",
      sign: async (input) => {
        calls.push(input);
        return signer.sign(input);
      },
    };
    const jws = await signManifest(devManifest(), hsm);
    expect(calls).toHaveLength(1);
    expect(Buffer.from(calls[0] as Uint8Array).toString()).toBe(jws.split(".").slice(0, 2).join("."));
    expect(await verifySignedManifest(jws, publicKey, { kid: "hsm:ci-manifest-signing" })).toEqual(devManifest());
  });
});

describe("tampered or foreign JWS is refused", () => {
  it.each<[string, (jws: string) => Promise<string> | string, string, string]>([
    [
      "payload changed (release)",
      (jws) => {
        const [h, , s] = jws.split(".");
        return `${h}.${b64(
          canonicalManifestBytes(
            withEdit((m) => {
              m.release = "2026.11.0-evil";
            }),
          ),
        )}.${s}`;
      },
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: signature check failed (signature verification failed)",
    ],
    [
      "payload changed (measurement)",
      (jws) => {
        const [h, , s] = jws.split(".");
        return `${h}.${b64(
          canonicalManifestBytes(
            withEdit((m) => {
              m.launchShapes["runtime-small"].measurement = "0".repeat(96);
            }),
          ),
        )}.${s}`;
      },
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: signature check failed (signature verification failed)",
    ],
    [
      "header alg none, signature dropped",
      (jws) => `${header({ ...GOOD_HEADER, alg: "none" })}.${jws.split(".")[1]}.`,
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: not a compact JWS (three non-empty base64url parts)",
    ],
    [
      "header alg none, signature kept",
      (jws) => `${header({ ...GOOD_HEADER, alg: "none" })}.${jws.split(".").slice(1).join(".")}`,
      "MANIFEST_SIGNATURE_INVALID",
      'verifying signed golden manifest: algorithm "none" is not allowed (ES384 only)',
    ],
    [
      "header alg HS384 keyed with the public key",
      (jws) => {
        const input = `${header({ ...GOOD_HEADER, alg: "HS384" })}.${jws.split(".")[1]}`;
        const mac = createHmac("sha384", publicKey.export({ format: "pem", type: "spki" }) as string)
          .update(input)
          .digest();
        return `${input}.${b64(mac)}`;
      },
      "MANIFEST_SIGNATURE_INVALID",
      'verifying signed golden manifest: algorithm "HS384" is not allowed (ES384 only)',
    ],
    [
      "signature byte flipped",
      (jws) => {
        const [h, p, s] = jws.split(".");
        const sig = Buffer.from(s as string, "base64url");
        sig[10] = (sig[10] as number) ^ 0x01;
        return `${h}.${p}.${b64(sig)}`;
      },
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: signature check failed (signature verification failed)",
    ],
    [
      "signature truncated to 95 bytes",
      (jws) => {
        const [h, p, s] = jws.split(".");
        return `${h}.${p}.${b64(Buffer.from(s as string, "base64url").subarray(0, 95))}`;
      },
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: signature check failed (signature verification failed)",
    ],
    [
      "signed by another key",
      async () => joseSign(canonicalManifestBytes(devManifest()), GOOD_HEADER, other.privateKey),
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: signature check failed (signature verification failed)",
    ],
    [
      "embedded jwk header",
      async () =>
        joseSign(canonicalManifestBytes(devManifest()), {
          ...GOOD_HEADER,
          jwk: other.publicKey.export({ format: "jwk" }),
        }),
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: unexpected header parameter jwk",
    ],
    [
      "b64 false / crit",
      async () => `${header({ ...GOOD_HEADER, b64: false, crit: ["b64"] })}.x.y`,
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: unexpected header parameters b64, crit",
    ],
    [
      "another typ (a JWT)",
      async () => joseSign(canonicalManifestBytes(devManifest()), { ...GOOD_HEADER, typ: "JWT" }),
      "MANIFEST_SIGNATURE_INVALID",
      'verifying signed golden manifest: typ "JWT" is not "golden-manifest+jws"',
    ],
    [
      "no kid",
      async () => joseSign(canonicalManifestBytes(devManifest()), { alg: "ES384", typ: MANIFEST_JWS_TYPE }),
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: the header has no kid",
    ],
    [
      "header not JSON",
      (jws) => `${b64("{alg")}.${jws.split(".").slice(1).join(".")}`,
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: the protected header is not base64url JSON",
    ],
    [
      "four parts",
      (jws) => `${jws}.x`,
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: not a compact JWS (three non-empty base64url parts)",
    ],
    [
      "JSON serialisation instead of compact",
      (jws) => JSON.stringify({ payload: jws.split(".")[1] }),
      "MANIFEST_SIGNATURE_INVALID",
      "verifying signed golden manifest: not a compact JWS (three non-empty base64url parts)",
    ],
    [
      "validly signed but not canonical (pretty file form)",
      async () => joseSign(Buffer.from(formatManifest(devManifest()))),
      "MANIFEST_NOT_CANONICAL",
      "verifying signed golden manifest: the signed payload is not the canonical serialisation of its manifest",
    ],
    [
      "validly signed with a duplicate key",
      async () => {
        const canonical = Buffer.from(canonicalManifestBytes(devManifest())).toString();
        return joseSign(
          Buffer.from(canonical.replace('"release":"2026.11.0-dev"', '"release":"1.0","release":"2026.11.0-dev"')),
        );
      },
      "MANIFEST_NOT_CANONICAL",
      "verifying signed golden manifest: the signed payload is not the canonical serialisation of its manifest",
    ],
    [
      "validly signed but invalid",
      async () => joseSign(Buffer.from(JSON.stringify({ ...devManifest(), status: "live" }))),
      "MANIFEST_INVALID",
      "invalid golden manifest (1 problem):\nstatus: must be one of: active, pending, retired",
    ],
    [
      "validly signed but not JSON",
      async () => joseSign(Buffer.from("not json")),
      "MANIFEST_MALFORMED",
      "reading golden manifest: not JSON (<engine message>)",
    ],
  ])("%s", async (_name, tamper, code, message) => {
    const jws = await tamper(await signManifest(devManifest(), signer));
    const error = await refusal(jws);
    // V8's JSON.parse wording differs between Node versions: compare up to it.
    const actual = error.message.replace(/^(reading golden manifest: not JSON \().*\)$/, "$1<engine message>)");
    expect({ code: error.code, message: actual }).toEqual({ code, message });
  });

  it("refuses an unexpected kid when one is required", async () => {
    const error = await refusal(await signManifest(devManifest(), signer), publicKey, { kid: "release-key-2" });
    expect(error.message).toBe(
      'verifying signed golden manifest: kid "release-key-1" is not the expected "release-key-2"',
    );
  });
});

describe("signer and key misuse", () => {
  it.each<[string, ManifestSigner, string]>([
    [
      "a DER signature",
      { alg: "ES384", kid: "k", sign: async () => new Uint8Array(103) },
      "signing golden manifest: signer k returned 103 bytes, expected a raw ES384 signature of 96 bytes (r||s, not DER)",
    ],
    [
      "a throwing signer (HSM down)",
      {
        alg: "ES384",
        kid: "k",
        sign: async () => {
          throw new Error("CKR_DEVICE_REMOVED");
        },
      },
      "signing golden manifest: signer k failed",
    ],
  ])("refuses %s with MANIFEST_SIGNER_FAILED", async (_name, bad, message) => {
    await expect(signManifest(devManifest(), bad)).rejects.toThrow(
      expect.objectContaining({ code: "MANIFEST_SIGNER_FAILED", message }),
    );
  });

  it("forwards the signer's error as cause", async () => {
    const cause = new Error("CKR_DEVICE_REMOVED");
    await expect(
      signManifest(devManifest(), {
        alg: "ES384",
        kid: "k",
        sign: async () => {
          throw cause;
        },
      }),
    ).rejects.toHaveProperty("cause", cause);
  });

  it("never signs an invalid manifest", async () => {
    await expect(
      signManifest(
        withEdit((m) => {
          m.vcpus = 1;
        }),
        signer,
      ),
    ).rejects.toThrow(
      expect.objectContaining({ code: "MANIFEST_INVALID", problems: [{ path: "vcpus", message: "unknown key" }] }),
    );
  });

  it.each([
    [
      "a P-256 private key",
      () => softwareSigner(generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey, "k"),
      "ES384 needs an EC P-384 key, got ec (prime256v1)",
    ],
    [
      "an RSA private key",
      () => softwareSigner(generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey, "k"),
      "ES384 needs an EC P-384 key, got rsa",
    ],
    ["a public key for signing", () => softwareSigner(publicKey, "k"), "expected a private key, got a public key"],
    [
      "a kid with a space",
      () => softwareSigner(privateKey, "my key"),
      "kid must be 1..256 printable ASCII characters without spaces",
    ],
  ])("refuses %s with a TypeError", (_name, make, message) => {
    expect(make).toThrow(new TypeError(message));
  });

  it.each([
    ["a private key", privateKey, "expected a public key, got a private key"],
    ["a private JWK", privateKey.export({ format: "jwk" }), "verification needs a public key, got a private JWK"],
    [
      "a P-256 public key",
      generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey,
      "ES384 needs an EC P-384 key, got ec (prime256v1)",
    ],
  ])("refuses to verify with %s (TypeError)", async (_name, key, message) => {
    await expect(verifySignedManifest(await signManifest(devManifest(), signer), key as never)).rejects.toThrow(
      new TypeError(message),
    );
  });
});

describe("keyThumbprint", () => {
  it("is the RFC 7638 SHA-256 thumbprint of the public key (same for the private key)", async () => {
    const jwk = publicKey.export({ format: "jwk" }) as { crv: string; x: string; y: string };
    const expected = createHash("sha256")
      .update(`{"crv":"P-384","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`)
      .digest("base64url");
    expect(await keyThumbprint(publicKey)).toBe(expected);
    expect(await keyThumbprint(privateKey)).toBe(expected);
    expect(await keyThumbprint(createPrivateKey(privateKey.export({ format: "pem", type: "sec1" })))).toBe(expected);
  });
});
