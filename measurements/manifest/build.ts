/**
 * Builds a golden manifest from its inputs: checks the supplied artifact bytes against their pins,
 * computes each launch shape's measurement through an injected calculator, and derives the allowed
 * policy bits. Pure: bytes, time and the calculator come from the caller.
 */
import { createHash } from "node:crypto";
import { ManifestError, type ManifestProblem } from "./errors.js";
import type { GoldenInputs, LaunchShapeSpec } from "./inputs.js";
import { POLICY_MUST_BE_ONE, policyFlagBits, toCanonicalHex } from "./policy.js";
import type { GoldenManifest, LaunchShape, ManifestStatus } from "./types.js";
import { checkArtifactRef, manifestFromJson } from "./validate.js";

/**
 * One launch-digest computation. Firmware and SVSM images are measured page by page, so they come
 * as bytes; kernel and initrd enter only through their SHA-256 in the SEV hashes table.
 */
export interface LaunchDigestRequest {
  readonly shape: LaunchShapeSpec;
  readonly firmware: Uint8Array;
  readonly svsm?: Uint8Array;
  /** SHA-256 (hex) of the kernel; absent: no direct boot. */
  readonly kernelSha256?: string;
  /** SHA-256 (hex) of the initrd; absent with a kernel: the empty initrd. */
  readonly initrdSha256?: string;
}

/** The calculator's answer. */
export interface LaunchDigestResult {
  /** The launch measurement, 96 lower-case hex characters. */
  readonly measurement: string;
  /** CPUID signature the VMSAs carry (resolved from the vCPU type), recorded in the manifest. */
  readonly vcpuSig?: number;
}

/** Computes launch measurements (normally `snpLaunchDigest` over `measurements/snp`). Throws on bad input. */
export type LaunchDigestCalculator = (request: LaunchDigestRequest) => LaunchDigestResult;

/** Options of `buildManifest`. */
export interface BuildManifestOptions {
  /** Recorded as `createdAt` (truncated to whole seconds, UTC). */
  readonly createdAt: Date;
  readonly status: ManifestStatus;
  /** Bytes of the artifacts that are available, by name; each is checked against its pin. */
  readonly artifactBytes: ReadonlyMap<string, Uint8Array>;
  readonly calculator: LaunchDigestCalculator;
}

/** Returns a problem per supplied artifact whose bytes differ from its pin (size first, then sha256). */
export function checkArtifactBytes(
  inputs: Pick<GoldenInputs, "artifacts">,
  bytes: ReadonlyMap<string, Uint8Array>,
): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const [name, data] of [...bytes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const pin = Object.hasOwn(inputs.artifacts, name) ? inputs.artifacts[name] : undefined;
    if (pin === undefined) {
      problems.push({ path: `artifacts.${name}`, message: "bytes supplied for an artifact that is not pinned" });
      continue;
    }
    if (data.length !== pin.size)
      problems.push({
        path: `artifacts.${name}.size`,
        message: `pinned ${pin.size} bytes, the file has ${data.length}`,
      });
    const sha256 = createHash("sha256").update(data).digest("hex");
    if (sha256 !== pin.sha256)
      problems.push({ path: `artifacts.${name}.sha256`, message: `pinned ${pin.sha256}, the file has ${sha256}` });
  }
  return problems;
}

