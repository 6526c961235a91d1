/** The sandbox's golden manifest: the dev stack's launch shape with the sandbox's model pins, signed. */
import { createHash, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifySignedManifest } from "../../measurements/manifest/verify.js";
import { computeSandboxGolden, signSandboxManifest } from "../../runtime/sandbox/golden.js";
import { DEV_GUEST_ARTIFACTS } from "../../runtime/sandbox/guest.js";

const dev = JSON.parse(readFileSync(join(__dirname, "../../stacks/golden/dev.json"), "utf8"));
const model = { container: Buffer.from("sealed container bytes"), tokenizer: Buffer.from('{"version":"1.0"}\n') };
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("computeSandboxGolden", () => {
  const g = computeSandboxGolden(model);

  it("measures the dev stack's launch shape exactly as the committed manifest (sev-snp-measure vector a02)", () => {
    expect([g.launchShape, g.measurement]).toEqual(["runtime-small", dev.launchShapes["runtime-small"].measurement]);
    expect(g.manifest.launchShapes["runtime-small"]).toEqual(dev.launchShapes["runtime-small"]);
    expect([g.manifest.release, g.manifest.environment, g.manifest.status, g.manifest.createdAt]).toEqual([
      "2026.11.0-dev-sandbox",
      "dev",
      "active",
      dev.createdAt,
    ]);
  });

  it("pins the sandbox's sealed model and tokenizer in place of the dev stack's, and keeps every other artifact", () => {
    const { "classifier-model": m, "classifier-tokenizer": t, ...rest } = g.manifest.artifacts;
    const { "classifier-model": _m, "classifier-tokenizer": _t, ...devRest } = dev.artifacts;
    expect([m?.sha256, m?.size, t?.sha256, t?.size]).toEqual([
      sha(model.container),
      model.container.length,
      sha(model.tokenizer),
      model.tokenizer.length,
    ]);
    expect(rest).toEqual(devRest);
    expect([g.guest.kernel.length, g.guest.initrd.length, sha(g.guest.kernel), sha(g.guest.initrd)]).toEqual([
      DEV_GUEST_ARTIFACTS["kernel-dev"].size,
      DEV_GUEST_ARTIFACTS["initrd-dev"].size,
      dev.artifacts["kernel-dev"].sha256,
      dev.artifacts["initrd-dev"].sha256,
    ]);
  });

  it("the tampered guest (one more kernel argument) has another measurement (regression pin, measurements/snp)", () => {
    expect(g.tamperedCmdline).toBe("console=ttyS0 loglevel=7 init=/bin/sh");
    expect(g.tamperedMeasurement).toBe(
      "57481d8438d4ef0ec6f152ea25c4094646a15556b332a7f243456e7bfb2051d209828b5db6eb7d1c5daea726103e389c",
    );
  });

  it("signs a manifest the key broker's verifier accepts with the pinned public key", async () => {
    const key = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const jws = await signSandboxManifest(g.manifest, key.privateKey);
    expect(await verifySignedManifest(jws, key.publicKey)).toEqual(g.manifest);
  });

  it("a missing stack file is PROVISION_FAILED naming it", () => {
    expect(() => computeSandboxGolden(model, "/nonexistent/Pulumi.dev.yaml")).toThrow(
      expect.objectContaining({
        code: "PROVISION_FAILED",
        message: expect.stringContaining("/nonexistent/Pulumi.dev.yaml"),
      }),
    );
  });
});
