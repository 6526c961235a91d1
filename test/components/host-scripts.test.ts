/**
 * The host scripts run against fake /proc and /sys trees (Milan, Genoa, Turin, a Rome host without
 * SNP, an Intel host) with stubs for snphost, QEMU, apt-get and a file:// KDS, asserting exact JSON,
 * stderr lines and exit codes. Fixtures: test/components/host/fixtures/ (hand-written; the cpuinfo
 * family/model numbers and snphost output format follow the real parts and virtee/snphost).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, GENOA_CHIP, host, MILAN_CHIP, run, SCRIPTS, TURIN_CHIP } from "../helpers/host-scripts.js";
import { requireTool } from "../helpers/system-tools.js";

const work = mkdtempSync(join(tmpdir(), "ci-host-scripts-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("preflight.sh", () => {
  it.each([
    [
      "milan",
      {
        schema: 1,
        product: "Milan",
        cpu: { vendor: "AuthenticAMD", family: 25, model: 1, modelName: "AMD EPYC 7763 64-Core Processor" },
        kernel: "6.11.0-snp-host",
        chipId: MILAN_CHIP,
        firmware: { version: "1.55" },
        reportedTcb: { bootloader: 4, tee: 0, snp: 22, microcode: 213 },
        platformTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 213 },
        iommuGroups: 3,
      },
    ],
    [
      "genoa",
      {
        schema: 1,
        product: "Genoa",
        cpu: { vendor: "AuthenticAMD", family: 25, model: 17, modelName: "AMD EPYC 9454 48-Core Processor" },
        kernel: "6.12.48-1-amd64",
        chipId: GENOA_CHIP,
        firmware: { version: "1.55" },
        reportedTcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
        platformTcb: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
        iommuGroups: 4,
      },
    ],
    [
      "turin",
      {
        schema: 1,
        product: "Turin",
        cpu: { vendor: "AuthenticAMD", family: 26, model: 2, modelName: "AMD EPYC 9655 96-Core Processor" },
        kernel: "6.14.0-snp",
        chipId: TURIN_CHIP,
        firmware: { version: "1.57" },
        reportedTcb: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
        platformTcb: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
        iommuGroups: 2,
      },
    ],
  ])("prints the inventory of a %s host", (name, inventory) => {
    const r = run("preflight.sh", host(name, { EXPECT_PRODUCT: inventory.product, MIN_FIRMWARE: "1.55" }));
    expect(r).toEqual({ code: 0, stdout: `${JSON.stringify(inventory)}\n`, stderr: "" });
  });

  it("lists every missing SNP capability of a Rome host and exits 1", () => {
    const r = run("preflight.sh", host("rome"));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toEqual([
      "preflight: no-sev-snp-cpu: the CPU does not advertise sev_snp (EPYC 7003 Milan or newer, SNP enabled in the BIOS/UEFI setup)",
      "preflight: unknown-product: CPU family 23 model 49 is not a Milan, Genoa or Turin part",
      "preflight: sev-snp-disabled: kvm_amd sev_snp is off (kvm_amd.sev_snp=1 on the kernel command line, SNP enabled in firmware)",
      "preflight: iommu-disabled: no IOMMU groups: enable the IOMMU in firmware (SEV-SNP requires it) and do not boot with iommu=off or amd_iommu=off",
      "preflight: snp-status-unavailable: snphost could not read the SNP platform status (is SNP initialised? see dmesg | grep -i sev)",
      "preflight: 5 problem(s): this host cannot run SEV-SNP guests",
      "",
    ]);
  });

  it("refuses an Intel host", () => {
    const r = run("preflight.sh", host("intel"));
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")).toEqual([
      "preflight: not-amd: CPU vendor is GenuineIntel; SEV-SNP needs an AMD EPYC processor",
      "preflight: kvm-amd-missing: the kvm_amd module is not loaded (modprobe kvm_amd sev_snp=1)",
      "preflight: snp-status-unavailable: snphost could not read the SNP platform status (is SNP initialised? see dmesg | grep -i sev)",
      "preflight: 3 problem(s): this host cannot run SEV-SNP guests",
      "",
    ]);
  });

  it.each([
    [
      "the stack names another product",
      host("milan", { EXPECT_PRODUCT: "Genoa" }),
      "preflight: product-mismatch: the stack says Genoa but this host is Milan",
    ],
    [
      "the firmware is older than the launch policies need",
      host("genoa", { MIN_FIRMWARE: "1.56" }),
      "preflight: firmware-too-old: SNP firmware 1.55 is older than the 1.56 the launch policies require (update the host firmware)",
    ],
    [
      "snphost is not installed",
      host("genoa", { SNPHOST: "/nonexistent/snphost" }),
      "preflight: snphost-missing: snphost is not installed: it reads the chip id, TCB and firmware version from /dev/sev (virtee/snphost)",
    ],
  ])("fails when %s", (_name, env, line) => {
    const r = run("preflight.sh", env);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: `${line}\npreflight: 1 problem(s): this host cannot run SEV-SNP guests\n`,
    });
  });

  it("exits 2 when cpuinfo is unreadable", () => {
    expect(run("preflight.sh", host("milan", { PROC_ROOT: "/nonexistent" }))).toEqual({
      code: 2,
      stdout: "",
      stderr: "preflight: usage: /nonexistent/cpuinfo is not readable\n",
    });
  });
});

describe("qemu-check.sh", () => {
  const withQemu = (extra: Record<string, string>) => ({
    PATH: `${BIN}:/usr/bin:/bin`,
    FAKE_QEMU_VERSION: "9.2.0",
    ...extra,
  });

  it("accepts QEMU 9.2 with sev-snp-guest", () => {
    expect(run("qemu-check.sh", withQemu({}))).toEqual({
      code: 0,
      stdout: `{"qemu":{"path":"${BIN}/qemu-system-x86_64","version":"9.2.0","sevSnpGuest":true},"installed":false}\n`,
      stderr: "",
    });
  });

  it.each([
    [
      "too old",
      { FAKE_QEMU_VERSION: "8.2.2" },
      "qemu-check: qemu-too-old: QEMU 8.2.2 is older than 9.1.0 (no sev-snp-guest object)\n",
    ],
    [
      "built without SNP",
      { FAKE_QEMU_SNP: "0" },
      `qemu-check: qemu-no-snp: QEMU 9.2.0 at ${BIN}/qemu-system-x86_64 was built without the sev-snp-guest object\n`,
    ],
    [
      "missing and not to be installed",
      { QEMU: "qemu-absent" },
      "qemu-check: qemu-missing: qemu-absent is not installed (install qemu-system-x86 9.1.0 or newer, or set hostSetup.packageManager)\n",
    ],
  ])("refuses QEMU %s", (_n, env, stderr) => {
    expect(run("qemu-check.sh", withQemu(env))).toEqual({ code: 1, stdout: "", stderr });
  });

  it("installs QEMU with apt when missing", () => {
    const dir = join(work, "apt");
    mkdirSync(dir);
    const r = run("qemu-check.sh", {
      PATH: `${dir}:/usr/bin:/bin`,
      // By path: a distro QEMU in /usr/bin (a machine that has one) must not count as installed.
      QEMU: join(dir, "qemu-system-x86_64"),
      FAKE_QEMU_VERSION: "9.2.0",
      FAKE_INSTALL_DIR: dir,
      PACKAGE_MANAGER: "apt",
      APT_GET: join(BIN, "apt-get"),
      QEMU_PACKAGES: "qemu-system-x86 qemu-utils",
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      qemu: { path: `${dir}/qemu-system-x86_64`, version: "9.2.0", sevSnpGuest: true },
      installed: true,
    });
    expect(readFileSync(join(dir, "apt-get.args"), "utf8")).toBe(
      "install -y --no-install-recommends qemu-system-x86 qemu-utils\n",
    );
  });
});

describe("shellcheck", () => {
  it("passes on every shipped script and test stub", () => {
    const files = [
      ...["preflight.sh", "qemu-check.sh", "fetch-vcek.sh", "stage-artifact.sh"].map((f) => join(SCRIPTS, f)),
      ...["snphost", "qemu-system-x86_64", "apt-get"].map((f) => join(BIN, f)),
    ];
    requireTool("shellcheck");
    const r = spawnSync("shellcheck", ["--shell=bash", ...files], { encoding: "utf8" });
    expect({ code: r.status, out: r.stdout + r.stderr }).toEqual({ code: 0, out: "" });
  });
});
