/**
 * A small typed wrapper over pkcs11js: one module, one token found by label, one logged-in
 * read/write session for management calls (find, generate, destroy, probe), and a pool of further
 * sessions for the per-request operations (ECDSA, HMAC, GCM unwrap), which run on the libuv thread
 * pool through pkcs11js's asynchronous calls: an HSM signature (about 1 ms on SoftHSM2, several on
 * a network HSM) then never blocks the event loop, and two can run at once. The module is
 * initialised with CKF_OS_LOCKING_OK, so the library serialises what it must itself. Every key is
 * created inside the token (never imported) and referenced by label.
 *
 * Opening and closing are pkcs11-session.ts, object templates and attribute decoding pkcs11-objects.ts.
 * Quirks handled here and there (../shared/reference/environment-notes.md "PKCS#11 with SoftHSM2"):
 * labels are padded to 32 bytes with spaces, the token is found again by label after
 * C_InitToken (slots are renumbered), there is no CKM_ECDSA_SHA384 (hash with SHA-384, then sign
 * with CKM_ECDSA, giving raw r||s), and GCM tag failures surface as CKR_GENERAL_ERROR.
 */
import { createHash } from "node:crypto";
import * as pkcs11js from "pkcs11js";
import { KeyBrokerError } from "../errors.js";
import { ckrName, hsmError } from "./pkcs11-errors.js";
import {
  aesKeyTemplate,
  ecKeyPairTemplates,
  ecPointFromAttribute,
  findTemplate,
  hmacKeyTemplate,
  isTrue,
  type KeyKind,
} from "./pkcs11-objects.js";
import { logoutAndFinalise, openLoggedIn, padLabel, type Pkcs11OpenOptions } from "./pkcs11-session.js";
import { SessionPool } from "./session-pool.js";

/** An open, logged-in session on one token. Close it with `close()`. */
export class Pkcs11Token {
  private readonly pool: SessionPool;
  private finalised = false;

  private constructor(
    private readonly lib: pkcs11js.PKCS11,
    readonly slot: Buffer,
    private readonly session: Buffer,
    pooled: readonly Buffer[],
    readonly tokenLabel: string,
  ) {
    this.pool = new SessionPool(pooled, () => this.finalise());
  }

  /** True once closed and finalised (no operation of this token is still running). */
  get closed(): boolean {
    return this.finalised;
  }

  /**
   * Loads the module, initialises it, finds the token by label, opens a read/write session and
   * logs in as user. Fails with HSM_MODULE_LOAD_FAILED, HSM_TOKEN_NOT_FOUND or HSM_LOGIN_FAILED.
   */
  static open(options: Pkcs11OpenOptions): Pkcs11Token {
    return openLoggedIn(options, (lib, slot, session, pooled) => {
      return new Pkcs11Token(lib, slot, session, pooled, options.tokenLabel);
    });
  }

  /**
   * Logs out, closes the sessions and finalises the module; never throws. Operations still running
   * on the thread pool finish first (the finalisation happens when the last one returns).
   */
  close(): void {
    this.pool.close();
  }

  private finalise(): void {
    logoutAndFinalise(this.lib, this.session);
    this.finalised = true;
  }

  /** Mechanisms the token supports. */
  mechanisms(): number[] {
    return this.call("listing mechanisms", () => this.lib.C_GetMechanismList(this.slot));
  }

  /** Cheap liveness probe: the token is still present and the session still valid. */
  probe(): void {
    this.call("probing the token", () => {
      this.lib.C_GetSessionInfo(this.session);
      const info = this.lib.C_GetTokenInfo(this.slot);
      if (info.label !== padLabel(this.tokenLabel)) throw new KeyBrokerError("HSM_UNAVAILABLE", "token label changed");
    });
  }

  /** Handles of objects of `kind` with exactly this label. */
  find(kind: KeyKind, label: string): Buffer[] {
    return this.call(`finding ${kind} key "${label}"`, () => {
      this.lib.C_FindObjectsInit(this.session, findTemplate(kind, label));
      try {
        return this.lib.C_FindObjects(this.session, 16);
      } finally {
        this.lib.C_FindObjectsFinal(this.session);
      }
    });
  }

