/** Configuration parsing, PIN sources, and the error-code table (errors.ts, the exported array and the README agree). */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseKeyBrokerConfig, readPin } from "../../runtime/keybroker/config.js";
import { HTTP_STATUS, KEY_BROKER_ERROR_CODES, problemOf, KeyBrokerError } from "../../runtime/keybroker/errors.js";
import { tempDir } from "../helpers/keybroker.js";

const minimal = {
  stateDir: "/tmp/x",
  hsm: { tokenLabel: "t", pinEnv: "KB_PIN" },
  admin: { operatorCaFile: "/ca.pem" },
  manifests: { signerPublicKeyFile: "/k.pem" },
};

describe("configuration", () => {
  it("applies defaults", () => {
    const c = parseKeyBrokerConfig(minimal);
    expect(c.ttl).toEqual({ nonceSeconds: 60, tokenSeconds: 300, sessionKeySeconds: 900, graceSeconds: 300 });
    expect(c.listen).toEqual({ host: "127.0.0.1", port: 8444, adminHost: "127.0.0.1", adminPort: 8445 });
    expect(c.hsm.modulePath).toBe("/usr/lib/softhsm/libsofthsm2.so");
    expect(c.policy.resourceRules).toEqual([{ resource: "runtime/*/*" }]);
  });

  it("reports every problem with its path, unknown keys included", () => {
    try {
      parseKeyBrokerConfig({ ...minimal, hsm: { tokenLabel: "", pin: "1234" }, ttl: { tokenSeconds: 0 }, extra: 1 });
      expect.unreachable();
    } catch (e) {
      expect((e as KeyBrokerError).code).toBe("CONFIG_INVALID");
      expect((e as KeyBrokerError).details.problems?.map((p) => p.path).sort()).toEqual([
        "extra",
        "hsm.pin",
        "hsm.tokenLabel",
        "ttl.tokenSeconds",
      ]);
      expect((e as Error).message).not.toContain("1234");
    }
  });

  it("takes listener TLS files only as a pair", () => {
    expect(() => parseKeyBrokerConfig({ ...minimal, tls: { certFile: "/c.pem" } })).toThrow(
      /tls.keyFile: set tls.certFile and tls.keyFile together/,
    );
    expect(parseKeyBrokerConfig({ ...minimal, tls: { certFile: "/c.pem", keyFile: "/k.pem" } }).tls).toEqual({
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
      certFile: "/c.pem",
      keyFile: "/k.pem",
    });
  });

  it("requires a PIN source and reads it from a file or an environment variable", () => {
    expect(() => parseKeyBrokerConfig({ ...minimal, hsm: { tokenLabel: "t" } })).toThrow(
      /hsm.pinFile: set hsm.pinFile or hsm.pinEnv/,
    );
    const dir = tempDir();
    writeFileSync(join(dir, "pin"), "s3cret-pin\n");
    expect(readPin(parseKeyBrokerConfig({ ...minimal, hsm: { tokenLabel: "t", pinFile: join(dir, "pin") } }))).toBe(
      "s3cret-pin",
    );
    expect(readPin(parseKeyBrokerConfig(minimal), { KB_PIN: "from-env" })).toBe("from-env");
    expect(() => readPin(parseKeyBrokerConfig(minimal), {})).toThrow(
      expect.objectContaining({
        code: "PIN_UNAVAILABLE",
        message: "environment variable KB_PIN (hsm.pinEnv) is not set",
      }),
    );
    expect(() =>
      readPin(parseKeyBrokerConfig({ ...minimal, hsm: { tokenLabel: "t", pinFile: join(dir, "missing") } })),
    ).toThrow(expect.objectContaining({ code: "PIN_UNAVAILABLE" }));
  });
});

describe("error codes", () => {
  it("errors.ts, the exported array, the HTTP map and the README table are the same set", () => {
    const readme = readFileSync(join(__dirname, "../../docs/errors.md"), "utf8");
    const section = readme.split("<!-- keybroker-errors:start -->")[1]?.split("<!-- keybroker-errors:end -->")[0] ?? "";
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])] as const);
    expect(rows.map((r) => r[0])).toEqual([...KEY_BROKER_ERROR_CODES]);
    expect(Object.fromEntries(rows)).toEqual(HTTP_STATUS);
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...KEY_BROKER_ERROR_CODES].sort());
    expect(new Set(KEY_BROKER_ERROR_CODES).size).toBe(KEY_BROKER_ERROR_CODES.length);
  });

  it("turns unknown errors into INTERNAL without their message", () => {
    expect(problemOf(new Error("secret detail"))).toEqual({
      status: 500,
      body: {
        type: "https://confidential-inference.dev/keybroker/errors/INTERNAL",
        detail: "internal error",
        code: "INTERNAL",
      },
    });
    expect(
      problemOf(new KeyBrokerError("ATTESTATION_DENIED", "denied", { details: { driftClass: "pending-release" } }))
        .body,
    ).toMatchObject({ code: "ATTESTATION_DENIED", driftClass: "pending-release" });
  });
});
