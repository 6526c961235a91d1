/**
 * Guest artifacts of the dev stack's launch shape. The dev stack pins a dummy kernel and initrd
 * (test/vectors/snp-measure/README.md: `SHA-256("<label>:0") || SHA-256("<label>:1") || ...`,
 * truncated), so the sandbox can rebuild them byte for byte and the simulated guest reports the
 * measurement the committed golden manifest (`stacks/golden/dev.json`) expects. Pure.
 */
import { createHash } from "node:crypto";

/** A deterministic dummy artifact: SHA-256 of `<label>:<i>` for i = 0, 1, ... truncated to `size` bytes. */
export function dummyArtifact(label: string, size: number): Buffer {
  if (!Number.isInteger(size) || size < 0)
    throw new TypeError(`dummyArtifact: size must be a non-negative integer, got ${size}`);
  const out = Buffer.alloc(size);
  for (let i = 0, offset = 0; offset < size; i++, offset += 32) {
    createHash("sha256").update(`${label}:${i}`).digest().copy(out, offset);
  }
  return out;
}

/** The dev stack's guest artifacts: artifact name -> label and size (see `stacks/Pulumi.dev.yaml`). */
export const DEV_GUEST_ARTIFACTS = {
  "kernel-dev": { label: "snp-measure/kernel-a", size: 524_309 },
  "initrd-dev": { label: "snp-measure/initrd-a", size: 131_101 },
} as const;