  /** Creates a token AES-256 key: sensitive, never extractable, for encrypt/decrypt and wrap/unwrap. */
  generateAesKey(label: string): Buffer {
    return this.call(`generating AES-256 key "${label}"`, () =>
      this.lib.C_GenerateKey(this.session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, aesKeyTemplate(label)),
    );
  }

  /** Creates a token generic secret (48 bytes) for HMAC-SHA384 key derivation: sensitive, never extractable. */
  generateHmacKey(label: string): Buffer {
    return this.call(`generating HMAC key "${label}"`, () =>
      this.lib.C_GenerateKey(this.session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, hmacKeyTemplate(label)),
    );
  }

  /** Creates a token EC P-384 key pair for signing; the private half is sensitive and never extractable. */
  generateEcKeyPair(label: string): { privateKey: Buffer; publicKey: Buffer } {
    const t = ecKeyPairTemplates(label);
    return this.call(`generating EC P-384 key pair "${label}"`, () =>
      this.lib.C_GenerateKeyPair(this.session, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, t.publicKey, t.privateKey),
    );
  }

  /** The uncompressed EC point (04 || X || Y, 97 bytes) of an EC public key object. */
  ecPoint(publicKey: Buffer): Buffer {
    const raw = this.call("reading CKA_EC_POINT", () =>
      this.lib.C_GetAttributeValue(this.session, publicKey, [{ type: pkcs11js.CKA_EC_POINT }]),
    )[0]?.value;
    return ecPointFromAttribute(raw);
  }

