/** The launch-digest calculator over measurements/snp, for tests (the same shape as the golden manifest's). */
import { computeMeasurement, cpuSignature, isVcpuType, vcpuIdentity } from "../../measurements/snp/index.js";
import type { LaunchDigestCalculator } from "../../measurements/manifest/build.js";

/** Computes a shape's measurement and its resolved CPUID signature. */
export const snpLaunchDigest: LaunchDigestCalculator = ({ shape, firmware, kernelSha256, initrdSha256 }) => {
  const vcpuType = shape.vcpuType !== undefined && isVcpuType(shape.vcpuType) ? shape.vcpuType : undefined;
  const { digest } = computeMeasurement({
    mode: "snp", ovmf: firmware, vcpus: shape.vcpus, ...(vcpuType === undefined ? {} : { vcpuType }),
    vmmType: shape.vmmType ?? "QEMU", guestFeatures: shape.guestFeatures ?? 1n,
    ...(kernelSha256 === undefined ? {} : { kernel: { sha256: kernelSha256 } }),
    ...(initrdSha256 === undefined ? {} : { initrd: { sha256: initrdSha256 } }),
    ...(shape.cmdline === undefined ? {} : { cmdline: shape.cmdline }),
  });
  return { measurement: digest.toString("hex"), ...(vcpuType === undefined ? {} : { vcpuSig: Number(cpuSignature(vcpuIdentity(vcpuType))) }) };
};
