/** Golden-manifest fixtures for tests: the dev stack's release (vector a02) and mutators. */
import type { GoldenManifest } from "../../measurements/manifest/index.js";

/** sev-snp-measure vector a02 (test/vectors/snp-measure): the dev stack's launch shape. */
export const A02_MEASUREMENT =
  "39765afea1c9ad1005dab3f0967dd75d3f3371c725ede3b451d41536cdbae3959894d4da0e9c781814389a23e42158c0";
/** sev-snp-measure vector a01: same firmware, 1 vCPU, no direct boot. */
export const A01_MEASUREMENT =
  "d74bd3ea40b240c3228edc5177ce6193561ebff633dbd0be76d6c143b876d65102425c0e2e8a930857c48daa5eacda58";

/** A valid manifest shaped like the dev stack's (vector a02), with one extra firmware-boot shape (a01). */
export function devManifest(): GoldenManifest {
  return {
    schemaVersion: 1,
    release: "2026.11.0-dev",
    environment: "dev",
    platform: "sev-snp",
    createdAt: "2026-11-02T10:00:00Z",
    status: "active",
    artifacts: {
      "ovmf-amdsev": {
        kind: "firmware",
        sha256: "3e4fd0b3fe3b2dbe481c3d9e99418a034174f26cbe1f55aa212b0f18c12d2d6f",
        size: 4194304,
        source: "debian:ovmf-amdsev=2026.08+ds-2",
      },
      "kernel-dev": {
        kind: "kernel",
        sha256: "125872c30caee2b396e6094cd09154c1d65d5ca85a0a9449267b189498f943d7",
        size: 524309,
        source: "generated dummy kernel (label snp-measure/kernel-a), sandbox only",
      },
      "initrd-dev": {
        kind: "initrd",
        sha256: "298531d07803651e7d0e21b7291827fd1e7f7ec8f6f41331e0dfbd935ff2d06e",
        size: 131101,
        source: "generated dummy initrd (label snp-measure/initrd-a), sandbox only",
      },
      "classifier-model": {
        kind: "model",
        sha256: "adf07b28feaae19e159e6db5b736dedb300399ddd6374f29f6c27f3ece1bdbad",
        size: 1048576,
        source: "scripts/build-models.ts (bundled text classifier, encrypted)",
      },
    },
    launchShapes: {
      "runtime-small": {
        inputs: {
          mode: "snp",
          firmware: "ovmf-amdsev",
          kernel: "kernel-dev",
          initrd: "initrd-dev",
          cmdline: "console=ttyS0 loglevel=7",
          vcpus: 4,
          vcpuType: "EPYC-v4",
          vcpuSig: "0x800f12",
          guestFeatures: "0x1",
          vmmType: "QEMU",
          policy: "0x30000",
        },
        measurement: A02_MEASUREMENT,
      },
      "firmware-only": {
        inputs: {
          mode: "snp",
          firmware: "ovmf-amdsev",
          vcpus: 1,
          vcpuType: "EPYC-v4",
          vcpuSig: "0x800f12",
          guestFeatures: "0x1",
          vmmType: "QEMU",
          policy: "0x30000",
        },
        measurement: A01_MEASUREMENT,
      },
    },
    tcbFloors: {
      Milan: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
      Turin: { bootloader: 1, tee: 1, snp: 1, microcode: 1, fmc: 1 },
    },
    allowedPolicyBits: "0x30000",
  };
}

/** A deep, untyped copy of a manifest (as plain JSON), for building bad inputs. */
export function mutable(manifest: GoldenManifest = devManifest()): any {
  return JSON.parse(JSON.stringify(manifest));
}

/** `devManifest()` changed by `edit` (which mutates a deep copy). */
export function withEdit(edit: (m: any) => void, base: GoldenManifest = devManifest()): GoldenManifest {
  const copy = mutable(base);
  edit(copy);
  return copy as GoldenManifest;
}
