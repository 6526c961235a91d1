/**
 * The launch-digest calculator of golden manifests, over `measurements/snp` (bit-compatible with
 * sev-snp-measure). Kernel and initrd enter by their pinned SHA-256; firmware and SVSM by bytes.
 */
import { computeMeasurement } from "../snp/index.js";
import type { LaunchDigestCalculator } from "./build.js";

/**
 * Computes a shape's measurement and the CPUID signature its VMSAs carry (QEMU only; ec2 and gce
 * do not use one).
 * @throws SnpMeasurementError for inputs the calculator refuses (unknown vCPU type, firmware
 *   without SEV metadata or hashes table, ...); `buildManifest` wraps it as `MEASUREMENT_FAILED`.
 * @example buildManifest(inputs, { ..., calculator: snpLaunchDigest })
 */
export const snpLaunchDigest: LaunchDigestCalculator = ({ shape, firmware, svsm, kernelSha256, initrdSha256 }) => {
  const vmmType = shape.vmmType ?? "QEMU";
  const vcpuType = shape.vcpuType;
  const { digest, vcpuSignature } = computeMeasurement({
    mode: shape.mode ?? "snp",
    ovmf: firmware,
    vcpus: shape.vcpus,
    ...(vcpuType === undefined ? {} : { vcpuType }),
    ...(shape.vcpuSig === undefined ? {} : { vcpuSignature: shape.vcpuSig }),
    vmmType,
    guestFeatures: shape.guestFeatures ?? 1n,
    ...(kernelSha256 === undefined ? {} : { kernel: { sha256: kernelSha256 } }),
    ...(initrdSha256 === undefined ? {} : { initrd: { sha256: initrdSha256 } }),
    ...(shape.cmdline === undefined ? {} : { cmdline: shape.cmdline }),
    ...(svsm === undefined ? {} : { svsm }),
    ...(shape.varsSize === undefined ? {} : { varsSize: shape.varsSize }),
  });
  // Only QEMU VMSAs carry the signature; ec2 and gce put a fixed value there.
  const vcpuSig = vmmType === "QEMU" && vcpuSignature !== undefined ? Number(vcpuSignature) : undefined;
  return { measurement: digest.toString("hex"), ...(vcpuSig === undefined ? {} : { vcpuSig }) };
};
