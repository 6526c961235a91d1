/**
 * Opening a PKCS#11 token: load and initialise the module (CKF_OS_LOCKING_OK), find the token by
 * label (padded to 32 bytes with spaces; slots are renumbered after C_InitToken, so never by slot
 * number), open the management session and the pooled ones, log in as user; and the way back out
 * (log out, finalise, unload). The user PIN is never logged and never part of an error message.
 */
import * as pkcs11js from "pkcs11js";
import { KeyBrokerError } from "../errors.js";
import { ckrName, hsmError, isDeviceLost } from "./pkcs11-errors.js";

/** What to open: the module, the token (by label) and the user PIN. */
export interface Pkcs11OpenOptions {
  /** Path of the PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  readonly modulePath: string;
  /** Token label (unpadded; at most 32 bytes). */
  readonly tokenLabel: string;
  /** User PIN. Never logged, never part of an error message. */
  readonly pin: string;
  /** Sessions for concurrent per-request operations (default 2). */
  readonly sessions?: number;
}

/** Default number of pooled sessions (concurrent HSM operations off the event loop). */
export const DEFAULT_HSM_SESSIONS = 2;

/** Pads a token label to 32 bytes with spaces (pkcs11js pads with NUL; tokens report spaces). */
export function padLabel(label: string): string {
  const bytes = Buffer.byteLength(label, "utf8");
  if (bytes > 32) throw new TypeError(`token label "${label}" is longer than 32 bytes`);
  return label + " ".repeat(32 - bytes);
}

/**
 * Loads the module, initialises it, finds the token by label, opens a read/write session and the
 * pooled ones, and logs in as user; `build` receives them (anything it throws unloads the module
 * too). Fails with HSM_MODULE_LOAD_FAILED, HSM_TOKEN_NOT_FOUND, HSM_LOGIN_FAILED or HSM_UNAVAILABLE.
 */
export function openLoggedIn<T>(
  options: Pkcs11OpenOptions,
  build: (lib: pkcs11js.PKCS11, slot: Buffer, session: Buffer, pooled: readonly Buffer[]) => T,
): T {
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(options.modulePath);
  } catch (e) {
    throw new KeyBrokerError("HSM_MODULE_LOAD_FAILED", `loading PKCS#11 module ${options.modulePath}: ${ckrName(e)}`, {
      cause: e,
    });
  }
  try {
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (e) {
    safeClose(lib, false);
    throw hsmError(`initialising PKCS#11 module ${options.modulePath}`, e, "HSM_MODULE_LOAD_FAILED");
  }
  try {
    const slot = findSlot(lib, options.tokenLabel);
    if (slot === undefined)
      throw new KeyBrokerError(
        "HSM_TOKEN_NOT_FOUND",
        `no token labelled "${options.tokenLabel}" in ${options.modulePath}`,
      );
    let session: Buffer;
    try {
      session = lib.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    } catch (e) {
      throw hsmError(`opening a session on token "${options.tokenLabel}"`, e, "HSM_UNAVAILABLE");
    }
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, options.pin);
    } catch (e) {
      // Already logged in (another session of this process) is fine.
      if (ckrName(e) !== "CKR_USER_ALREADY_LOGGED_IN") {
        throw hsmError(
          `logging in to token "${options.tokenLabel}"`,
          e,
          isDeviceLost(e) ? "HSM_UNAVAILABLE" : "HSM_LOGIN_FAILED",
        );
      }
    }
    const pooled: Buffer[] = [];
    try {
      for (let i = 0; i < (options.sessions ?? DEFAULT_HSM_SESSIONS); i++)
        pooled.push(lib.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION));
    } catch (e) {
      throw hsmError(`opening a session on token "${options.tokenLabel}"`, e, "HSM_UNAVAILABLE");
    }
    return build(lib, slot, session, pooled);
  } catch (e) {
    safeClose(lib, true);
    throw e;
  }
}

/** Logs out and finalises the module (which closes every session of the application); never throws. */
export function logoutAndFinalise(lib: pkcs11js.PKCS11, session: Buffer): void {
  try {
    lib.C_Logout(session);
  } catch {
    // the device may already be gone
  }
  // C_Finalize closes every session of the application.
  safeClose(lib, true);
}

/** Finds the slot whose token carries `label` (spaces-padded comparison). */
export function findSlot(lib: pkcs11js.PKCS11, label: string): Buffer | undefined {
  const padded = padLabel(label);
  for (const slot of lib.C_GetSlotList(true)) {
    try {
      if (lib.C_GetTokenInfo(slot).label === padded) return slot;
    } catch {
      // a slot whose token vanished between the list and the query
    }
  }
  return undefined;
}

function safeClose(lib: pkcs11js.PKCS11, initialised: boolean): void {
  if (initialised) {
    try {
      lib.C_Finalize();
    } catch {
      // already finalised
    }
  }
  try {
    lib.close();
  } catch {
    // not loaded
  }
}
