/**
 * Golden inputs from a stack's validated config (`stacks/config-parse.ts`): the release, every
 * pinned artifact, every launch shape (guest policy encoded as SNP_LAUNCH_START receives it), the
 * TCB floors, the chip allowlist and the release time (`golden.releasedAt`). Pure; the stack config is already validated.
 */
import type { StackConfig } from "./config-schema.js";
import { stackInitData } from "./initdata.js";
import {
  type GoldenSource,
  type LaunchShapeSpec,
  encodeGuestPolicy,
  type ArtifactPin,
} from "../measurements/manifest/index.js";

/**
 * Maps a stack config to golden inputs and artifact paths.
 * @example const { inputs, paths } = goldenSourceFromStackConfig(parseStackConfig(raw, secretKeys).config);
 */
export function goldenSourceFromStackConfig(config: StackConfig): GoldenSource {
  const artifacts: Record<string, ArtifactPin> = {};
  const paths: Record<string, string> = {};
  for (const [name, a] of Object.entries(config.artifacts)) {
    artifacts[name] = { kind: a.kind, sha256: a.sha256, size: a.size, source: a.source };
    if (a.path !== undefined) paths[name] = a.path;
  }
  const podHostData = stackInitData(config)?.hostData;
  const launchShapes: LaunchShapeSpec[] = config.launchShapes.map((s) => ({
    name: s.name,
    mode: "snp",
    firmware: s.firmware,
    ...(s.kernel === undefined ? {} : { kernel: s.kernel }),
    ...(s.initrd === undefined ? {} : { initrd: s.initrd }),
    ...(s.cmdline === undefined ? {} : { cmdline: s.cmdline }),
    vcpus: s.vcpus,
    vcpuType: s.vcpuType,
    guestFeatures: s.guestFeatures,
    vmmType: s.vmmType,
    policy: encodeGuestPolicy(s.policy),
    ...(s.hostData === undefined ? {} : { hostData: s.hostData }),
    // The Kata guest of the confidential pods: HOST_DATA binds their initdata (image, command, policy).
    ...(podHostData !== undefined && s.name === config.inference.launchShape ? { hostData: podHostData } : {}),
  }));
  const chipAllowlist = config.attestation.chipAllowlist;
  return {
    inputs: {
      release: config.release,
      environment: config.environment,
      artifacts,
      launchShapes,
      tcbFloors: config.attestation.tcbFloors,
      ...(chipAllowlist === undefined ? {} : { chipAllowlist }),
    },
    paths,
    createdAt: new Date(config.golden.releasedAt),
  };
}