function toSeconds(date: Date): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new TypeError("createdAt must be a valid Date");
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function measureShape(
  inputs: GoldenInputs,
  shape: LaunchShapeSpec,
  options: BuildManifestOptions,
  problems: ManifestProblem[],
): LaunchShape | undefined {
  const base = `launchShapes.${shape.name}`;
  const firmware = options.artifactBytes.get(shape.firmware);
  if (firmware === undefined) {
    problems.push({
      path: `${base}.firmware`,
      message: `artifact "${shape.firmware}" needs a path: the launch digest hashes every firmware page`,
    });
  }
  const svsm = shape.svsm === undefined ? undefined : options.artifactBytes.get(shape.svsm);
  if (shape.svsm !== undefined && svsm === undefined)
    problems.push({
      path: `${base}.svsm`,
      message: `artifact "${shape.svsm}" needs a path: the launch digest hashes the SVSM image`,
    });
  if (firmware === undefined || (shape.svsm !== undefined && svsm === undefined)) return undefined;
  const pinOf = (name: string | undefined) =>
    name === undefined || !Object.hasOwn(inputs.artifacts, name) ? undefined : inputs.artifacts[name]?.sha256;
  let result: LaunchDigestResult;
  try {
    result = options.calculator({
      shape,
      firmware,
      ...(svsm === undefined ? {} : { svsm }),
      ...(shape.kernel === undefined ? {} : { kernelSha256: pinOf(shape.kernel) }),
      ...(shape.initrd === undefined ? {} : { initrdSha256: pinOf(shape.initrd) }),
    });
  } catch (cause) {
    throw new ManifestError(
      "MEASUREMENT_FAILED",
      `computing the measurement of launch shape ${shape.name}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const vcpuSig = shape.vcpuSig ?? result.vcpuSig;
  return {
    inputs: {
      mode: shape.mode ?? "snp",
      firmware: shape.firmware,
      ...(shape.kernel === undefined ? {} : { kernel: shape.kernel }),
      ...(shape.initrd === undefined ? {} : { initrd: shape.initrd }),
      ...(shape.cmdline === undefined ? {} : { cmdline: shape.cmdline }),
      ...(shape.svsm === undefined ? {} : { svsm: shape.svsm }),
      ...(shape.varsSize === undefined ? {} : { varsSize: shape.varsSize }),
      vcpus: shape.vcpus,
      ...(shape.vcpuType === undefined ? {} : { vcpuType: shape.vcpuType }),
      ...(vcpuSig === undefined ? {} : { vcpuSig: toCanonicalHex(BigInt(vcpuSig)) }),
      guestFeatures: toCanonicalHex(shape.guestFeatures ?? 1n),
      vmmType: shape.vmmType ?? "QEMU",
      policy: toCanonicalHex(shape.policy),
    },
    measurement: result.measurement,
    ...(shape.hostData === undefined ? {} : { hostData: shape.hostData.toLowerCase() }),
  };
}

/** Names unique, references resolve to artifacts of the right kind. */
function shapeProblems(inputs: GoldenInputs): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const seen = new Set<string>();
  for (const shape of inputs.launchShapes) {
    const base = `launchShapes.${shape.name}`;
    if (seen.has(shape.name))
      problems.push({ path: `${base}.name`, message: `duplicate launch shape "${shape.name}"` });
    seen.add(shape.name);
    checkArtifactRef(inputs.artifacts, `${base}.firmware`, shape.firmware, "firmware", problems);
    checkArtifactRef(inputs.artifacts, `${base}.kernel`, shape.kernel, "kernel", problems);
    checkArtifactRef(inputs.artifacts, `${base}.initrd`, shape.initrd, "initrd", problems);
    checkArtifactRef(inputs.artifacts, `${base}.svsm`, shape.svsm, "svsm", problems);
  }
  return problems;
}

function sortedSet(values: readonly string[] | undefined): string[] | undefined {
  return values === undefined ? undefined : [...new Set(values)].sort();
}

/**
 * Builds (and validates) the golden manifest of a release.
 *
 * `allowedPolicyBits` is the union of the shapes' policy flag bits (plus bit 17); allowlists are
 * sorted and de-duplicated; artifacts without bytes are recorded from their pins alone (kernel and
 * initrd need no bytes; firmware and SVSM images do).
 *
 * @throws ManifestError `ARTIFACT_MISMATCH` (every mismatching artifact listed),
 *   `GOLDEN_CONFIG_INVALID` (a firmware or SVSM image without bytes), `MEASUREMENT_FAILED` (the
 *   calculator refused a shape; cause forwarded) or `MANIFEST_INVALID`.
 * @example
 * const manifest = buildManifest(goldenInputsFromStackConfig(config), {
 *   createdAt: new Date("2026-11-02T10:00:00Z"), status: "pending", artifactBytes, calculator: snpLaunchDigest });
 */
export function buildManifest(inputs: GoldenInputs, options: BuildManifestOptions): GoldenManifest {
  const mismatches = checkArtifactBytes(inputs, options.artifactBytes);
  if (mismatches.length > 0) {
    throw new ManifestError(
      "ARTIFACT_MISMATCH",
      `artifact bytes do not match their pins (${mismatches.length} problem${mismatches.length === 1 ? "" : "s"}):`,
      { problems: mismatches },
    );
  }
  const problems = shapeProblems(inputs);
  if (problems.length > 0)
    throw new ManifestError("GOLDEN_CONFIG_INVALID", "cannot compute the golden manifest:", { problems });
  const launchShapes: Record<string, LaunchShape> = {};
  let allowed = POLICY_MUST_BE_ONE;
  for (const shape of inputs.launchShapes) {
    const measured = measureShape(inputs, shape, options, problems);
    if (measured !== undefined) launchShapes[shape.name] = measured;
    allowed |= policyFlagBits(shape.policy);
  }
  if (problems.length > 0)
    throw new ManifestError("GOLDEN_CONFIG_INVALID", "cannot compute the golden manifest:", { problems });
  const chipAllowlist = sortedSet(inputs.chipAllowlist);
  const hostData = sortedSet(inputs.hostData);
  const idKeyDigests = sortedSet(inputs.idKeyDigests);
  return manifestFromJson({
    schemaVersion: 1,
    release: inputs.release,
    environment: inputs.environment,
    platform: "sev-snp",
    createdAt: toSeconds(options.createdAt),
    status: options.status,
    artifacts: Object.fromEntries(
      Object.entries(inputs.artifacts).map(([name, pin]) => [
        name,
        { kind: pin.kind, sha256: pin.sha256, size: pin.size, source: pin.source },
      ]),
    ),
    launchShapes,
    tcbFloors: inputs.tcbFloors,
    allowedPolicyBits: toCanonicalHex(allowed),
    ...(chipAllowlist === undefined ? {} : { chipAllowlist }),
    ...(hostData === undefined ? {} : { hostData }),
    ...(idKeyDigests === undefined ? {} : { idKeyDigests }),
  });
}
