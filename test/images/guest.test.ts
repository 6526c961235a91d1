/**
 * `attestctl image build --target guest`: two builds give the same bytes; `attestctl measure snp`
 * over the built artifacts equals the build manifest's launch digest; the initramfs holds what the
 * runtime needs and its trust configuration (read back with GNU cpio); and the image really boots
 * under QEMU (TCG; KVM with CI_GUEST_ACCEL=kvm): /init loads the SEV guest modules, takes a DHCP lease and
 * starts the runtime from the image, which validates its built-in configuration and, given a bad
 * one, refuses to start, so the guest stops (fail closed). No timing is asserted.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureSnpCli, ROOT, runCli } from "../helpers/cli.js";
import { requireTool } from "../helpers/system-tools.js";

const dir = mkdtempSync(join(tmpdir(), "ci-guest-"));
/** A runtime config the runtime refuses (CONFIG_INVALID): the boot test then ends deterministically. */
const CONFIG = Buffer.from('{"example":"not a runtime config"}\n');
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
let manifest: { measurement: string; cmdline: string; kernel: { sha256: string }; initrd: { sha256: string } };

beforeAll(async () => {
  requireTool("xz-utils");
  writeFileSync(join(dir, "runtime.json"), CONFIG);
  for (const out of ["a", "b"]) {
    const r = await runCli([
      "image",
      "build",
      "--target",
      "guest",
      "--runtime-config",
      join(dir, "runtime.json"),
      "--out",
      join(dir, out),
    ]);
    expect(r.code, r.stderr).toBe(0);
  }
  manifest = JSON.parse(readFileSync(join(dir, "a", "manifest.json"), "utf8"));
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the confidential guest image", () => {
  it("is reproducible: two builds give identical kernel, initramfs and manifest", () => {
    for (const f of ["vmlinuz", "initrd.cpio", "cmdline", "manifest.json", "pins.yaml"])
      expect({ f, b: sha(join(dir, "b", f)) }).toEqual({ f, b: sha(join(dir, "a", f)) });
    expect(manifest.kernel.sha256).toBe(sha(join(dir, "a", "vmlinuz")));
    expect(manifest.initrd.sha256).toBe(sha(join(dir, "a", "initrd.cpio")));
  });

  it("has the launch digest `attestctl measure snp` computes over the built artifacts, and no unmeasured root", () => {
    const cli = measureSnpCli({
      vcpus: 4,
      vcpuType: "EPYC-v4",
      ovmf: join(ROOT, "guest/firmware/OVMF.amdsev.fd"),
      kernel: join(dir, "a", "vmlinuz"),
      initrd: join(dir, "a", "initrd.cpio"),
      append: readFileSync(join(dir, "a", "cmdline"), "utf8"),
    });
    expect(cli).toMatchObject({ code: 0, stderr: "" });
    expect(cli.stdout.trim()).toBe(manifest.measurement);
    expect(manifest.cmdline).not.toMatch(/(^|\s)root=/);
    expect(readFileSync(join(dir, "a", "pins.yaml"), "utf8")).toContain(`sha256: ${manifest.initrd.sha256}`);
  });

  it("holds /init, Node.js, the compiled runtime with onnxruntime and the trust configuration (GNU cpio reads it)", () => {
    const cpio = (args: string[]) =>
      spawnSync("cpio", args, { input: readFileSync(join(dir, "a", "initrd.cpio")), maxBuffer: 1 << 30 });
    const list = cpio(["-t", "--quiet"]).stdout.toString().split("\n");
    for (const p of [
      "init",
      "usr/bin/busybox",
      "usr/local/bin/node",
      "app/main.js",
      "app/libonnxruntime.so.1",
      "app/onnxruntime_binding.node",
      "usr/lib/x86_64-linux-gnu/libc.so.6",
      "usr/lib/modules/guest/sev-guest.ko",
      "usr/lib/modules/guest/tsm.ko",
      "etc/confidential-inference/runtime.json",
    ])
      expect({ p, listed: list.includes(p) }).toEqual({ p, listed: true });
    expect(cpio(["-i", "--quiet", "--to-stdout", "etc/confidential-inference/runtime.json"]).stdout).toEqual(CONFIG);
    expect(cpio(["-i", "--quiet", "--to-stdout", "init"]).stdout.toString()).toContain(
      "exec /usr/local/bin/node /app/main.js --config /etc/confidential-inference/runtime.json",
    );
  });

  it("boots under QEMU: /init loads the guest modules, gets a lease, runs the runtime, which refuses a bad config (fail closed)", async () => {
    requireTool("qemu-system-x86");
    // KVM is opt-in: on some machines /dev/kvm opens but a guest hangs (../shared/reference/environment-notes.md).
    const kvm = process.env.CI_GUEST_ACCEL === "kvm";
    const qemu = spawn(
      "qemu-system-x86_64",
      [
        ...(kvm ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg"]),
        "-machine",
        "q35",
        "-m",
        "2048",
        "-smp",
        "2",
        "-nographic",
        "-no-reboot",
        "-kernel",
        join(dir, "a", "vmlinuz"),
        "-initrd",
        join(dir, "a", "initrd.cpio"),
        "-append",
        manifest.cmdline,
        "-netdev",
        "user,id=n0",
        "-device",
        "virtio-net-pci,netdev=n0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let serial = "";
    qemu.stdout.on("data", (c: Buffer) => (serial += c.toString("utf8")));
    qemu.stderr.on("data", (c: Buffer) => (serial += c.toString("utf8")));
    const timer = setTimeout(() => qemu.kill("SIGKILL"), 300_000);
    await new Promise((done) => qemu.once("exit", done));
    clearTimeout(timer);
    for (const line of [
      "Run /init as init process",
      "udhcpc: lease of 10.0.2.15",
      "CONFIG_INVALID: invalid runtime config",
      "example: unknown key",
      "Kernel panic - not syncing: Attempted to kill init!",
    ])
      expect({ line, seen: serial.includes(line) }).toEqual({ line, seen: true });
    expect(serial).not.toContain("tsm: Unknown symbol");
  }, 360_000);
});