  /** Boolean attributes of a key, for checks such as "the KEK is sensitive and not extractable". */
  flags(key: Buffer): { sensitive: boolean; extractable: boolean; token: boolean } {
    const attrs = this.call("reading key attributes", () =>
      this.lib.C_GetAttributeValue(this.session, key, [
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_TOKEN },
      ]),
    );
    const bool = (i: number): boolean => isTrue(attrs[i]?.value);
    return { sensitive: bool(0), extractable: bool(1), token: bool(2) };
  }

  /**
   * Whether a key was generated inside the token and its value never left it: CKA_LOCAL,
   * CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE (an imported key, even sensitive, is not local).
   */
  generatedInside(key: Buffer): boolean {
    const attrs = this.call("reading key provenance", () =>
      this.lib.C_GetAttributeValue(this.session, key, [
        { type: pkcs11js.CKA_LOCAL },
        { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
        { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
      ]),
    );
    return attrs.every((a) => isTrue(a.value));
  }

  /** ECDSA P-384 over SHA-384(data): hashes here, signs with CKM_ECDSA; returns raw r||s (96 bytes). */
  signEs384(privateKey: Buffer, data: Uint8Array): Buffer {
    const digest = createHash("sha384").update(data).digest();
    return this.call("signing with CKM_ECDSA", () => {
      this.lib.C_SignInit(this.session, { mechanism: pkcs11js.CKM_ECDSA }, privateKey);
      return Buffer.from(this.lib.C_Sign(this.session, digest, Buffer.alloc(96)));
    });
  }

  /** signEs384 on a pooled session, off the event loop. */
  signEs384Async(privateKey: Buffer, data: Uint8Array): Promise<Buffer> {
    const digest = createHash("sha384").update(data).digest();
    return this.pooled("signing with CKM_ECDSA", async (s) => {
      this.lib.C_SignInit(s, { mechanism: pkcs11js.CKM_ECDSA }, privateKey);
      return Buffer.from(await this.lib.C_SignAsync(s, digest, Buffer.alloc(96)));
    });
  }

  /** hmacSha384 on a pooled session, off the event loop. */
  hmacSha384Async(key: Buffer, data: Uint8Array): Promise<Buffer> {
    return this.pooled("computing CKM_SHA384_HMAC", async (s) => {
      this.lib.C_SignInit(s, { mechanism: pkcs11js.CKM_SHA384_HMAC }, key);
      return Buffer.from(await this.lib.C_SignAsync(s, Buffer.from(data), Buffer.alloc(48)));
    });
  }

  /** gcmDecrypt on a pooled session, off the event loop (same error mapping). */
  async gcmDecryptAsync(key: Buffer, iv: Buffer, aad: Buffer, ciphertext: Buffer): Promise<Buffer> {
    try {
      return await this.pool.run(async (s) => {
        this.lib.C_DecryptInit(s, gcmMechanism(iv, aad), key);
        return Buffer.from(await this.lib.C_DecryptAsync(s, ciphertext, Buffer.alloc(ciphertext.length)));
      });
    } catch (e) {
      throw this.gcmFailure(e);
    }
  }

  /** HMAC-SHA384 of `data` under a generic-secret key (48 bytes). */
  hmacSha384(key: Buffer, data: Uint8Array): Buffer {
    return this.call("computing CKM_SHA384_HMAC", () => {
      this.lib.C_SignInit(this.session, { mechanism: pkcs11js.CKM_SHA384_HMAC }, key);
      return Buffer.from(this.lib.C_Sign(this.session, Buffer.from(data), Buffer.alloc(48)));
    });
  }

  /** AES-256-GCM encryption under a token key; returns ciphertext || 16-byte tag. */
  gcmEncrypt(key: Buffer, iv: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
    return this.call("encrypting with CKM_AES_GCM", () => {
      this.lib.C_EncryptInit(this.session, gcmMechanism(iv, aad), key);
      return Buffer.from(this.lib.C_Encrypt(this.session, plaintext, Buffer.alloc(plaintext.length + 16)));
    });
  }

  /**
   * AES-256-GCM decryption under a token key. A tag failure surfaces as CKR_GENERAL_ERROR on
   * SoftHSM2, which is also what a lost device reports: the token is probed to tell them apart,
   * giving WRAPPED_KEY_CORRUPT (tag) or HSM_UNAVAILABLE (device).
   */
  gcmDecrypt(key: Buffer, iv: Buffer, aad: Buffer, ciphertext: Buffer): Buffer {
    try {
      this.lib.C_DecryptInit(this.session, gcmMechanism(iv, aad), key);
      return Buffer.from(this.lib.C_Decrypt(this.session, ciphertext, Buffer.alloc(ciphertext.length)));
    } catch (e) {
      throw this.gcmFailure(e);
    }
  }

  private gcmFailure(e: unknown): KeyBrokerError {
    if (e instanceof KeyBrokerError) return e;
    const name = ckrName(e);
    if (name === "CKR_ENCRYPTED_DATA_INVALID" || name === "CKR_ENCRYPTED_DATA_LEN_RANGE") {
      return new KeyBrokerError("WRAPPED_KEY_CORRUPT", `decrypting with CKM_AES_GCM: ${name}`, { cause: e });
    }
    if (name === "CKR_GENERAL_ERROR" || name === "CKR_FUNCTION_FAILED") {
      this.probe(); // throws HSM_UNAVAILABLE when the device is gone
      return new KeyBrokerError(
        "WRAPPED_KEY_CORRUPT",
        `decrypting with CKM_AES_GCM: authentication tag mismatch (${name})`,
        { cause: e },
      );
    }
    return hsmError("decrypting with CKM_AES_GCM", e);
  }

  /** `n` random bytes from the token's generator. */
  random(n: number): Buffer {
    return this.call("generating random bytes", () =>
      Buffer.from(this.lib.C_GenerateRandom(this.session, Buffer.alloc(n))),
    );
  }

  /** Destroys an object (used only for objects of an interrupted, never-activated rotation). */
  destroy(handle: Buffer): void {
    this.call("destroying an object", () => this.lib.C_DestroyObject(this.session, handle));
  }

  private async pooled<T>(doing: string, fn: (session: Buffer) => Promise<T>): Promise<T> {
    try {
      return await this.pool.run(fn);
    } catch (e) {
      if (e instanceof KeyBrokerError) throw e;
      throw hsmError(doing, e);
    }
  }

  private call<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof KeyBrokerError) throw e;
      throw hsmError(doing, e);
    }
  }
}

function gcmMechanism(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  return {
    mechanism: pkcs11js.CKM_AES_GCM,
    parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad, tagBits: 128 } as pkcs11js.IParams,
  };
}
