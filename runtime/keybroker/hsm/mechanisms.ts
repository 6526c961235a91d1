/**
 * Mechanisms the broker needs. All are common to enterprise HSMs (PKCS#11 2.40 baseline): no
 * vendor extensions, no CKM_ECDSA_SHA384 (the broker hashes and signs with plain CKM_ECDSA).
 */
import * as pkcs11js from "pkcs11js";
import { KeyBrokerError } from "../errors.js";
import { ckmName } from "./pkcs11-errors.js";

/** Each required mechanism and what the broker uses it for (shown in errors and the README). */
export const REQUIRED_MECHANISMS: readonly { readonly mechanism: number; readonly use: string }[] = [
  { mechanism: pkcs11js.CKM_AES_KEY_GEN, use: "create the AES-256 key-encryption key" },
  { mechanism: pkcs11js.CKM_AES_GCM, use: "wrap and unwrap model data keys under the KEK" },
  { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN, use: "create the P-384 token-signing and CA keys" },
  { mechanism: pkcs11js.CKM_ECDSA, use: "sign attestation tokens and certificates (SHA-384 hashed by the broker)" },
  { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN, use: "create the session-key derivation secret" },
  { mechanism: pkcs11js.CKM_SHA384_HMAC, use: "derive session keys per (release, chip id, epoch)" },
];

/**
 * Checks that every required mechanism is in `available`; throws HSM_MECHANISM_MISSING naming
 * each missing one and its use.
 */
export function checkMechanisms(available: readonly number[]): void {
  const have = new Set(available);
  const missing = REQUIRED_MECHANISMS.filter((m) => !have.has(m.mechanism));
  if (missing.length === 0) return;
  const list = missing.map((m) => `${ckmName(m.mechanism)} (${m.use})`).join(", ");
  throw new KeyBrokerError("HSM_MECHANISM_MISSING", `the HSM token lacks required mechanisms: ${list}`, {
    problems: missing.map((m) => ({
      path: `hsm.mechanisms.${ckmName(m.mechanism)}`,
      message: `missing; needed to ${m.use}`,
    })),
  });
}
