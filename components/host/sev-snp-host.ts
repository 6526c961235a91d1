/**
 * `SevSnpHost`: prepares and inventories one bare-metal SEV-SNP host over SSH with
 * `@pulumi/command`: a read-only preflight (CPU, kvm_amd `sev_snp`, IOMMU, SNP firmware and TCB
 * through snphost) whose JSON becomes the `inventory` output; QEMU installed or checked for
 * `sev-snp-guest`; the pinned OVMF builds staged; the host's VCEK and AMD chain fetched from KDS and
 * cached. Every command re-runs when its inputs or script change (`triggers` -> replace), and every
 * delete is idempotent.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { TcbComponents } from "../../measurements/drift/index.js";
import {
  checkArtifact,
  scriptDigest,
  stageArtifact,
  storePath,
  type HostTarget,
  type PinnedArtifact,
} from "../artifacts.js";
import { checkPort, known, throwIfInvalid, type ArgProblem } from "../args.js";
import { asRoot, readScript, remoteScript, shellQuote } from "../shell.js";
import { checkInventory, parseInventory, type HostInventory } from "./inventory.js";

const PREFLIGHT = readScript("host/scripts/preflight.sh");
const QEMU_CHECK = readScript("host/scripts/qemu-check.sh");
const FETCH_VCEK = readScript("host/scripts/fetch-vcek.sh");

/** SSH access to the host. */
export interface SshAccess {
  /** Address (IP or DNS name). */
  readonly host: pulumi.Input<string>;
  /** Port; default 22. */
  readonly port?: pulumi.Input<number>;
  /** Login user; plain because it decides whether commands go through `sudo -n`. Default `root`. */
  readonly user?: string;
  /** Private key (PEM); treated as a secret. */
  readonly privateKey: pulumi.Input<string>;
  /** Pinned host key (`ssh-ed25519 AAAA...`); absent: trust on first use. */
  readonly hostKey?: pulumi.Input<string>;
}

/** How the host gets QEMU. */
export interface QemuSetup {
  /** `none` only checks; `apt`/`dnf` install `packages` when QEMU is missing. */
  readonly packageManager: "none" | "apt" | "dnf";
  readonly packages: readonly string[];
  /** Oldest accepted QEMU (`9.1.0`). */
  readonly minVersion: string;
}

/** Arguments of {@link SevSnpHost}. */
export interface SevSnpHostArgs {
  readonly ssh: SshAccess;
  /** The EPYC generation the stack expects; plain (the preflight and KDS paths depend on it). */
  readonly product: "Milan" | "Genoa" | "Turin";
  readonly qemu: QemuSetup;
  /** The OVMF builds this host's guests boot; each is staged and verified. Plain: one resource each. */
  readonly firmware: readonly PinnedArtifact[];
  /** Directory on the host for staged artifacts, the VCEK cache and guest state (absolute; plain). */
  readonly stateDir: string;
  /** AMD KDS base URL (or a caching mirror). */
  readonly kdsBaseUrl: pulumi.Input<string>;
  /** Lowest SNP firmware API version (`major.minor`) the guests' launch policies need; absent: none. */
  readonly minFirmware?: pulumi.Input<string>;
  /** The deploy fails if the host's reported TCB is below this (the verifier would refuse its guests anyway). */
  readonly tcbFloor?: TcbComponents;
  /** Accepted chip ids (128 hex); absent: any chip. */
  readonly chipAllowlist?: readonly string[];
  /** Values whose change re-runs the preflight and VCEK fetch (e.g. the release id), besides the script and requirements. */
  readonly refreshTriggers?: pulumi.Input<string>[];
}

