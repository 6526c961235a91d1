/**
 * The golden manifest of one release: what a platform team expects an SEV-SNP guest of that release
 * to report. Plain data (JSON), so it can be signed (JWS), committed, diffed in a pull request and
 * exported as a Pulumi stack output. `schema.ts` holds the strict parser; these are the types.
 */
import type { VcpuType } from "../snp/index.js";

/** Version of the manifest format described here. */
export const MANIFEST_SCHEMA_VERSION = 1;

/** Lifecycle of a manifest: only `active` measurements may receive keys. */
export const MANIFEST_STATUSES = ["active", "pending", "retired"] as const;
/** `active`: deployed and trusted; `pending`: signed, not yet promoted; `retired`: superseded. */
export type ManifestStatus = (typeof MANIFEST_STATUSES)[number];

/** Environment classes (the stack's `environment`). */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
/** Environment a manifest belongs to. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** SEV-SNP product lines that carry a TCB floor. */
export const SNP_PRODUCTS = ["Milan", "Genoa", "Turin"] as const;
/** One SEV-SNP product line. */
export type SnpProduct = (typeof SNP_PRODUCTS)[number];

/** Kinds of pinned artifacts; only firmware, kernel, initrd and svsm enter a launch measurement. */
export const ARTIFACT_KINDS = ["firmware", "kernel", "initrd", "svsm", "model", "tokenizer"] as const;
/** What an artifact is. */
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** Launch modes a manifest can hold (SNP only: `sev`/`seves` are not SNP reports). */
export const LAUNCH_MODES = ["snp", "snp:svsm"] as const;
/** Launch mode (`sev-snp-measure --mode`). */
export type LaunchMode = (typeof LAUNCH_MODES)[number];

/** VMMs whose launch behaviour the calculator models (`--vmm-type`). */
export const VMM_TYPES = ["QEMU", "ec2", "gce"] as const;
/** VMM type. */
export type VmmType = (typeof VMM_TYPES)[number];

/** An artifact pinned by content. */
export interface ArtifactPin {
  readonly kind: ArtifactKind;
  /** SHA-256 of the exact bytes, 64 lower-case hex characters. */
  readonly sha256: string;
  /** Size in bytes (> 0). */
  readonly size: number;
  /** Where the bytes come from (URL, package and version, or build id). */
  readonly source: string;
}

/** Everything that determines a launch measurement, plus the guest policy given at launch. */
export interface LaunchInputs {
  readonly mode: LaunchMode;
  /** Artifact name of the OVMF image (kind `firmware`). */
  readonly firmware: string;
  /** Artifact name of the kernel (direct boot with kernel hashes); absent: firmware boot. */
  readonly kernel?: string;
  /** Artifact name of the initrd; needs `kernel`. Absent with a kernel: an empty initrd is hashed. */
  readonly initrd?: string;
  /** Kernel command line; needs `kernel`. Absent with a kernel: the empty command line is hashed. */
  readonly cmdline?: string;
  /** Artifact name of the SVSM image (kind `svsm`); exactly when `mode` is `snp:svsm`. */
  readonly svsm?: string;
  /** Size of the OVMF variable store in bytes; exactly when `mode` is `snp:svsm`. */
  readonly varsSize?: number;
  /** Number of vCPUs (1..512); one VMSA each. */
  readonly vcpus: number;
  /** QEMU vCPU model name (e.g. `EPYC-v4`) as configured; informational when `vcpuSig` is present. */
  readonly vcpuType?: VcpuType;
  /** CPUID signature placed in the VMSAs (`0x800f12`), canonical hex. The measured value. */
  readonly vcpuSig?: string;
  /** SEV_FEATURES of the VMSAs, canonical hex (`0x1`). */
  readonly guestFeatures: string;
  readonly vmmType: VmmType;
  /** Guest POLICY given to SNP_LAUNCH_START, canonical hex (`0x30000`). Not measured; reported. */
  readonly policy: string;
}

/** A launch shape and the measurement its guests report. */
export interface LaunchShape {
  readonly inputs: LaunchInputs;
  /** Expected MEASUREMENT, 96 lower-case hex characters (SHA-384). */
  readonly measurement: string;
  /**
   * The HOST_DATA a guest of this shape must carry (64 lower-case hex): for a Kata confidential pod,
   * the digest of the initdata that pins its workload (image digest, command, environment, policy).
   * The measurement covers only the Kata guest's firmware, kernel and initrd, shared by every pod;
   * this binds the pod. Absent: the shape binds no HOST_DATA (the manifest-wide list still applies).
   */
  readonly hostData?: string;
}

/** Minimum reported TCB per product line (absent product: no floor). */
export type TcbFloors = Readonly<Partial<Record<SnpProduct, TcbComponents>>>;

/** The golden manifest of one release in one environment. */
export interface GoldenManifest {
  readonly schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  /** Release id (letters, digits, `.`, `_`, `-`; at most 64). */
  readonly release: string;
  readonly environment: Environment;
  readonly platform: "sev-snp";
  /** When the manifest was built: ISO 8601 UTC with second precision (`2026-11-02T10:00:00Z`). */
  readonly createdAt: string;
  readonly status: ManifestStatus;
  /** Every pinned artifact of the release, by name. */
  readonly artifacts: Readonly<Record<string, ArtifactPin>>;
  /** Every launch shape, by name. */
  readonly launchShapes: Readonly<Record<string, LaunchShape>>;
  readonly tcbFloors: TcbFloors;
  /**
   * Guest POLICY flag bits (16..63) a report may have set, canonical hex. Always includes bit 17
   * (reserved, must be 1); bits 0..15 (ABI version) are not flags and must be 0 here.
   */
  readonly allowedPolicyBits: string;
  /** Accepted CHIP_IDs (128 hex, sorted, unique); absent: any chip. */
  readonly chipAllowlist?: readonly string[];
  /** Accepted HOST_DATA values (64 hex, sorted, unique); absent: not checked. */
  readonly hostData?: readonly string[];
  /** Accepted ID_KEY_DIGEST values (96 hex, sorted, unique); absent: not checked. */
  readonly idKeyDigests?: readonly string[];
}

/** Security version numbers of the platform's TCB components (SNP: from REPORTED_TCB). */
export interface TcbComponents {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin and later only. */
  readonly fmc?: number;
}
