/** `attestctl golden sign` / `verify`: JWS ES384 over a manifest, with PEM and JWK keys. */
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatManifest, keyThumbprint, parseManifest } from "../../measurements/manifest/index.js";
import { spawnCli } from "../helpers/cli.js";
import { goldenWorkspace } from "../helpers/golden-cli.js";

const { dir, file, golden, before } = goldenWorkspace();

describe("golden sign / verify", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  file("signing.pem", privateKey.export({ format: "pem", type: "pkcs8" }) as string);
  file("signing.jwk", JSON.stringify(privateKey.export({ format: "jwk" })));
  file("public.pem", publicKey.export({ format: "pem", type: "spki" }) as string);
  file("public.jwk", JSON.stringify(publicKey.export({ format: "jwk" })));
  file(
    "other.pem",
    generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ format: "pem", type: "spki" }) as string,
  );
  file(
    "p256.pem",
    generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({
      format: "pem",
      type: "pkcs8",
    }) as string,
  );

  it("signs with a PEM key (kid = thumbprint) and verifies with the public PEM", async () => {
    const kid = await keyThumbprint(publicKey);
    const signed = await golden(["sign", "--key", "signing.pem", "--out", "before.jws", "before.json"]);
    expect(signed).toEqual({
      code: 0,
      stdout: "",
      stderr: `signed: release 2026.11.0-dev (dev, active) with kid ${kid}\n`,
    });
    const verified = await golden(["verify", "--key", "public.pem", "before.jws"]);
    expect(verified).toEqual({
      code: 0,
      stdout: formatManifest(before),
      stderr: `verified: release 2026.11.0-dev (dev, active) signed by kid ${kid}\n`,
    });
  });

  it("signs with a JWK and an explicit kid to stdout; verifies with the public JWK and that kid", async () => {
    const signed = await golden(["sign", "--key", "signing.jwk", "--kid", "release-2026", "after.json"]);
    expect(signed.code).toBe(0);
    file("after.jws", signed.stdout);
    expect((await golden(["verify", "--key", "public.jwk", "--kid", "release-2026", "after.jws"])).code).toBe(0);
    const wrongKid = await golden(["verify", "--key", "public.jwk", "--kid", "release-2027", "after.jws"]);
    expect(wrongKid).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'attestctl golden verify: MANIFEST_SIGNATURE_INVALID: verifying signed golden manifest: kid "release-2026" is not the expected "release-2027"\n',
    });
  });

  it.each([
    [
      ["verify", "--key", "other.pem", "before.jws"],
      "attestctl golden verify: MANIFEST_SIGNATURE_INVALID: verifying signed golden manifest: signature check failed (signature verification failed)",
    ],
    [
      ["verify", "--key", "public.pem", "before.json"],
      "attestctl golden verify: MANIFEST_SIGNATURE_INVALID: verifying signed golden manifest: not a compact JWS (three non-empty base64url parts)",
    ],
    [
      ["verify", "--key", "before.json", "before.jws"],
      "attestctl golden verify: cannot use before.json as a public key: <node's reason>",
    ],
    [
      ["sign", "--key", "p256.pem", "before.json"],
      "attestctl golden sign: ES384 needs an EC P-384 key, got ec (prime256v1)",
    ],
    [
      ["sign", "--key", "public.pem", "before.json"],
      "attestctl golden sign: cannot use public.pem as a private key: <node's reason>",
    ],
  ])("refuses %j with exit 1", async (argv, first) => {
    const r = await golden(argv);
    expect(r.code).toBe(1);
    // node's key-decoding messages differ between versions: compare up to them.
    expect(r.stderr.split("\n")[0]?.replace(/(as a (public|private) key:) .*/, "$1 <node's reason>")).toBe(first);
  });

  it("rejects a tampered signed file", async () => {
    const jws = readFileSync(join(dir, "before.jws"), "utf8").trim();
    const [h, p, s] = jws.split(".");
    const payload = Buffer.from(
      Buffer.from(p as string, "base64url")
        .toString()
        .replace("2026.11.0-dev", "2026.11.9-dev"),
    ).toString("base64url");
    file("tampered.jws", `${h}.${payload}.${s}\n`);
    const r = await golden(["verify", "--key", "public.pem", "tampered.jws"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^attestctl golden verify: MANIFEST_SIGNATURE_INVALID: /);
  });

  it("works as a real process (contract)", () => {
    const r = spawnCli(["golden", "verify", "--key", join(dir, "public.pem"), join(dir, "before.jws")]);
    expect(r.code).toBe(0);
    expect(parseManifest(r.stdout)).toEqual(before);
  });
});
