/** Configuration parsing, PIN sources, and the problem bodies of the two listeners. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseKeyBrokerConfig, readPin } from "../../runtime/keybroker/config.js";
import { KeyBrokerError } from "../../runtime/keybroker/errors.js";
import { problemOf } from "../../runtime/keybroker/http/problem.js";
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
      expect((e as KeyBrokerError).problems).toEqual([
        { path: "extra", message: "unknown key" },
        { path: "hsm.pin", message: "unknown key" },
        { path: "hsm.tokenLabel", message: "Too small: expected string to have >=1 characters" },
        { path: "ttl.tokenSeconds", message: "Too small: expected number to be >=1" },
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

describe("problem bodies", () => {
  it("turns unknown errors into INTERNAL without their message", () => {
    expect(problemOf(new Error("secret detail"))).toEqual({
      status: 500,
      body: {
        type: "https://confidential-inference.dev/keybroker/errors/INTERNAL",
        detail: "internal error",
        code: "INTERNAL",
      },
    });
  });

  it("carries the drift class and the field-path problems where they apply", () => {
    expect(problemOf(new KeyBrokerError("ATTESTATION_DENIED", "denied", { driftClass: "pending-release" }))).toEqual({
      status: 403,
      body: {
        type: "https://confidential-inference.dev/keybroker/errors/ATTESTATION_DENIED",
        detail: "denied",
        code: "ATTESTATION_DENIED",
        driftClass: "pending-release",
      },
    });
    const problems = [{ path: "jws", message: "required" }];
    expect(problemOf(new KeyBrokerError("BODY_INVALID", "jws: required", { problems })).body).toEqual({
      type: "https://confidential-inference.dev/keybroker/errors/BODY_INVALID",
      detail: "jws: required",
      code: "BODY_INVALID",
      problems,
    });
  });

  it.each([
    ["FST_ERR_CTP_BODY_TOO_LARGE", 413, "BODY_TOO_LARGE", "request body too large"],
    ["FST_ERR_CTP_INVALID_MEDIA_TYPE", 415, "MEDIA_TYPE_UNSUPPORTED", "unsupported Content-Type"],
    ["FST_ERR_CTP_INVALID_JSON_BODY", 400, "BODY_MALFORMED", "request body is not valid JSON"],
    ["FST_ERR_CTP_EMPTY_JSON_BODY", 400, "BODY_MALFORMED", "request body is not valid JSON"],
    ["FST_ERR_CTP_INVALID_CONTENT_LENGTH", 400, "BODY_MALFORMED", "request body is not valid JSON"],
    ["FST_ERR_SOMETHING_ELSE", 500, "INTERNAL", "internal error"],
  ])("maps Fastify's %s to %i %s", (fastifyCode, status, code, detail) => {
    const err = Object.assign(new Error("fastify's own words"), { code: fastifyCode, statusCode: 400 });
    expect(problemOf(err)).toEqual({
      status,
      body: { type: `https://confidential-inference.dev/keybroker/errors/${code}`, detail, code },
    });
  });
});
