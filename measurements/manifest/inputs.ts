/**
 * What a golden manifest is built from: release metadata, pinned artifacts, launch shapes and
 * floors (`GoldenInputs`), from either a stack's typed config or the dedicated golden config file.
 */
import type { VcpuType } from "../snp/index.js";
import type { ArtifactPin, Environment, LaunchMode, TcbFloors, VmmType } from "./types.js";

/** One launch shape as configured (before its measurement is computed). */
export interface LaunchShapeSpec {
  readonly name: string;
  /** Default `snp`. */
  readonly mode?: LaunchMode;
  readonly firmware: string;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly cmdline?: string;
  readonly svsm?: string;
  readonly varsSize?: number;
  readonly vcpus: number;
  /** QEMU vCPU model; the calculator resolves its CPUID signature. */
  readonly vcpuType?: VcpuType;
  /** Explicit CPUID signature; wins over `vcpuType` for the measurement. */
  readonly vcpuSig?: number;
  /** SEV_FEATURES; default 0x1 (SNPActive). */
  readonly guestFeatures?: bigint;
  /** Default `QEMU`. */
  readonly vmmType?: VmmType;
  /** Guest POLICY u64 given at launch (see `encodeGuestPolicy`). */
  readonly policy: bigint;
  /** HOST_DATA guests of this shape must carry (64 hex; a Kata pod's initdata digest), see `LaunchShape.hostData`. */
  readonly hostData?: string;
}

/** Everything a golden manifest is computed from, except artifact bytes, time and status. */
export interface GoldenInputs {
  readonly release: string;
  readonly environment: Environment;
  readonly artifacts: Readonly<Record<string, ArtifactPin>>;
  readonly launchShapes: readonly LaunchShapeSpec[];
  readonly tcbFloors: TcbFloors;
  readonly chipAllowlist?: readonly string[];
  readonly hostData?: readonly string[];
  readonly idKeyDigests?: readonly string[];
}

/** Golden inputs plus where artifact bytes can be read (name -> path as written in the config). */
export interface GoldenSource {
  readonly inputs: GoldenInputs;
  /** Artifact paths as configured (relative to the project or the config file; resolved by the caller). */
  readonly paths: Readonly<Record<string, string>>;
  /** Release time fixed in the config (stack `golden.releasedAt`, golden config `createdAt`); absent: chosen by the caller. */
  readonly createdAt?: Date;
}
