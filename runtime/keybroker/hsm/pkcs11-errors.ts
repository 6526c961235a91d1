/**
 * Names and meanings of PKCS#11 results: CKR_/CKM_ names for messages (codes only, never data),
 * which results mean the device, token or session is gone (the broker then fails closed and
 * reconnects), and the KeyBrokerError a failure becomes.
 */
import * as pkcs11js from "pkcs11js";
import { KeyBrokerError, type KeyBrokerErrorCode } from "../errors.js";

/** Result codes that mean the device, token or session is gone (the broker then reconnects). */
const LOST_CODES = new Set<string>([
  "CKR_DEVICE_ERROR",
  "CKR_DEVICE_MEMORY",
  "CKR_DEVICE_REMOVED",
  "CKR_TOKEN_NOT_PRESENT",
  "CKR_TOKEN_NOT_RECOGNIZED",
  "CKR_SESSION_CLOSED",
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_OBJECT_HANDLE_INVALID",
  "CKR_KEY_HANDLE_INVALID",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_CRYPTOKI_NOT_INITIALIZED",
  "CKR_GENERAL_ERROR",
  "CKR_FUNCTION_FAILED",
]);

// Enumerate the CommonJS exports object itself: some ESM interop layers (vitest) expose a
// namespace whose enumeration omits the constants the native addon defines.
const EXPORTS = ((pkcs11js as unknown as { default?: object }).default ?? pkcs11js) as Record<string, unknown>;

const CKR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(EXPORTS)
    .filter(([k, v]) => k.startsWith("CKR_") && typeof v === "number")
    .map(([k, v]) => [v as number, k]),
);

const CKM_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(EXPORTS)
    .filter(([k, v]) => k.startsWith("CKM_") && typeof v === "number")
    .map(([k, v]) => [v as number, k]),
);

/** Name of a CKR_ result value, e.g. `CKR_GENERAL_ERROR`. */
export function ckrName(e: unknown): string {
  if (e instanceof pkcs11js.Pkcs11Error) return CKR_NAMES.get(e.code) ?? `CKR_0x${e.code.toString(16)}`;
  return e instanceof Error ? e.name : "unknown";
}

/** Name of a mechanism, e.g. `CKM_AES_GCM`. */
export function ckmName(mechanism: number): string {
  return CKM_NAMES.get(mechanism) ?? `CKM_0x${mechanism.toString(16)}`;
}

/** True when a PKCS#11 failure means the HSM (device, token or session) is unavailable. */
export function isDeviceLost(e: unknown): boolean {
  if (e instanceof pkcs11js.Pkcs11Error) return LOST_CODES.has(ckrName(e));
  // NativeError (library unloaded, dlopen failure) also means the device path is broken.
  return e instanceof Error && e.name === "NativeError";
}

/** Wraps a PKCS#11 failure in a KeyBrokerError whose message names the operation and the CKR code only. */
export function hsmError(doing: string, e: unknown, code?: KeyBrokerErrorCode): KeyBrokerError {
  const chosen: KeyBrokerErrorCode = code ?? (isDeviceLost(e) ? "HSM_UNAVAILABLE" : "HSM_OPERATION_FAILED");
  return new KeyBrokerError(chosen, `${doing}: ${ckrName(e)}`, { cause: e });
}
