/**
 * `ConfidentialVm`: one SEV-SNP guest on a prepared host. Stages the pinned kernel and initrd
 * (verified against their SHA-256), links the host's staged firmware, installs a systemd unit that
 * launches QEMU with `sev-snp-guest` (policy, measured direct boot, vCPUs, vCPU model, memory,
 * bridged NIC) and re-checks every artifact's SHA-256 before each start. Its `expectedMeasurement`
 * is computed by `measurements/` from exactly those artifacts and that shape.
 */
import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { type LaunchDigestCalculator, toCanonicalHex } from "../../measurements/manifest/index.js";
import type { VcpuType } from "../../measurements/snp/index.js";
import { checkArtifact, stageArtifact, type HostTarget, type PinnedArtifact } from "../artifacts.js";
import { throwIfInvalid, type ArgProblem } from "../args.js";
import { asRoot, shellQuote } from "../shell.js";
import { renderUnit, unitName, type GuestLaunch } from "./unit.js";

/** The launch shape of a guest (plain: it decides the unit and the measurement). */
export interface GuestShape {
  /** Launch shape name from the stack config. */
  readonly name: string;
  readonly firmware: PinnedArtifact;
  /** Present: measured direct boot with `kernel-hashes=on`. */
  readonly kernel?: PinnedArtifact;
  readonly initrd?: PinnedArtifact;
  readonly cmdline?: string;
  readonly vcpus: number;
  /** QEMU vCPU model (`EPYC-Genoa`). */
  readonly vcpuType: VcpuType;
  readonly memoryMiB: number;
  /** SEV_FEATURES; QEMU launches with 0x1 (SNPActive), the only value accepted here. */
  readonly guestFeatures: bigint;
  /** Guest POLICY for SNP_LAUNCH_START (see `encodeGuestPolicy`). */
  readonly policy: bigint;
}

/** Arguments of {@link ConfidentialVm}. */
export interface ConfidentialVmArgs {
  /** The prepared host (`SevSnpHost.target`). */
  readonly host: HostTarget;
  readonly shape: GuestShape;
  /** The firmware image's bytes (measured page by page); must match `shape.firmware`'s pin. */
  readonly firmwareImage: Uint8Array;
  /** The launch-digest calculator (`snpLaunchDigest`, ideally memoised and shared with GoldenMeasurements). */
  readonly measure: LaunchDigestCalculator;
  /** Networking: the host bridge and an optional fixed MAC address. */
  readonly network: { readonly bridge: string; readonly macAddress?: string };
}

const POLICY_DEBUG = 1n << 19n;

// Many guests share one firmware image: hash each image once.
const imageDigests = new WeakMap<Uint8Array, string>();
function imageDigest(bytes: Uint8Array): string {
  let digest = imageDigests.get(bytes);
  if (digest === undefined) {
    digest = createHash("sha256").update(bytes).digest("hex");
    imageDigests.set(bytes, digest);
  }
  return digest;
}

function validate(args: ConfidentialVmArgs): void {
  const problems: ArgProblem[] = [];
  const s = args.shape;
  checkArtifact(problems, "shape.firmware", s.firmware, false);
  if (s.kernel !== undefined) checkArtifact(problems, "shape.kernel", s.kernel, true);
  if (s.initrd !== undefined) checkArtifact(problems, "shape.initrd", s.initrd, true);
  if (s.kernel === undefined && (s.initrd !== undefined || s.cmdline !== undefined))
    problems.push({
      propertyPath: "shape.kernel",
      reason: "an initrd or cmdline needs a kernel (measured direct boot)",
    });
  if (!(Number.isInteger(s.vcpus) && s.vcpus >= 1 && s.vcpus <= 512))
    problems.push({ propertyPath: "shape.vcpus", reason: "must be between 1 and 512" });
  if (!(Number.isInteger(s.memoryMiB) && s.memoryMiB >= 256))
    problems.push({ propertyPath: "shape.memoryMiB", reason: "must be at least 256 MiB" });
  if (s.guestFeatures !== 1n)
    problems.push({
      propertyPath: "shape.guestFeatures",
      reason: "QEMU launches SNP guests with SEV_FEATURES 0x1; other values would never match the measurement",
    });
  if ((s.policy & POLICY_DEBUG) !== 0n)
    problems.push({
      propertyPath: "shape.policy",
      reason: "debug guests are not launched: their memory is readable by the host",
    });
  const digest = imageDigest(args.firmwareImage);
  if (args.firmwareImage.length !== s.firmware.size || digest !== s.firmware.sha256)
    problems.push({
      propertyPath: "firmwareImage",
      reason: `bytes do not match the pin of ${s.firmware.name} (sha256 ${digest})`,
    });
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(args.network.bridge))
    problems.push({ propertyPath: "network.bridge", reason: "must be a Linux interface name" });
  if (args.network.macAddress !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(args.network.macAddress))
    problems.push({ propertyPath: "network.macAddress", reason: "must be a lower-case MAC address" });
  throwIfInvalid("ConfidentialVm", problems);
}

/**
 * One SEV-SNP guest.
 * @example
 * const vm = new ConfidentialVm("snp-genoa-01-runtime-a", {
 *   host: host.target, shape, firmwareImage: ovmfBytes, measure, network: { bridge: "br0" },
 * }, { dependsOn: host.target.ready });
 * export const expected = vm.expectedMeasurement; // 96 hex, equals `attestctl measure snp ...`
 */
