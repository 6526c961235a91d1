import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ComponentError } from "../../components/errors.js";
import type { GoldenMeasurementsArgs } from "../../components/measurements/golden-measurements.js";
import { goldenSourceFromStackConfig } from "../../stacks/golden-inputs.js";
import { stackInitData } from "../../stacks/initdata.js";
import { verifySignedManifest } from "../../measurements/manifest/verify.js";
import { parseStackConfig } from "../../stacks/config-parse.js";
import { readStackFile } from "../../stacks/stack-file.js";
import { registrations, settle, setupMocks, value } from "../helpers/components.js";
import { snpLaunchDigest } from "../../measurements/manifest/snp-digest.js";

const T = "confidential-inference:index:GoldenMeasurements";
const ROOT = join(__dirname, "../..");
const { raw, secretKeys } = readStackFile(join(ROOT, "stacks/Pulumi.prod.yaml"));
const { config } = parseStackConfig(raw, secretKeys);
const ovmf = readFileSync(join(ROOT, "guest/firmware/OVMF.amdsev.fd"));
const pair = generateKeyPairSync("ec", { namedCurve: "P-384" });
const publicKey = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const args: GoldenMeasurementsArgs = {
  release: goldenSourceFromStackConfig(config).inputs,
  images: new Map([["ovmf-amdsev", ovmf]]),
  measure: snpLaunchDigest,
  releasedAt: "2026-11-09T00:00:00Z",
  signing: { publicKey, privateKey: pulumi.secret(privateKey) },
  attestation: config.attestation,
};

let mod: typeof import("../../components/measurements/golden-measurements.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks
let golden: InstanceType<typeof mod.GoldenMeasurements>;

beforeAll(async () => {
  await setupMocks();
  mod = await import("../../components/measurements/golden-measurements.js");
  golden = new mod.GoldenMeasurements("golden", args);
  await settle();
});

function expectedMeasurement(shape: (typeof config.launchShapes)[number]): string {
  const pin = (name: string | undefined) => (name === undefined ? undefined : config.artifacts[name]?.sha256);
  return snpLaunchDigest({
    shape: {
      name: shape.name,
      firmware: shape.firmware,
      vcpus: shape.vcpus,
      vcpuType: shape.vcpuType,
      guestFeatures: shape.guestFeatures,
      policy: 0n,
      ...(shape.cmdline === undefined ? {} : { cmdline: shape.cmdline }),
    },
    firmware: ovmf,
    ...(pin(shape.kernel) === undefined ? {} : { kernelSha256: pin(shape.kernel) }),
    ...(pin(shape.initrd) === undefined ? {} : { initrdSha256: pin(shape.initrd) }),
  }).measurement;
}

describe("GoldenMeasurements", () => {
  it("is a component with no child resources (pure computation)", () => {
    expect(registrations.map((r) => r.type)).toEqual([T]);
  });

  it("builds the prod manifest with every launch shape's measurement from measurements/snp", async () => {
    const manifest = await value(golden.goldenMeasurements);
    expect(manifest.release).toBe("2026.11.0");
    expect(manifest.environment).toBe("prod");
    expect(manifest.status).toBe("active");
    expect(manifest.createdAt).toBe("2026-11-09T00:00:00Z");
    expect(Object.keys(manifest.launchShapes)).toEqual(["runtime-prod", "runtime-prod-turin", "kata-pod"]);
    // the confidential pods' Kata guest binds their initdata (image, command, agent policy) as HOST_DATA
    expect(manifest.launchShapes["kata-pod"]?.hostData).toBe(stackInitData(config)?.hostData);
    expect(manifest.launchShapes["runtime-prod"]?.hostData).toBeUndefined();
    for (const shape of config.launchShapes)
      expect(manifest.launchShapes[shape.name]?.measurement).toBe(expectedMeasurement(shape));
    expect(manifest.launchShapes["runtime-prod"]?.inputs.policy).toBe("0x30137");
    expect(manifest.tcbFloors).toEqual(config.attestation.tcbFloors);
  });

  it("signs it (JWS ES384) with the release key, verifiable with the pinned public key, and exports no secret", async () => {
    const jws = await value(golden.goldenManifest);
    expect(await verifySignedManifest(jws, pair.publicKey)).toEqual(await value(golden.goldenMeasurements));
    expect(await pulumi.isSecret(golden.goldenManifest)).toBe(false);
    const exported = JSON.stringify([jws, await value(golden.goldenMeasurements), await value(golden.verifierPolicy)]);
    expect(exported).not.toContain(privateKey.split("\n")[1]);
  });

  it("derives the verifier policy from the manifest and the attestation settings", async () => {
    const manifest = await value(golden.goldenMeasurements);
    expect(await value(golden.verifierPolicy)).toEqual({
      schemaVersion: 1,
      release: "2026.11.0",
      environment: "prod",
      allowedRoots: ["amd-genoa", "amd-turin"],
      measurements: [
        manifest.launchShapes["kata-pod"]?.measurement,
        manifest.launchShapes["runtime-prod"]?.measurement,
        manifest.launchShapes["runtime-prod-turin"]?.measurement,
      ].sort(),
      tcbFloors: {
        Genoa: { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
        Turin: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
      },
      allowedPolicyBits: "0x30000",
      allowDebug: false,
      allowMigrationAgent: false,
      requireSmtDisabled: false,
      maxVmpl: 0,
      minGuestSvn: 1,
      collateral: "kds",
      failOpenOnCollateral: false,
      manifestSigningKey: publicKey,
    });
  });

  it("refuses to sign with a key that is not the pinned one", async () => {
    const other = generateKeyPairSync("ec", { namedCurve: "P-384" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const manifest = await value(golden.goldenMeasurements);
    await expect(mod.signGoldenManifest(manifest, other, publicKey)).rejects.toThrow(
      new ComponentError(
        "SIGNING_KEY_MISMATCH",
        "golden manifest: the release signing key does not match golden.publicKey",
      ),
    );
    await expect(mod.signGoldenManifest(manifest, "not a key", publicKey)).rejects.toMatchObject({
      code: "SIGNING_KEY_MISMATCH",
    });
  });

  it.each([
    [
      "a release time without seconds",
      { releasedAt: "2026-11-09" },
      "releasedAt",
      "must be an ISO 8601 UTC time with seconds (2026-11-09T00:00:00Z)",
    ],
    [
      "firmware bytes that do not match the pin",
      { images: new Map([["ovmf-amdsev", ovmf.subarray(0, 4096)]]) },
      "release.artifacts.ovmf-amdsev.size",
      "pinned 4194304 bytes, the file has 4096",
    ],
    [
      "a firmware without bytes",
      { images: new Map() },
      "release.launchShapes.runtime-prod.firmware",
      'artifact "ovmf-amdsev" needs a path: the launch digest hashes every firmware page',
    ],
  ])("rejects %s with the property path", async (_n, patch, path, reason) => {
    let error: unknown;
    try {
      new mod.GoldenMeasurements(`bad-${path}`, { ...args, ...patch } as GoldenMeasurementsArgs);
    } catch (e) {
      error = e;
    }
    const first = pulumi.InputPropertyError.isInstance(error)
      ? error
      : (error as pulumi.InputPropertiesError).errors[0];
    expect(first).toMatchObject({ propertyPath: path, reason });
  });
});
