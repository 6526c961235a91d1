/**
 * SevSnpHost under mocks. The mocks run each remote command's real command line locally (without
 * `sudo -n`) against the Genoa fixture tree, stub binaries and a file:// KDS, so the quoting of the
 * scripts and environment is exercised end to end, and the outputs come from the real scripts.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SevSnpHostArgs } from "../../components/host/sev-snp-host.js";
import {
  children,
  plainInputs,
  reg,
  secretInputs,
  expectRejectedBeforeChildren,
  settle,
  setupMocks,
  value,
} from "../helpers/components.js";

const T = "confidential-inference:index:SevSnpHost";
const CMD = "command:remote:Command";
const ROOT = join(__dirname, "../..");
const FIX = join(__dirname, "host/fixtures");
const BIN = join(FIX, "bin");
const GENOA_CHIP = Buffer.from(Array.from({ length: 64 }, (_, i) => 100 + i)).toString("hex");
const work = mkdtempSync(join(tmpdir(), "ci-host-"));
const stateDir = join(work, "state");
const kds = join(work, "kds");
afterAll(() => rmSync(work, { recursive: true, force: true }));

mkdirSync(join(kds, "vcek/v1/Genoa"), { recursive: true });
const vcekDer = readFileSync(join(ROOT, "test/vectors/attestation/snp/certs/vcek-genoa-azure.der"));
writeFileSync(join(kds, "vcek/v1/Genoa", GENOA_CHIP), vcekDer);
writeFileSync(
  join(kds, "vcek/v1/Genoa/cert_chain"),
  readFileSync(join(ROOT, "test/vectors/attestation/snp/amd-roots/cert_chain-vcek-genoa.pem")),
);

/** Runs a remote command line here, as the host would (sudo dropped), in the Genoa fixture. */
function runRemote(commandLine: string): string {
  const r = spawnSync("sh", ["-c", commandLine.replace(/^sudo -n /, "")], {
    encoding: "utf8",
    env: {
      PATH: `${BIN}:/usr/bin:/bin`,
      PROC_ROOT: join(FIX, "genoa/proc"),
      SYSFS_ROOT: join(FIX, "genoa/sys"),
      SNPHOST_FIXTURE: join(FIX, "genoa/snphost"),
      FAKE_QEMU_VERSION: "9.2.0",
    },
  });
  if (r.status !== 0) throw new Error(`remote command failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const ovmf = {
  name: "ovmf-amdsev",
  sha256: "3e4fd0b3fe3b2dbe481c3d9e99418a034174f26cbe1f55aa212b0f18c12d2d6f",
  size: 4194304,
  source: "debian:ovmf-amdsev=2026.08+ds-2",
  localPath: join(ROOT, "guest/firmware/OVMF.amdsev.fd"),
};
const args: SevSnpHostArgs = {
  ssh: {
    host: "10.40.1.11",
    user: "ci-deploy",
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nTEST\n-----END OPENSSH PRIVATE KEY-----\n",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDinp1SqIcbbGZlejWw4z",
  },
  product: "Genoa",
  qemu: { packageManager: "none", packages: ["qemu-system-x86"], minVersion: "9.1.0" },
  firmware: [ovmf],
  stateDir,
  kdsBaseUrl: `file://${kds}`,
  minFirmware: "1.55",
  tcbFloor: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
  refreshTriggers: ["2026.11.0"],
};

let mod: typeof import("../../components/host/sev-snp-host.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks
let host: InstanceType<typeof mod.SevSnpHost>;

beforeAll(async () => {
  await setupMocks((type, name, inputs) => {
    if (type !== CMD) return undefined;
    if (name.endsWith("-preflight") || name.endsWith("-qemu") || name.endsWith("-vcek"))
      return { stdout: runRemote(String(inputs["create"])) };
    return { stdout: "{}" };
  });
  mod = await import("../../components/host/sev-snp-host.js");
  host = new mod.SevSnpHost("snp-genoa-01", args);
  await value(host.vcek);
  await settle();
});

describe("SevSnpHost", () => {
  it("runs the preflight, QEMU check, firmware staging and VCEK fetch under the component", () => {
    expect(children(T, "snp-genoa-01")).toEqual([
      `${CMD}::snp-genoa-01-firmware-ovmf-amdsev`,
      `${CMD}::snp-genoa-01-preflight`,
      `${CMD}::snp-genoa-01-qemu`,
      `${CMD}::snp-genoa-01-vcek`,
      "command:remote:CopyToRemote::snp-genoa-01-firmware-ovmf-amdsev-upload",
    ]);
  });

  it("connects with the pinned host key and keeps the connection (private key) secret", () => {
    for (const child of [
      "snp-genoa-01-preflight",
      "snp-genoa-01-qemu",
      "snp-genoa-01-vcek",
      "snp-genoa-01-firmware-ovmf-amdsev",
    ]) {
      const r = reg(CMD, child);
      expect(secretInputs(r)).toEqual(["connection"]);
      expect(plainInputs(r).connection).toMatchObject({
        host: "10.40.1.11",
        port: 22,
        user: "ci-deploy",
        hostKey: args.ssh.hostKey,
        privateKey: args.ssh.privateKey,
      });
    }
  });

  it("passes the requirements to the preflight as root and re-runs it when they or the script change", () => {
    const r = plainInputs(reg(CMD, "snp-genoa-01-preflight"));
    expect(
      r.create.startsWith(
        "sudo -n env EXPECT_PRODUCT='Genoa' MIN_FIRMWARE='1.55' bash -c '#!/usr/bin/env bash\n# SEV-SNP host preflight",
      ),
    ).toBe(true);
    expect(r.create.endsWith("' 'preflight'")).toBe(true);
    expect(r.delete).toBeUndefined();
    expect(r.triggers).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/), "Genoa", "1.55", "2026.11.0"]);
  });

  it("outputs the inventory the preflight printed", async () => {
    expect(await value(host.inventory)).toEqual({
      product: "Genoa",
      cpu: { vendor: "AuthenticAMD", family: 25, model: 17, modelName: "AMD EPYC 9454 48-Core Processor" },
      kernel: "6.12.48-1-amd64",
      chipId: GENOA_CHIP,
      firmware: { version: "1.55" },
      reportedTcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
      platformTcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
      iommuGroups: 4,
    });
    expect(await value(host.qemu)).toEqual({ path: `${BIN}/qemu-system-x86_64`, version: "9.2.0" });
  });

  it("fetches the VCEK for the inventoried chip and TCB, with an idempotent delete", async () => {
    expect(await value(host.vcek)).toEqual({
      vcekUrl: `file://${kds}/vcek/v1/Genoa/${GENOA_CHIP}?blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=84`,
      vcekSha256: (await import("node:crypto")).createHash("sha256").update(vcekDer).digest("hex"),
      certsDir: `${stateDir}/vcek/current`,
    });
    const r = plainInputs(reg(CMD, "snp-genoa-01-vcek"));
    expect(r.delete).toBe(`sudo -n sh -c 'rm -rf '\\''${stateDir}/vcek'\\'''`);
    expect(r.triggers[1]).toMatchObject({ PRODUCT: "Genoa", CHIP_ID: GENOA_CHIP, TCB_SNP: "23" });
    // A replacement must not run its predecessor's delete after its own create (same cache).
    expect(reg(CMD, "snp-genoa-01-vcek").options).toEqual({ deleteBeforeReplace: true });
    expect(reg(CMD, "snp-genoa-01-preflight").options).toBeUndefined();
  });

  it("uploads the pinned OVMF and stages it content-addressed, verified, with a delete", async () => {
    const upload = plainInputs(reg("command:remote:CopyToRemote", "snp-genoa-01-firmware-ovmf-amdsev-upload"));
    expect(upload.remotePath).toBe(`/var/tmp/confidential-inference-incoming-${ovmf.sha256}`);
    expect(upload.source.__pulumiAsset).toBe(true); // mocks do not carry the asset's path
    expect(upload.triggers).toEqual([ovmf.sha256]);
    const stage = plainInputs(reg(CMD, "snp-genoa-01-firmware-ovmf-amdsev"));
    expect(stage.create).toMatch(
      new RegExp(
        `^sudo -n env INCOMING='/var/tmp/confidential-inference-incoming-${ovmf.sha256}' LINK='${stateDir}/host/firmware/${ovmf.sha256}' NAME='ovmf-amdsev' SHA256='${ovmf.sha256}' SIZE='4194304' STATE_DIR='${stateDir}' bash -c '`,
      ),
    );
    expect(stage.delete).toMatch(/^sudo -n env ACTION='delete' INCOMING=/);
    expect(stage.triggers).toEqual([
      ovmf.sha256,
      4194304,
      `${stateDir}/host/firmware/${ovmf.sha256}`,
      expect.stringMatching(/^[0-9a-f]{64}$/),
    ]);
    expect(reg(CMD, "snp-genoa-01-firmware-ovmf-amdsev").options).toEqual({ deleteBeforeReplace: true });
    expect(await value(host.firmwarePaths)).toEqual({ "ovmf-amdsev": `${stateDir}/artifacts/sha256/${ovmf.sha256}` });
  });

  it("exposes a target for guests: connection, state dir, sudo and what must be ready", () => {
    expect(host.target.name).toBe("snp-genoa-01");
    expect(host.target.sudo).toBe(true);
    expect(host.target.stateDir).toBe(stateDir);
    expect(host.target.ready).toHaveLength(3);
  });

  it.each([
    [
      "a relative state dir",
      { stateDir: "var/lib/ci" },
      "stateDir",
      "must be an absolute path without a trailing slash",
    ],
    [
      "a malformed host key",
      { ssh: { ...args.ssh, hostKey: "AAAA" } },
      "ssh.hostKey",
      "must be an OpenSSH public host key",
    ],
    [
      "firmware that cannot be fetched",
      { firmware: [{ ...ovmf, localPath: undefined }] },
      "firmware[0].source",
      '"debian:ovmf-amdsev=2026.08+ds-2" cannot be downloaded on the host: give the artifact a local path or an https:// source',
    ],
    ["an unknown product", { product: "Rome" }, "product", "must be Milan, Genoa or Turin"],
  ])("rejects %s before creating children", async (_n, patch, path, reason) => {
    await expectRejectedBeforeChildren(
      T,
      () => new mod.SevSnpHost(`bad-${path}`, { ...args, ...patch } as SevSnpHostArgs),
      path,
      reason,
    );
  });
});
