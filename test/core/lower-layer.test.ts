/**
 * The lower layer (`core/`) stands alone: it imports nothing outside itself, refuses untrusted bytes
 * with its own coded error (CoreError) that callers translate to their public codes, and writes files
 * crash-safely.
 */
import { generateKeyPairSync } from "node:crypto";
import { constants, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CORE_ERROR_CODES,
  CoreError,
  DURABLE_APPEND_FLAGS,
  isCoreError,
  jwkFromKey,
  openDurableAppend,
  parseCertificates,
  pointFromJwk,
  pointFromKey,
  readOne,
  writeFileAtomic,
} from "../../core/index.js";
import { AttestationError, readCertificates } from "../../runtime/attestation/index.js";
import { KeyBrokerError } from "../../runtime/keybroker/index.js";
import { teeKeyCheck } from "../../runtime/keybroker/keys/tee-key.js";

const CORE = resolve(__dirname, "../../core");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
};

describe("core/ imports nothing outside core/", () => {
  it.each(sources(CORE).map((p) => [p.slice(CORE.length + 1), p]))("%s", (_name, file) => {
    const specifiers = [...readFileSync(file, "utf8").matchAll(/(?:from|import)\s+"([^"]+)"/g)].map((m) => m[1]!);
    const outside = specifiers.filter((s) =>
      s.startsWith(".") ? !resolve(dirname(file), s).startsWith(`${CORE}/`) : !s.startsWith("node:"),
    );
    expect(outside).toEqual([]);
  });
});

describe("CoreError codes and their translation by the callers", () => {
  it("lists its codes", () => {
    expect([...CORE_ERROR_CODES]).toEqual(["DER_MALFORMED", "CERTIFICATE_MALFORMED", "JWK_INVALID"]);
  });

  it("DER reader: DER_MALFORMED; X.509 parser: CERTIFICATE_MALFORMED with the DER error as cause", () => {
    expect(caught(() => readOne(Buffer.from("3080", "hex")))).toMatchObject({
      name: "CoreError",
      code: "DER_MALFORMED",
      message: "DER: indefinite length at 0",
    });
    const e = caught(() => parseCertificates(Buffer.from("3003020100ff", "hex")));
    expect(e).toBeInstanceOf(CoreError);
    expect(e).toMatchObject({ code: "CERTIFICATE_MALFORMED", message: "DER: 1 trailing bytes" });
    expect(isCoreError((e as CoreError).cause, "DER_MALFORMED")).toBe(true);
  });

  it("the verifier re-raises both as its own CERTIFICATE_MALFORMED (same message, core error as cause)", () => {
    for (const input of [
      Buffer.from("3003020100ff", "hex"),
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ]) {
      const e = caught(() => readCertificates(input));
      expect(e).toBeInstanceOf(AttestationError);
      expect((e as AttestationError).code).toBe("CERTIFICATE_MALFORMED");
      expect(isCoreError((e as AttestationError).cause, "CERTIFICATE_MALFORMED")).toBe(true);
    }
    expect(caught(() => readCertificates("not PEM, not DER"))).toMatchObject({
      name: "AttestationError",
      code: "CERTIFICATE_MALFORMED",
    });
  });

  it("EC/JWK: JWK_INVALID with every problem; the key broker re-raises it as TEE_KEY_INVALID", () => {
    const bad = { kty: "EC", crv: "P-256", x: "a", y: "b".repeat(64), d: "secret" };
    const problems = [
      { path: "k.crv", message: 'must be "P-384"' },
      { path: "k.x", message: "must be 48 bytes, base64url without padding" },
      { path: "k.d", message: "a private key must never be sent" },
    ];
    const e = caught(() => pointFromJwk(bad, "k"));
    expect(e).toBeInstanceOf(CoreError);
    expect(e).toMatchObject({ code: "JWK_INVALID", problems });
    expect(String((e as Error).message)).not.toContain("secret");
    const translated = caught(() => teeKeyCheck(() => pointFromJwk(bad, "k")));
    expect(translated).toBeInstanceOf(KeyBrokerError);
    expect(translated).toMatchObject({ code: "TEE_KEY_INVALID", problems, cause: e });
  });

  it("EC/JWK: the point and JWK of a KeyObject (private keys give their public part); other curves are caller misuse", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const jwk = publicKey.export({ format: "jwk" });
    expect(jwkFromKey(privateKey)).toEqual({ kty: "EC", crv: "P-384", x: jwk.x, y: jwk.y });
    expect(pointFromKey(privateKey).equals(pointFromJwk(jwk, "k"))).toBe(true);
    const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    expect(() => pointFromKey(p256)).toThrow(new TypeError("jwkFromKey: expected a P-384 key, got EC P-256"));
  });
});

describe("durable files", () => {
  const dir = () => mkdtempSync(join(tmpdir(), "core-durable-"));

  it("writeFileAtomic replaces the content whole, with the given mode, and leaves no temporary file", () => {
    const d = dir();
    const path = join(d, "sub", "state.json");
    writeFileAtomic(path, "first\n");
    expect([readFileSync(path, "utf8"), statSync(path).mode & 0o777, statSync(dirname(path)).mode & 0o777]).toEqual([
      "first\n",
      0o600,
      0o700,
    ]);
    writeFileSync(join(d, "sub", "other"), "x");
    writeFileAtomic(path, Buffer.from([0, 1, 2, 255]), 0o644);
    expect([readFileSync(path).toString("hex"), statSync(path).mode & 0o777]).toEqual(["000102ff", 0o644]);
    expect(readdirSync(join(d, "sub")).sort()).toEqual(["other", "state.json"]);
  });

  it("openDurableAppend opens O_APPEND | O_DSYNC (mode 0600) and appends every byte", async () => {
    const path = join(dir(), "log", "audit.log");
    const file = await openDurableAppend(path);
    const fdinfo = readFileSync(`/proc/self/fdinfo/${file.fd}`, "utf8");
    const flags = Number.parseInt(/flags:\s+([0-7]+)/.exec(fdinfo)?.[1] ?? "0", 8);
    expect([flags & constants.O_APPEND, flags & constants.O_DSYNC]).toEqual([constants.O_APPEND, constants.O_DSYNC]);
    expect(DURABLE_APPEND_FLAGS & (constants.O_APPEND | constants.O_DSYNC)).toBe(
      constants.O_APPEND | constants.O_DSYNC,
    );
    await file.append(Buffer.from("a\n"));
    await file.append(Buffer.alloc(100_000, 0x62));
    await file.close();
    const text = readFileSync(path, "utf8");
    expect([text.length, text.slice(0, 3), statSync(path).mode & 0o777]).toEqual([100_002, "a\nb", 0o600]);
  });
});