export class ConfidentialVm extends pulumi.ComponentResource {
  /** The MEASUREMENT this guest's attestation reports must carry (96 lower-case hex). */
  readonly expectedMeasurement: pulumi.Output<string>;
  /** The guest POLICY it is launched with (canonical hex). */
  readonly launchPolicy: pulumi.Output<string>;
  /** The systemd unit on the host. */
  readonly unit: pulumi.Output<string>;

  constructor(name: string, args: ConfidentialVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("confidential-inference:index:ConfidentialVm", name, {}, opts);
    validate(args);
    const { host, shape } = args;
    const dir = `${host.stateDir}/guests/${name}`;
    const stageOpts = { parent: this, dependsOn: host.ready };
    const firmware = stageArtifact(`${name}-firmware`, host, shape.firmware, `${dir}/firmware.fd`, {
      ...stageOpts,
      fromStoreOnly: true,
    });
    const staged: command.remote.Command[] = [firmware];
    if (shape.kernel !== undefined)
      staged.push(stageArtifact(`${name}-kernel`, host, shape.kernel, `${dir}/vmlinuz`, stageOpts));
    if (shape.initrd !== undefined)
      staged.push(stageArtifact(`${name}-initrd`, host, shape.initrd, `${dir}/initrd.img`, stageOpts));

    const policy = toCanonicalHex(shape.policy);
    const launch: GuestLaunch = {
      name,
      shape: shape.name,
      firmwarePath: `${dir}/firmware.fd`,
      ...(shape.kernel === undefined ? {} : { kernelPath: `${dir}/vmlinuz` }),
      ...(shape.initrd === undefined ? {} : { initrdPath: `${dir}/initrd.img` }),
      ...(shape.cmdline === undefined ? {} : { cmdline: shape.cmdline }),
      vcpus: shape.vcpus,
      vcpuType: shape.vcpuType,
      memoryMiB: shape.memoryMiB,
      policy,
      bridge: args.network.bridge,
      ...(args.network.macAddress === undefined ? {} : { macAddress: args.network.macAddress }),
      checksumsPath: `${dir}/SHA256SUMS`,
    };
    const unitText = renderUnit(launch);
    const sums = [
      [shape.firmware, "firmware.fd"],
      [shape.kernel, "vmlinuz"],
      [shape.initrd, "initrd.img"],
    ]
      .filter((x): x is [PinnedArtifact, string] => x[0] !== undefined)
      .map(([a, file]) => `${a.sha256}  ${dir}/${file}\n`)
      .join("");
    const unit = unitName(name);
    const unitPath = `/etc/systemd/system/${unit}`;
    const install = [
      "set -eu",
      `mkdir -p ${shellQuote(dir)}`,
      `printf '%s' ${shellQuote(sums)} > ${shellQuote(`${dir}/SHA256SUMS`)}`,
      `printf '%s' ${shellQuote(unitText)} > ${shellQuote(`${unitPath}.tmp`)}`,
      `mv -f ${shellQuote(`${unitPath}.tmp`)} ${shellQuote(unitPath)}`,
      "systemctl daemon-reload",
      `systemctl enable ${shellQuote(unit)}`,
      `systemctl restart ${shellQuote(unit)}`,
    ].join("\n");
    const remove = [
      `systemctl disable --now ${shellQuote(unit)} 2>/dev/null || true`,
      `rm -f ${shellQuote(unitPath)} ${shellQuote(`${dir}/SHA256SUMS`)}`,
      "systemctl daemon-reload",
    ].join("\n");
    const unitDigest = createHash("sha256").update(unitText).update(sums).digest("hex");
    new command.remote.Command(
      `${name}-unit`,
      {
        connection: host.connection,
        create: asRoot(install, host.sudo),
        delete: asRoot(remove, host.sudo),
        triggers: [unitDigest],
        // The replacement writes the same unit: stop and remove the old one first, never after.
      },
      { parent: this, dependsOn: staged, deleteBeforeReplace: true },
    );

    const { measurement } = args.measure({
      shape: {
        name: shape.name,
        mode: "snp",
        firmware: shape.firmware.name,
        ...(shape.kernel === undefined ? {} : { kernel: shape.kernel.name }),
        ...(shape.initrd === undefined ? {} : { initrd: shape.initrd.name }),
        ...(shape.cmdline === undefined ? {} : { cmdline: shape.cmdline }),
        vcpus: shape.vcpus,
        vcpuType: shape.vcpuType,
        guestFeatures: shape.guestFeatures,
        vmmType: "QEMU",
        policy: shape.policy,
      },
      firmware: args.firmwareImage,
      ...(shape.kernel === undefined ? {} : { kernelSha256: shape.kernel.sha256 }),
      ...(shape.initrd === undefined ? {} : { initrdSha256: shape.initrd.sha256 }),
    });
    this.expectedMeasurement = pulumi.output(measurement);
    this.launchPolicy = pulumi.output(policy);
    this.unit = pulumi.output(unit);
    this.registerOutputs({
      expectedMeasurement: this.expectedMeasurement,
      launchPolicy: this.launchPolicy,
      unit: this.unit,
    });
  }
}
