/**
 * The broker as a real process (runtime/keybroker/main.ts) and the guest client built from plain
 * options (what runtime/inference/main.ts passes): boot, release, clean stop; start-up failures
 * exit 1 with a coded first line and never echo the PIN.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { KeyRelease } from "../../runtime/inference/boot.js";
import { keyReleaseFromOptions } from "../../runtime/inference/key-release.js";
import {
  adminRequest,
  brokerFixture,
  releaseKey,
  tempDir,
  goldenManifest,
  measurementOf,
  signedManifest,
} from "../helpers/keybroker.js";
import { startBrokerProcess as startMain } from "../helpers/keybroker-process.js";
import { sharedSimulatedSnp, SIMULATED_SNP_ROOT } from "../helpers/simulated-snp.js";

const M = measurementOf("inference-main");

describe("keybroker main", () => {
  it("starts from a config file, releases to the options-built client, stops cleanly on SIGTERM", async () => {
    await sharedSimulatedSnp("Genoa");
    const dir = tempDir("kb-main-");
    const release = releaseKey();
    writeFileSync(
      join(dir, "r1.jws"),
      `${await signedManifest(goldenManifest({ release: "r1", status: "active", shapes: { "inference-a": M } }), release.privateKey)}\n`,
    );
    writeFileSync(join(dir, "release.pub.pem"), release.publicPem);
    writeFileSync(join(dir, "policy.json"), JSON.stringify({ allowedRoots: ["simulated"] }));
    const f = brokerFixture(
      {
        attestation: { policyFile: join(dir, "policy.json"), simulatedSnpDir: join(SIMULATED_SNP_ROOT, "genoa") },
        manifests: { signerPublicKeyFile: join(dir, "release.pub.pem"), files: [join(dir, "r1.jws")] },
      },
      dir,
    );
    const p = startMain(f);
    const urls = await p.ready;
    const ca = `${f.config.stateDir}/ca.pem`;
    const caPem = readFileSync(ca, "utf8");
    // The manifest came from manifests.files at start (verified with the pinned key, signed status kept).
    expect(
      (await adminRequest(urls.admin, caPem, f.operator, "GET", "/admin/v1/manifests")).body.manifests,
    ).toMatchObject([{ release: "r1", status: "active", verified: true }]);
    expect(
      (
        await adminRequest(
          urls.admin,
          caPem,
          f.operator,
          "POST",
          "/admin/v1/data-keys/default/model/sentiment",
          Buffer.alloc(32, 3),
          "application/octet-stream",
        )
      ).status,
    ).toBe(200);
    const keyRelease: KeyRelease = keyReleaseFromOptions({
      url: urls.kbs,
      caFile: ca,
      evidence: { kind: "simulated-snp", dir: join(SIMULATED_SNP_ROOT, "genoa"), measurement: M },
    });
    const creds = await keyRelease.release({ keyIds: ["default/model/sentiment"] });
    expect(Buffer.from(creds.modelKeys.get("default/model/sentiment") as Uint8Array).equals(Buffer.alloc(32, 3))).toBe(
      true,
    );
    expect(creds.brokerCa).toBe(caPem);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
  });

  it("exits 1 with a coded line when the PIN is wrong, without echoing it", async () => {
    const f = brokerFixture({
      hsm: { tokenLabel: "kb-test", pinEnv: "KB_TEST_PIN", softhsm: { tokenDir: join(tempDir("kb-main-"), "tokens") } },
    });
    // First start initialises the token with the right PIN; the second uses a wrong one.
    const first = startMain(f, { KB_TEST_PIN: "right-pin-123" });
    await first.ready;
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const second = startMain(f, { KB_TEST_PIN: "wrong-pin-456" });
    expect(await second.exited).toBe(1);
    expect(second.stderr().split("\n")[0]).toMatch(
      /^keybroker: HSM_LOGIN_FAILED: logging in to token "kb-test": CKR_PIN_INCORRECT$/,
    );
    expect(second.stderr()).not.toContain("wrong-pin-456");
  });

  it("rejects options with every problem listed", () => {
    expect(() => keyReleaseFromOptions({ url: "nope", evidence: { kind: "tpm" } })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("keyBroker.url") }),
    );
  });
});