function validate(name: string, args: SevSnpHostArgs): void {
  const problems: ArgProblem[] = [];
  checkPort(problems, "ssh.port", args.ssh.port);
  if (args.ssh.user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(args.ssh.user))
    problems.push({ propertyPath: "ssh.user", reason: "must be a Unix user name" });
  const hostKey = known(args.ssh.hostKey);
  if (hostKey !== undefined && !/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+$/.test(hostKey))
    problems.push({ propertyPath: "ssh.hostKey", reason: "must be an OpenSSH public host key" });
  if (!["Milan", "Genoa", "Turin"].includes(args.product))
    problems.push({ propertyPath: "product", reason: "must be Milan, Genoa or Turin" });
  if (!["none", "apt", "dnf"].includes(args.qemu.packageManager))
    problems.push({ propertyPath: "qemu.packageManager", reason: "must be none, apt or dnf" });
  args.qemu.packages.forEach((p, i) => {
    if (!/^[a-z0-9][a-z0-9+.-]*$/.test(p))
      problems.push({ propertyPath: `qemu.packages[${i}]`, reason: "must be a package name" });
  });
  if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(args.qemu.minVersion))
    problems.push({ propertyPath: "qemu.minVersion", reason: "must be a version like 9.1.0" });
  args.firmware.forEach((f, i) => checkArtifact(problems, `firmware[${i}]`, f, true));
  if (!/^\/[A-Za-z0-9._/-]+$/.test(args.stateDir) || args.stateDir.endsWith("/"))
    problems.push({ propertyPath: "stateDir", reason: "must be an absolute path without a trailing slash" });
  const min = known(args.minFirmware);
  if (min !== undefined && !/^[0-9]+\.[0-9]+$/.test(min))
    problems.push({ propertyPath: "minFirmware", reason: "must be major.minor" });
  (args.chipAllowlist ?? []).forEach((c, i) => {
    if (!/^[0-9a-f]{128}$/.test(c))
      problems.push({ propertyPath: `chipAllowlist[${i}]`, reason: "must be a 64-byte chip id in lower-case hex" });
  });
  void name;
  throwIfInvalid("SevSnpHost", problems);
}

/** The VCEK the host fetched. */
export interface HostVcek {
  readonly vcekUrl: string;
  readonly vcekSha256: string;
  readonly certsDir: string;
}

/**
 * One prepared and inventoried SEV-SNP host.
 * @example
 * const host = new SevSnpHost("snp-genoa-01", {
 *   ssh: { host: "10.40.1.11", user: "ci-deploy", privateKey: sshKey, hostKey: "ssh-ed25519 AAAA..." },
 *   product: "Genoa", qemu: { packageManager: "none", packages: ["qemu-system-x86"], minVersion: "9.1.0" },
 *   firmware: [ovmf], stateDir: "/var/lib/confidential-inference", kdsBaseUrl: "https://kdsintf.amd.com",
 *   tcbFloor: { bootloader: 10, tee: 0, snp: 23, microcode: 84 },
 * });
 * export const inventory = host.inventory; // { product: "Genoa", chipId: "...", reportedTcb: {...}, ... }
 */
export class SevSnpHost extends pulumi.ComponentResource {
  /** What the preflight found (product, chip id, firmware, reported and platform TCB). */
  readonly inventory: pulumi.Output<HostInventory>;
  /** QEMU path and version on the host. */
  readonly qemu: pulumi.Output<{ path: string; version: string }>;
  /** Where the host's VCEK came from and where the chain is cached. */
  readonly vcek: pulumi.Output<HostVcek>;
  /** Store path of each staged firmware, by artifact name. */
  readonly firmwarePaths: pulumi.Output<Record<string, string>>;
  /** What guests need to run on this host. */
  readonly target: HostTarget;

