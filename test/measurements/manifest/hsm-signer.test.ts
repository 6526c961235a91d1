/**
 * The ManifestSigner contract against a real PKCS#11 token (SoftHSM2): SHA-384 of the signing input,
 * then CKM_ECDSA with a non-extractable P-384 key, returns exactly the raw r||s a JWS ES384 needs.
 */
import { spawnSync } from "node:child_process";
import { createHash, createPublicKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pkcs11js from "pkcs11js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signManifest, verifySignedManifest, type ManifestSigner } from "../../../measurements/manifest/index.js";
import { devManifest } from "../../helpers/golden.js";
import { requireTool } from "../../helpers/system-tools.js";

const MODULE = "/usr/lib/softhsm/libsofthsm2.so";
const LABEL = "golden-manifest-test";
const PIN = "1234";
/** DER OID of secp384r1 (1.3.132.0.34), the CKA_EC_PARAMS of a P-384 key. */
const P384_OID = Buffer.from("06052b81040022", "hex");

const dir = mkdtempSync(join(tmpdir(), "golden-hsm-"));
const lib = new pkcs11js.PKCS11();
let session: Buffer;
let privateKey: Buffer;
let publicJwk: { kty: "EC"; crv: "P-384"; x: string; y: string };

beforeAll(() => {
  requireTool("softhsm2");
  writeFileSync(join(dir, "softhsm2.conf"), `directories.tokendir = ${dir}\nobjectstore.backend = file\n`);
  process.env.SOFTHSM2_CONF = join(dir, "softhsm2.conf");
  const init = spawnSync(
    "softhsm2-util",
    ["--init-token", "--free", "--label", LABEL, "--pin", PIN, "--so-pin", "5678"],
    { encoding: "utf8", env: process.env },
  );
  expect(init.status, init.stderr).toBe(0);
  lib.load(MODULE);
  lib.C_Initialize();
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === LABEL);
  if (slot === undefined) throw new Error("token not found");
  session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  lib.C_Login(session, pkcs11js.CKU_USER, PIN);
  const keys = lib.C_GenerateKeyPair(
    session,
    { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
    [
      { type: pkcs11js.CKA_EC_PARAMS, value: P384_OID },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_TOKEN, value: false },
    ],
    [
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_TOKEN, value: false },
    ],
  );
  privateKey = keys.privateKey;
  // CKA_EC_POINT is a DER OCTET STRING (04 61) around the uncompressed point 04 || X || Y.
  const point = lib.C_GetAttributeValue(session, keys.publicKey, [{ type: pkcs11js.CKA_EC_POINT }])[0]?.value as Buffer;
  const raw = point.subarray(point.length - 97);
  expect(raw[0]).toBe(0x04);
  publicJwk = {
    kty: "EC",
    crv: "P-384",
    x: raw.subarray(1, 49).toString("base64url"),
    y: raw.subarray(49).toString("base64url"),
  };
});

afterAll(() => {
  try {
    lib.C_Logout(session);
    lib.C_CloseSession(session);
    lib.C_Finalize();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A PKCS#11 signer: hash in software, CKM_ECDSA in the token (SoftHSM has no CKM_ECDSA_SHA384). */
function hsmSigner(kid: string): ManifestSigner {
  return {
    alg: "ES384",
    kid,
    async sign(signingInput) {
      lib.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, privateKey);
      return new Uint8Array(lib.C_Sign(session, createHash("sha384").update(signingInput).digest(), Buffer.alloc(96)));
    },
  };
}

describe("ManifestSigner over PKCS#11 (SoftHSM2)", () => {
  it("signs a manifest that verifies with the token key's public half", async () => {
    const jws = await signManifest(devManifest(), hsmSigner("hsm:golden-manifest-test"));
    expect(Buffer.from(jws.split(".")[2] as string, "base64url").length).toBe(96);
    expect(
      await verifySignedManifest(jws, createPublicKey({ key: publicJwk, format: "jwk" }), {
        kid: "hsm:golden-manifest-test",
      }),
    ).toEqual(devManifest());
  });
});
