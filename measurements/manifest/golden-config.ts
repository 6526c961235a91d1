/**
 * The dedicated golden config format: a small YAML or JSON file for teams that compute manifests
 * without a Pulumi stack. Same vocabulary as the stack config; artifact paths are relative to the
 * config file. Parsed strictly (unknown keys rejected), every problem reported at once.
 *
 * ```yaml
 * release: 2026.11.0
 * environment: prod
 * createdAt: 2026-11-02T10:00:00Z   # optional: the release time (else --created-at, SOURCE_DATE_EPOCH, now)
 * artifacts:
 *   ovmf: { kind: firmware, sha256: 3e4f…, size: 4194304, source: "debian:ovmf-amdsev=2026.08+ds-2", path: OVMF.amdsev.fd }
 *   kernel: { kind: kernel, sha256: 1258…, size: 524309, source: "build 4711" }
 * launchShapes:
 *   - { name: small, firmware: ovmf, kernel: kernel, cmdline: "console=ttyS0", vcpus: 4, vcpuType: EPYC-v4 }
 * tcbFloors:
 *   Genoa: { bootloader: 10, tee: 0, snp: 23, microcode: 84 }
 * ```
 */
import { z } from "zod";
import { hexInteger } from "./hex-integer.js";
import { VCPU_TYPES } from "../snp/index.js";
import { problemCount } from "../../core/index.js";
import { ManifestError } from "./errors.js";
import type { GoldenSource } from "./inputs.js";
import { encodeGuestPolicy } from "./policy.js";
import { CREATED_AT_PATTERN, NAME_PATTERN, RELEASE_PATTERN } from "./schema.js";
import { issueMessage, schemaProblems } from "./validate.js";
import { ARTIFACT_KINDS, ENVIRONMENTS, LAUNCH_MODES, SNP_PRODUCTS, VMM_TYPES } from "./types.js";

const name = z
  .string()
  .regex(NAME_PATTERN, { message: "invalid name (lower-case letters, digits, '.', '_', '-'; at most 63)" });
const svn = z.number().int().min(0).max(255);
const tcb = z.strictObject({ bootloader: svn, tee: svn, snp: svn, microcode: svn, fmc: svn.optional() });
const hexList = (chars: number) =>
  z
    .array(
      z.string().regex(new RegExp(`^[0-9a-f]{${chars}}$`), { message: `must be ${chars} lower-case hex characters` }),
    )
    .min(1)
    .optional();

const goldenConfigSchema = z.strictObject({
  release: z
    .string()
    .regex(RELEASE_PATTERN, { message: "must be a release id (letters, digits, '.', '_', '-'; at most 64)" }),
  environment: z.enum(ENVIRONMENTS),
  createdAt: z
    .string()
    .regex(CREATED_AT_PATTERN, { message: "must be an ISO 8601 UTC time with second precision (2026-11-02T10:00:00Z)" })
    .optional(),
  artifacts: z.record(
    name,
    z.strictObject({
      kind: z.enum(ARTIFACT_KINDS),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/, { message: "must be a lower-case hex SHA-256 digest (64 characters)" }),
      size: z.number().int().positive(),
      source: z.string().min(1),
      path: z.string().min(1).optional(),
    }),
  ),
  launchShapes: z
    .array(
      z.strictObject({
        name,
        mode: z.enum(LAUNCH_MODES).default("snp"),
        firmware: name,
        kernel: name.optional(),
        initrd: name.optional(),
        cmdline: z.string().max(4095).optional(),
        svsm: name.optional(),
        varsSize: z.number().int().positive().optional(),
        vcpus: z.number().int().min(1).max(512),
        vcpuType: z.enum(VCPU_TYPES).optional(),
        vcpuSig: hexInteger(32).optional(),
        guestFeatures: hexInteger(64).default(1n),
        vmmType: z.enum(VMM_TYPES).default("QEMU"),
        hostData: z
          .string()
          .regex(/^[0-9a-fA-F]{64}$/, { message: "must be 64 hex characters (a HOST_DATA value)" })
          .optional(),
        policy: z
          .strictObject({
            debug: z.boolean().default(false),
            migrateMa: z.boolean().default(false),
            smt: z.boolean().default(true),
            singleSocket: z.boolean().default(false),
            abiMajor: z.number().int().min(0).max(255).default(0),
            abiMinor: z.number().int().min(0).max(255).default(0),
          })
          .prefault({}),
      }),
    )
    .min(1),
  tcbFloors: z.partialRecord(z.enum(SNP_PRODUCTS), tcb).default({}),
  chipAllowlist: hexList(128),
  hostData: hexList(64),
  idKeyDigests: hexList(96),
});

/**
 * Parses a dedicated golden config (the decoded YAML/JSON document).
 * @throws ManifestError `GOLDEN_CONFIG_INVALID` listing every problem.
 */
export function parseGoldenConfig(document: unknown): GoldenSource {
  const result = goldenConfigSchema.safeParse(document, { error: issueMessage });
  if (!result.success) {
    const problems = schemaProblems(result.error);
    throw new ManifestError("GOLDEN_CONFIG_INVALID", `invalid golden config (${problemCount(problems)}):`, {
      problems,
    });
  }
  const c = result.data;
  const paths: Record<string, string> = {};
  for (const [artifact, a] of Object.entries(c.artifacts)) if (a.path !== undefined) paths[artifact] = a.path;
  return {
    inputs: {
      release: c.release,
      environment: c.environment,
      artifacts: Object.fromEntries(
        Object.entries(c.artifacts).map(([n, a]) => [
          n,
          { kind: a.kind, sha256: a.sha256, size: a.size, source: a.source },
        ]),
      ),
      launchShapes: c.launchShapes.map(({ policy, vcpuSig, ...shape }) => ({
        ...shape,
        ...(vcpuSig === undefined ? {} : { vcpuSig: Number(vcpuSig) }),
        policy: encodeGuestPolicy(policy),
      })),
      tcbFloors: c.tcbFloors,
      ...(c.chipAllowlist === undefined ? {} : { chipAllowlist: c.chipAllowlist }),
      ...(c.hostData === undefined ? {} : { hostData: c.hostData }),
      ...(c.idKeyDigests === undefined ? {} : { idKeyDigests: c.idKeyDigests }),
    },
    paths,
    ...(c.createdAt === undefined ? {} : { createdAt: new Date(c.createdAt) }),
  };
}