  constructor(name: string, args: SevSnpHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("confidential-inference:index:SevSnpHost", name, {}, opts);
    validate(name, args);
    const sudo = (args.ssh.user ?? "root") !== "root";
    const connection: command.types.input.remote.ConnectionArgs = {
      host: args.ssh.host,
      port: args.ssh.port ?? 22,
      user: args.ssh.user ?? "root",
      privateKey: pulumi.secret(args.ssh.privateKey),
      ...(args.ssh.hostKey === undefined ? {} : { hostKey: args.ssh.hostKey }),
    };
    const refresh = args.refreshTriggers ?? [];

    const preflightEnv = pulumi
      .all([args.minFirmware ?? ""])
      .apply(([min]) => ({ EXPECT_PRODUCT: args.product, ...(min === "" ? {} : { MIN_FIRMWARE: min }) }));
    const preflight = new command.remote.Command(
      `${name}-preflight`,
      {
        connection,
        create: preflightEnv.apply((env) => remoteScript("preflight", PREFLIGHT, env, sudo)),
        triggers: [scriptDigest(PREFLIGHT), args.product, args.minFirmware ?? "", ...refresh],
      },
      { parent: this },
    );
    this.inventory = preflight.stdout.apply((out) =>
      checkInventory(name, parseInventory(name, out), {
        product: args.product,
        ...(args.tcbFloor === undefined ? {} : { tcbFloor: args.tcbFloor }),
        ...(args.chipAllowlist === undefined ? {} : { chipAllowlist: args.chipAllowlist }),
      }),
    );

    const qemuEnv = {
      PACKAGE_MANAGER: args.qemu.packageManager,
      QEMU_PACKAGES: args.qemu.packages.join(" "),
      MIN_QEMU: args.qemu.minVersion,
    };
    const qemu = new command.remote.Command(
      `${name}-qemu`,
      {
        connection,
        create: remoteScript("qemu-check", QEMU_CHECK, qemuEnv, sudo),
        triggers: [scriptDigest(QEMU_CHECK), qemuEnv.PACKAGE_MANAGER, qemuEnv.QEMU_PACKAGES, qemuEnv.MIN_QEMU],
      },
      { parent: this, dependsOn: [preflight] },
    );
    this.qemu = qemu.stdout.apply((out) => {
      const { path, version } = (JSON.parse(out) as { qemu: { path: string; version: string } }).qemu;
      return { path, version };
    });

    const stateDir = args.stateDir;
    const firmwareStages = args.firmware.map((fw) =>
      stageArtifact(
        `${name}-firmware-${fw.name}`,
        { name, connection, stateDir, sudo, ready: [] },
        fw,
        `${stateDir}/host/firmware/${fw.sha256}`,
        { parent: this, dependsOn: [preflight] },
      ),
    );
    this.firmwarePaths = pulumi.output(
      Object.fromEntries(args.firmware.map((fw) => [fw.name, storePath(stateDir, fw.sha256)])),
    );

    const vcekEnv = pulumi.all([this.inventory, args.kdsBaseUrl]).apply(([inv, kds]) => ({
      PRODUCT: inv.product,
      CHIP_ID: inv.product === "Turin" ? inv.chipId.slice(0, 16) : inv.chipId,
      TCB_BOOTLOADER: String(inv.reportedTcb.bootloader),
      TCB_TEE: String(inv.reportedTcb.tee),
      TCB_SNP: String(inv.reportedTcb.snp),
      TCB_MICROCODE: String(inv.reportedTcb.microcode),
      ...(inv.reportedTcb.fmc === undefined ? {} : { TCB_FMC: String(inv.reportedTcb.fmc) }),
      KDS_BASE_URL: kds,
      STATE_DIR: stateDir,
    }));
    const vcek = new command.remote.Command(
      `${name}-vcek`,
      {
        connection,
        create: vcekEnv.apply((env) => remoteScript("fetch-vcek", FETCH_VCEK, env, sudo)),
        delete: asRoot(`rm -rf ${shellQuote(`${stateDir}/vcek`)}`, sudo),
        triggers: [scriptDigest(FETCH_VCEK), vcekEnv, ...refresh],
        // The delete clears the cache the replacement fills: run it first.
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.vcek = vcek.stdout.apply((out) => {
      const v = JSON.parse(out) as HostVcek;
      return { vcekUrl: v.vcekUrl, vcekSha256: v.vcekSha256, certsDir: v.certsDir };
    });

    this.target = { name, connection, stateDir, sudo, ready: [qemu, ...firmwareStages, vcek] };
    this.registerOutputs({
      inventory: this.inventory,
      qemu: this.qemu,
      vcek: this.vcek,
      firmwarePaths: this.firmwarePaths,
    });
  }
}
