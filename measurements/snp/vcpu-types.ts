/**
 * vCPU models and their CPUID signatures. The signature (CPUID Fn0000_0001_EAX) is what QEMU puts
 * in RDX of every initial VMSA, so it is part of the SNP and SEV-ES launch digests.
 */
import { SnpMeasurementError } from "./errors.js";

/** QEMU `-cpu` model names the calculator knows, in the order the stack config lists them. */
export const VCPU_TYPES = [
  "EPYC",
  "EPYC-v1",
  "EPYC-v2",
  "EPYC-v3",
  "EPYC-v4",
  "EPYC-IBPB",
  "EPYC-Rome",
  "EPYC-Rome-v1",
  "EPYC-Rome-v2",
  "EPYC-Rome-v3",
  "EPYC-Rome-v4",
  "EPYC-Milan",
  "EPYC-Milan-v1",
  "EPYC-Milan-v2",
  "EPYC-Genoa",
  "EPYC-Genoa-v1",
  "EPYC-Turin",
] as const;

/** A known vCPU model name. */
export type VcpuType = (typeof VCPU_TYPES)[number];

/** CPU family, model and stepping as AMD numbers them (family 25 = 0x19 = Zen 3/4). */
export interface CpuIdentity {
  /** Display family, 0..270 (families above 15 use the extended-family field). */
  readonly family: number;
  /** Display model, 0..255. */
  readonly model: number;
  /** Stepping, 0..15. */
  readonly stepping: number;
}

const IDENTITIES: Readonly<Record<VcpuType, CpuIdentity>> = {
  EPYC: { family: 23, model: 1, stepping: 2 },
  "EPYC-v1": { family: 23, model: 1, stepping: 2 },
  "EPYC-v2": { family: 23, model: 1, stepping: 2 },
  "EPYC-v3": { family: 23, model: 1, stepping: 2 },
  "EPYC-v4": { family: 23, model: 1, stepping: 2 },
  "EPYC-IBPB": { family: 23, model: 1, stepping: 2 },
  "EPYC-Rome": { family: 23, model: 49, stepping: 0 },
  "EPYC-Rome-v1": { family: 23, model: 49, stepping: 0 },
  "EPYC-Rome-v2": { family: 23, model: 49, stepping: 0 },
  "EPYC-Rome-v3": { family: 23, model: 49, stepping: 0 },
  "EPYC-Rome-v4": { family: 23, model: 49, stepping: 0 },
  "EPYC-Milan": { family: 25, model: 1, stepping: 1 },
  "EPYC-Milan-v1": { family: 25, model: 1, stepping: 1 },
  "EPYC-Milan-v2": { family: 25, model: 1, stepping: 1 },
  "EPYC-Genoa": { family: 25, model: 17, stepping: 0 },
  "EPYC-Genoa-v1": { family: 25, model: 17, stepping: 0 },
  "EPYC-Turin": { family: 26, model: 0, stepping: 0 },
};

/** True when `name` is one of {@link VCPU_TYPES} (exact, case-sensitive, as QEMU spells it). */
export function isVcpuType(name: string): name is VcpuType {
  return Object.prototype.hasOwnProperty.call(IDENTITIES, name);
}

/** Family, model and stepping of a known vCPU model. */
export function vcpuIdentity(type: VcpuType): CpuIdentity {
  return IDENTITIES[type];
}

function inRange(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= max;
}

/**
 * The 32-bit CPUID signature for a family/model/stepping (AMD CPUID Specification #25481,
 * Fn0000_0001_EAX): `extFamily<<20 | extModel<<16 | baseFamily<<8 | baseModel<<4 | stepping`.
 * Families above 15 are encoded as base 0xF plus an extended family of `family - 15`.
 * @throws SnpMeasurementError `VCPU_SIGNATURE_INVALID` when a field is out of range (no silent masking).
 * @example cpuSignature({ family: 25, model: 1, stepping: 1 }) // 0x00a00f11
 */
export function cpuSignature(id: CpuIdentity): number {
  if (!inRange(id.family, 15 + 0xff) || !inRange(id.model, 0xff) || !inRange(id.stepping, 0xf)) {
    throw new SnpMeasurementError(
      "VCPU_SIGNATURE_INVALID",
      "vcpuSignature",
      `vCPU family/model/stepping ${id.family}/${id.model}/${id.stepping} out of range (family 0-270, model 0-255, stepping 0-15)`,
    );
  }
  const [baseFamily, extFamily] = id.family > 0xf ? [0xf, id.family - 0xf] : [id.family, 0];
  return (
    ((extFamily << 20) | ((id.model >> 4) << 16) | (baseFamily << 8) | ((id.model & 0xf) << 4) | id.stepping) >>> 0
  );
}
