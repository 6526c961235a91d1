/**
 * SoftHSM2, the embedded default HSM: a private SOFTHSM2_CONF whose token directory is a project
 * folder, and token initialisation on first start. An enterprise HSM never goes through this file:
 * its token is initialised by the operator with the vendor's tools.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as pkcs11js from "pkcs11js";
import { KeyBrokerError } from "../errors.js";
import { findSlot, padLabel } from "./pkcs11-session.js";
import { ckrName, hsmError } from "./pkcs11-errors.js";

/** The usual path of the SoftHSM2 module on Debian and Ubuntu. */
export const SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

/** Where the embedded token lives. */
export interface SoftHsmOptions {
  /** Folder holding the token files (created when missing). */
  readonly tokenDir: string;
  /** Where to write the private softhsm2.conf (default `<tokenDir>/../softhsm2.conf`). */
  readonly confPath?: string;
}

/** Text of a SoftHSM2 configuration pointing at `tokenDir`. */
export function softHsmConf(tokenDir: string): string {
  return [
    `directories.tokendir = ${resolve(tokenDir)}`,
    "objectstore.backend = file",
    "log.level = ERROR",
    "slots.removable = false",
    "",
  ].join("\n");
}

/**
 * Writes the private configuration and points this process at it (SoftHSM2 reads SOFTHSM2_CONF
 * at C_Initialize). Returns the configuration path.
 */
export function useSoftHsm(options: SoftHsmOptions): string {
  const tokenDir = resolve(options.tokenDir);
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const confPath = resolve(options.confPath ?? join(tokenDir, "..", "softhsm2.conf"));
  writeFileSync(confPath, softHsmConf(tokenDir), { mode: 0o600 });
  process.env.SOFTHSM2_CONF = confPath;
  return confPath;
}

/** True when the token folder holds no token yet (first start). */
export function softHsmTokenDirEmpty(tokenDir: string): boolean {
  return !existsSync(tokenDir) || readdirSync(tokenDir).length === 0;
}

/**
 * Initialises a token labelled `label` in the first free slot and sets its user PIN, unless a
 * token with that label exists. The security-officer PIN is random and discarded unless given:
 * the embedded token never needs it again. Returns true when a token was created.
 */
export function ensureSoftHsmToken(modulePath: string, label: string, userPin: string, soPin?: string): boolean {
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(modulePath);
  } catch (e) {
    throw new KeyBrokerError("HSM_MODULE_LOAD_FAILED", `loading PKCS#11 module ${modulePath}: ${ckrName(e)}`, {
      cause: e,
    });
  }
  try {
    lib.C_Initialize();
  } catch (e) {
    lib.close();
    throw hsmError(`initialising PKCS#11 module ${modulePath}`, e, "HSM_MODULE_LOAD_FAILED");
  }
  try {
    if (findSlot(lib, label) !== undefined) return false;
    const free = lib
      .C_GetSlotList(true)
      .find((slot) => (lib.C_GetTokenInfo(slot).flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0);
    if (free === undefined)
      throw new KeyBrokerError("HSM_TOKEN_NOT_FOUND", `no free slot to initialise token "${label}"`);
    const so = soPin ?? randomBytes(24).toString("base64url");
    try {
      lib.C_InitToken(free, so, padLabel(label));
    } catch (e) {
      throw hsmError(`initialising token "${label}"`, e, "HSM_OPERATION_FAILED");
    }
    // SoftHSM2 renumbers slots after C_InitToken: find the token again by label.
    const slot = findSlot(lib, label);
    if (slot === undefined)
      throw new KeyBrokerError("HSM_TOKEN_NOT_FOUND", `token "${label}" not found after initialisation`);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    try {
      lib.C_Login(session, pkcs11js.CKU_SO, so);
      lib.C_InitPIN(session, userPin);
      lib.C_Logout(session);
    } catch (e) {
      throw hsmError(`setting the user PIN of token "${label}"`, e, "HSM_OPERATION_FAILED");
    } finally {
      lib.C_CloseSession(session);
    }
    return true;
  } finally {
    try {
      lib.C_Finalize();
    } catch {
      // already finalised
    }
    lib.close();
  }
}
