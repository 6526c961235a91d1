/** Key handling shared by signing and verification: ES384 needs EC keys on P-384. */
import { KeyObject, createPublicKey, type JsonWebKey, type webcrypto } from "node:crypto";
import type { JWK } from "jose";
import { jwkFromKey, jwkThumbprint } from "../../core/index.js";

/** A key as callers hold it: a node KeyObject, a WebCrypto CryptoKey (what jose imports return) or a JWK. */
export type ManifestKey = KeyObject | webcrypto.CryptoKey | JWK;

type CryptoKey = webcrypto.CryptoKey;

function isCryptoKey(key: unknown): key is CryptoKey {
  const ctor = (globalThis as { CryptoKey?: new () => unknown }).CryptoKey;
  return typeof ctor === "function" && key instanceof ctor;
}

/** Converts to a KeyObject of the wanted type, checking it is an EC P-384 key. Caller misuse -> TypeError. */
export function toP384KeyObject(key: ManifestKey, type: "public" | "private"): KeyObject {
  let object: KeyObject;
  if (key instanceof KeyObject) object = key;
  else if (isCryptoKey(key)) object = KeyObject.from(key);
  else if (key !== null && typeof key === "object") {
    if (type === "public" && "d" in key) throw new TypeError("verification needs a public key, got a private JWK");
    if (type === "private")
      throw new TypeError(
        'signing needs a KeyObject or CryptoKey (import JWKs with crypto.createPrivateKey({ key, format: "jwk" }))',
      );
    try {
      object = createPublicKey({ key: key as JsonWebKey, format: "jwk" });
    } catch (cause) {
      throw new TypeError("not a usable public JWK", { cause });
    }
  } else throw new TypeError("expected a KeyObject, CryptoKey or JWK");
  if (object.type !== type) throw new TypeError(`expected a ${type} key, got a ${object.type} key`);
  if (object.asymmetricKeyType !== "ec" || object.asymmetricKeyDetails?.namedCurve !== "secp384r1") {
    throw new TypeError(
      `ES384 needs an EC P-384 key, got ${object.asymmetricKeyType ?? "a secret"}${object.asymmetricKeyDetails?.namedCurve === undefined ? "" : ` (${object.asymmetricKeyDetails.namedCurve})`}`,
    );
  }
  return object;
}

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a P-384 key's public part: a stable default
 * `kid` that anyone holding the public key can recompute.
 * @example await keyThumbprint(publicKey) // "q1Xb…" (43 characters)
 */
export async function keyThumbprint(key: ManifestKey): Promise<string> {
  let object: KeyObject;
  if (key instanceof KeyObject && key.type === "private") object = createPublicKey(key);
  else if (isCryptoKey(key) && key.type === "private") object = createPublicKey(KeyObject.from(key));
  else object = toP384KeyObject(key, "public");
  return jwkThumbprint(jwkFromKey(toP384KeyObject(object, "public")));
}
