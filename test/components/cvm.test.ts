/**
 * ConfidentialVm under mocks: staging, the systemd unit, and an expected measurement that equals
 * `attestctl measure snp` run on the same firmware, kernel, initrd, cmdline and shape.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfidentialVmArgs } from "../../components/cvm/confidential-vm.js";
import { snpLaunchDigest } from "../../measurements/manifest/snp-digest.js";
import { spawnCli } from "../helpers/cli.js";
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

const T = "confidential-inference:index:ConfidentialVm";
const CMD = "command:remote:Command";
const ROOT = join(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "ci-cvm-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ovmfBytes = readFileSync(join(ROOT, "guest/firmware/OVMF.amdsev.fd"));
const kernelBytes = Buffer.from("a test kernel image ".repeat(3000));
const initrdBytes = Buffer.from("a test initrd image ".repeat(1000));
writeFileSync(join(work, "vmlinuz"), kernelBytes);
writeFileSync(join(work, "initrd.img"), initrdBytes);
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

const host = {
  name: "snp-genoa-01",
  connection: { host: "10.40.1.11", user: "ci-deploy", privateKey: pulumi.secret("KEY") },
  stateDir: "/var/lib/confidential-inference",
  sudo: true,
  ready: [],
};
const shape = {
  name: "runtime-prod",
  firmware: {
    name: "ovmf-amdsev",
    sha256: sha(ovmfBytes),
    size: ovmfBytes.length,
    source: "debian:ovmf-amdsev=2026.08+ds-2",
    localPath: "guest/firmware/OVMF.amdsev.fd",
  },
  kernel: {
    name: "kernel-6.12-cvm",
    sha256: sha(kernelBytes),
    size: kernelBytes.length,
    source: "https://artifacts.example.internal/vmlinuz",
  },
  initrd: {
    name: "initrd-6.12-cvm",
    sha256: sha(initrdBytes),
    size: initrdBytes.length,
    source: "https://artifacts.example.internal/initrd.img",
  },
  cmdline: "console=ttyS0 root=/dev/vda1 ro cvm.role=inference",
  vcpus: 16,
  vcpuType: "EPYC-Genoa" as const,
  memoryMiB: 65536,
  guestFeatures: 1n,
  policy: 0x30137n,
};
const args: ConfidentialVmArgs = {
  host,
  shape,
  firmwareImage: ovmfBytes,
  measure: snpLaunchDigest,
  network: { bridge: "br-guests", macAddress: "52:54:00:12:34:56" },
};

let mod: typeof import("../../components/cvm/confidential-vm.js"); // eslint-disable-line @typescript-eslint/consistent-type-imports -- loaded after setMocks
let vm: InstanceType<typeof mod.ConfidentialVm>;

beforeAll(async () => {
  await setupMocks((type) => (type === CMD ? { stdout: "{}" } : undefined));
  mod = await import("../../components/cvm/confidential-vm.js");
  vm = new mod.ConfidentialVm("snp-genoa-01-runtime-a", args);
  await settle();
});

describe("ConfidentialVm", () => {
  it("stages the firmware link, kernel and initrd, then installs the unit", () => {
    expect(children(T, "snp-genoa-01-runtime-a")).toEqual([
      `${CMD}::snp-genoa-01-runtime-a-firmware`,
      `${CMD}::snp-genoa-01-runtime-a-initrd`,
      `${CMD}::snp-genoa-01-runtime-a-kernel`,
      `${CMD}::snp-genoa-01-runtime-a-unit`,
    ]);
    const dir = "/var/lib/confidential-inference/guests/snp-genoa-01-runtime-a";
    const fw = plainInputs(reg(CMD, "snp-genoa-01-runtime-a-firmware"));
    expect(fw.create).toMatch(
      new RegExp(
        `^sudo -n env LINK='${dir}/firmware.fd' NAME='ovmf-amdsev' SHA256='${shape.firmware.sha256}' SIZE='${ovmfBytes.length}' STATE_DIR='/var/lib/confidential-inference' bash -c `,
      ),
    );
    const kernel = plainInputs(reg(CMD, "snp-genoa-01-runtime-a-kernel"));
    expect(kernel.create).toMatch(
      new RegExp(
        `^sudo -n env LINK='${dir}/vmlinuz' NAME='kernel-6.12-cvm' SHA256='${shape.kernel.sha256}' SIZE='${kernelBytes.length}' SOURCE_URL='https://artifacts.example.internal/vmlinuz' STATE_DIR=`,
      ),
    );
    expect(kernel.triggers.slice(0, 3)).toEqual([shape.kernel.sha256, kernelBytes.length, `${dir}/vmlinuz`]);
    for (const c of children(T, "snp-genoa-01-runtime-a"))
      expect(secretInputs(reg(CMD, c.split("::")[1] ?? ""))).toEqual(["connection"]);
  });

  it("launches QEMU with sev-snp-guest, the policy, measured direct boot, shape and bridge", () => {
    const unit = plainInputs(reg(CMD, "snp-genoa-01-runtime-a-unit"));
    const dir = "/var/lib/confidential-inference/guests/snp-genoa-01-runtime-a";
    expect(unit.create).toContain(
      "ExecStart=qemu-system-x86_64 -name guest=snp-genoa-01-runtime-a,debug-threads=on -machine q35,confidential-guest-support=sev0,memory-backend=ram0,vmport=off -cpu EPYC-Genoa -smp 16 -m 65536M -object memory-backend-memfd,id=ram0,size=65536M,share=true,prealloc=false -object sev-snp-guest,id=sev0,policy=0x30137,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on " +
        `-bios ${dir}/firmware.fd -kernel ${dir}/vmlinuz -initrd ${dir}/initrd.img -append "console=ttyS0 root=/dev/vda1 ro cvm.role=inference" -netdev bridge,id=net0,br=br-guests -device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile= -nodefaults -display none -serial stdio -monitor none -no-user-config\n`,
    );
    expect(unit.create).toContain(`ExecStartPre=/usr/bin/sha256sum --check --strict --quiet ${dir}/SHA256SUMS\n`);
    expect(unit.create).toContain(
      `${shape.firmware.sha256}  ${dir}/firmware.fd\n${shape.kernel.sha256}  ${dir}/vmlinuz\n${shape.initrd.sha256}  ${dir}/initrd.img\n`,
    );
    expect(unit.create.startsWith("sudo -n sh -c 'set -eu\n")).toBe(true);
    expect(unit.delete).toBe(
      `sudo -n sh -c 'systemctl disable --now '\\''ci-guest-snp-genoa-01-runtime-a.service'\\'' 2>/dev/null || true\nrm -f '\\''/etc/systemd/system/ci-guest-snp-genoa-01-runtime-a.service'\\'' '\\''${dir}/SHA256SUMS'\\''\nsystemctl daemon-reload'`,
    );
    expect(unit.triggers).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    // Replacing the unit stops and removes the old guest first: its delete must never follow the new create.
    for (const c of children(T, "snp-genoa-01-runtime-a"))
      expect(reg(CMD, c.split("::")[1] ?? "").options).toEqual({ deleteBeforeReplace: true });
  });

  it("outputs the measurement `attestctl measure snp` computes for the same inputs", async () => {
    const cli = spawnCli([
      "measure",
      "snp",
      "--mode",
      "snp",
      "--vcpus",
      "16",
      "--vcpu-type",
      "EPYC-Genoa",
      "--ovmf",
      join(ROOT, "guest/firmware/OVMF.amdsev.fd"),
      "--kernel",
      join(work, "vmlinuz"),
      "--initrd",
      join(work, "initrd.img"),
      "--append",
      shape.cmdline,
    ]);
    expect(cli.code).toBe(0);
    expect(await value(vm.expectedMeasurement)).toBe(cli.stdout.trim());
    expect(await value(vm.launchPolicy)).toBe("0x30137");
    expect(await value(vm.unit)).toBe("ci-guest-snp-genoa-01-runtime-a.service");
  });

  it.each([
    [
      "firmware bytes that do not match the pin",
      { firmwareImage: ovmfBytes.subarray(4096) },
      "firmwareImage",
      `bytes do not match the pin of ovmf-amdsev (sha256 ${sha(ovmfBytes.subarray(4096))})`,
    ],
    [
      "a debug policy",
      { shape: { ...shape, policy: 0xb0000n } },
      "shape.policy",
      "debug guests are not launched: their memory is readable by the host",
    ],
    [
      "other guest features",
      { shape: { ...shape, guestFeatures: 0x21n } },
      "shape.guestFeatures",
      "QEMU launches SNP guests with SEV_FEATURES 0x1; other values would never match the measurement",
    ],
    [
      "a kernel that cannot be fetched",
      { shape: { ...shape, kernel: { ...shape.kernel, source: "build 4711" } } },
      "shape.kernel.source",
      '"build 4711" cannot be downloaded on the host: give the artifact a local path or an https:// source',
    ],
  ])("rejects %s before creating children", async (_n, patch, path, reason) => {
    await expectRejectedBeforeChildren(
      T,
      () => new mod.ConfidentialVm(`bad-${path}`, { ...args, ...patch } as ConfidentialVmArgs),
      path,
      reason,
    );
  });
});
