/**
 * The host scripts run against fake /proc and /sys trees (Milan, Genoa, Turin, a Rome host without
 * SNP, an Intel host) with stubs for snphost, QEMU, apt-get and a file:// KDS, asserting exact JSON,
 * stderr lines and exit codes. Fixtures: test/components/host/fixtures/ (hand-written; the cpuinfo
 * family/model numbers and snphost output format follow the real parts and virtee/snphost).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { requireTool } from "../helpers/system-tools.js";

const ROOT = join(__dirname, "../..");
const SCRIPTS = join(ROOT, "components/host/scripts");
const FIX = join(__dirname, "host/fixtures");
const BIN = join(FIX, "bin");
const work = mkdtempSync(join(tmpdir(), "ci-host-scripts-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(script: string, env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("bash", [join(SCRIPTS, script)], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function host(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PROC_ROOT: join(FIX, name, "proc"),
    SYSFS_ROOT: join(FIX, name, "sys"),
    SNPHOST: join(BIN, "snphost"),
    SNPHOST_FIXTURE: join(FIX, name, "snphost"),
    ...extra,
  };
}

const hex = (from: number, to: number) =>
  Buffer.from(Array.from({ length: to - from }, (_, i) => from + i)).toString("hex");
const MILAN_CHIP = "d4".repeat(8) + hex(1, 57);
const GENOA_CHIP = hex(100, 164);
const TURIN_CHIP = hex(200, 208) + "00".repeat(56);

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

describe("fetch-vcek.sh", () => {
  const kds = join(work, "kds");
  const vcekDer = readFileSync(join(ROOT, "test/vectors/attestation/snp/certs/vcek-milan-azure-hcl.der"));
  const chainPem = readFileSync(join(ROOT, "test/vectors/attestation/snp/amd-roots/cert_chain-vcek-milan.pem"), "utf8");
  mkdirSync(join(kds, "vcek/v1/Milan"), { recursive: true });
  mkdirSync(join(kds, "vcek/v1/Turin"), { recursive: true });
  writeFileSync(join(kds, "vcek/v1/Milan", MILAN_CHIP), vcekDer);
  writeFileSync(join(kds, "vcek/v1/Milan/cert_chain"), chainPem);
  writeFileSync(join(kds, "vcek/v1/Turin", TURIN_CHIP.slice(0, 16)), vcekDer);
  writeFileSync(join(kds, "vcek/v1/Turin/cert_chain"), chainPem);
  const tcb = { TCB_BOOTLOADER: "4", TCB_TEE: "0", TCB_SNP: "22", TCB_MICROCODE: "213" };
  const state = join(work, "state");

  it("downloads the VCEK for the reported TCB and the chain, then serves both from the cache", () => {
    const env = { PRODUCT: "Milan", CHIP_ID: MILAN_CHIP, ...tcb, KDS_BASE_URL: `file://${kds}`, STATE_DIR: state };
    const first = run("fetch-vcek.sh", env);
    const url = `file://${kds}/vcek/v1/Milan/${MILAN_CHIP}?blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213`;
    const sha = createHash("sha256").update(vcekDer).digest("hex");
    expect(first).toEqual({
      code: 0,
      stdout: `{"vcekUrl":"${url}","vcekSha256":"${sha}","certsDir":"${state}/vcek/current","cached":false}\n`,
      stderr: "",
    });
    expect(readFileSync(join(state, `vcek/Milan/${MILAN_CHIP}/bl4-tee0-snp22-ucode213.der`))).toEqual(vcekDer);
    expect(readFileSync(join(state, "vcek/current/vcek.der"))).toEqual(vcekDer);
    const [ask, ark] = chainPem.split(/(?=-----BEGIN CERTIFICATE-----)/);
    expect(readFileSync(join(state, "vcek/current/ask.pem"), "utf8")).toBe(ask);
    expect(readFileSync(join(state, "vcek/current/ark.pem"), "utf8")).toBe(ark);
    const second = run("fetch-vcek.sh", { ...env, CURL: "/bin/false" });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).cached).toBe(true);
  });

  it("keys Turin VCEKs by the first 8 bytes of the chip id, FMC first", () => {
    const r = run("fetch-vcek.sh", {
      PRODUCT: "Turin",
      CHIP_ID: TURIN_CHIP,
      ...tcb,
      TCB_FMC: "0",
      KDS_BASE_URL: `file://${kds}`,
      STATE_DIR: join(work, "turin"),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).vcekUrl).toBe(
      `file://${kds}/vcek/v1/Turin/${TURIN_CHIP.slice(0, 16)}?fmcSPL=0&blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213`,
    );
  });

  it.each([
    [
      "KDS is unreachable",
      { CURL: "/bin/false" },
      1,
      `fetch-vcek: kds-unavailable: could not download file://${kds}/vcek/v1/Milan/${MILAN_CHIP}?blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213\n`,
    ],
    [
      "the chip id is masked",
      { CHIP_ID: "0".repeat(128) },
      1,
      "fetch-vcek: masked-chip-id: CHIP_ID is all zero (MASK_CHIP_ID is set): KDS cannot issue a VCEK; use a VLEK\n",
    ],
    ["an SPL is out of range", { TCB_SNP: "256" }, 2, "fetch-vcek: usage: TCB_SNP must be an SPL between 0 and 255\n"],
    ["the product is unknown", { PRODUCT: "Rome" }, 2, "fetch-vcek: usage: PRODUCT must be Milan, Genoa or Turin\n"],
  ])("fails when %s", (_n, patch, code, stderr) => {
    const r = run("fetch-vcek.sh", {
      PRODUCT: "Milan",
      CHIP_ID: MILAN_CHIP,
      ...tcb,
      KDS_BASE_URL: `file://${kds}`,
      STATE_DIR: join(work, `fail-${code}-${Object.keys(patch)[0]}`),
      ...patch,
    });
    expect(r).toEqual({ code, stdout: "", stderr });
  });

  it("rejects an answer that is not a DER certificate", () => {
    const bad = join(work, "kds-bad");
    mkdirSync(join(bad, "vcek/v1/Milan"), { recursive: true });
    writeFileSync(join(bad, "vcek/v1/Milan", MILAN_CHIP), "Too Many Requests\n");
    writeFileSync(join(bad, "vcek/v1/Milan/cert_chain"), chainPem);
    const s = join(work, "state-bad");
    const r = run("fetch-vcek.sh", {
      PRODUCT: "Milan",
      CHIP_ID: MILAN_CHIP,
      ...tcb,
      KDS_BASE_URL: `file://${bad}`,
      STATE_DIR: s,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `fetch-vcek: kds-bad-response: the VCEK from file://${bad}/vcek/v1/Milan/${MILAN_CHIP}?blSPL=4&teeSPL=0&snpSPL=22&ucodeSPL=213 is not a DER certificate\n`,
    );
    expect(existsSync(join(s, `vcek/Milan/${MILAN_CHIP}/bl4-tee0-snp22-ucode213.der`))).toBe(false);
  });
});

describe("stage-artifact.sh", () => {
  const bytes = Buffer.from("kernel image bytes\n".repeat(100));
  const sha = createHash("sha256").update(bytes).digest("hex");
  const state = join(work, "stage");
  const base = { NAME: "kernel-6.12", SHA256: sha, SIZE: String(bytes.length), STATE_DIR: state };
  const blob = join(state, "artifacts/sha256", sha);

  it("moves a verified upload into the store and links it, then reuses the store", () => {
    const incoming = join(work, `upload-${sha}`);
    writeFileSync(incoming, bytes);
    const link = join(state, "guests/a/kernel");
    expect(run("stage-artifact.sh", { ...base, LINK: link, INCOMING: incoming })).toEqual({
      code: 0,
      stdout: `{"name":"kernel-6.12","sha256":"${sha}","size":${bytes.length},"path":"${link}","source":"upload"}\n`,
      stderr: "",
    });
    expect(existsSync(incoming)).toBe(false);
    expect(readFileSync(link)).toEqual(bytes);
    const link2 = join(state, "guests/b/kernel");
    expect(JSON.parse(run("stage-artifact.sh", { ...base, LINK: link2 }).stdout).source).toBe("store");
    expect(statSync(blob).nlink).toBe(3);
  });

  it("deletes idempotently and keeps the store copy while another guest links it", () => {
    const link = join(state, "guests/a/kernel");
    for (let i = 0; i < 2; i++)
      expect(run("stage-artifact.sh", { ...base, LINK: link, ACTION: "delete" })).toEqual({
        code: 0,
        stdout: '{"name":"kernel-6.12","deleted":true}\n',
        stderr: "",
      });
    expect(existsSync(blob)).toBe(true);
    run("stage-artifact.sh", { ...base, LINK: join(state, "guests/b/kernel"), ACTION: "delete" });
    expect(existsSync(blob)).toBe(false);
  });

  it("downloads from the source URL and verifies the bytes", () => {
    const src = join(work, "kernel.src");
    writeFileSync(src, bytes);
    const r = run("stage-artifact.sh", { ...base, LINK: join(state, "guests/c/kernel"), SOURCE_URL: `file://${src}` });
    expect(JSON.parse(r.stdout).source).toBe("download");
  });

  it.each([
    [
      "an upload that does not match the pin",
      () => {
        const p = join(work, "bad-upload");
        writeFileSync(p, "tampered");
        return { INCOMING: p, STATE_DIR: join(work, "stage-2") };
      },
      `stage-artifact: artifact-mismatch: the uploaded kernel-6.12 does not match sha256 ${sha} and size ${bytes.length}\n`,
    ],
    [
      "nothing to stage from",
      () => ({ STATE_DIR: join(work, "stage-3") }),
      "stage-artifact: artifact-missing: kernel-6.12 is not staged on this host and has neither an upload nor a download URL\n",
    ],
    [
      "a corrupted store copy",
      () => {
        const s = join(work, "stage-4");
        mkdirSync(join(s, "artifacts/sha256"), { recursive: true });
        writeFileSync(join(s, "artifacts/sha256", sha), bytes.subarray(1));
        return { STATE_DIR: s };
      },
      null,
    ],
  ])("refuses %s", (_n, setup, stderr) => {
    const env = setup();
    const r = run("stage-artifact.sh", { ...base, LINK: join(work, "never", "kernel"), ...env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    if (stderr !== null) expect(r.stderr).toBe(stderr);
    else
      expect(r.stderr).toMatch(
        new RegExp(
          `^stage-artifact: artifact-corrupt: the stored copy of kernel-6.12 does not match its pin \\(moved aside to .*/${sha}\\.corrupt\\.\\d+\\)\\n$`,
        ),
      );
    expect(existsSync(join(work, "never", "kernel"))).toBe(false);
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
