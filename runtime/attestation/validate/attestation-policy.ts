/**
 * The appraisal policy for SEV-SNP evidence: which roots to trust and what an authentic report must
 * say. JSON form (for `attestctl verify snp --policy FILE` and the key broker's config) is parsed
 * strictly by {@link attestationPolicySchema} (unknown keys refused); every absent value has the default
 * documented on its field.
 */
import { z } from "zod";
import { formatProblems, problemCount, problemsFromIssues } from "../../../core/index.js";
import { AttestationError } from "../errors.js";
import { ROOT_IDS } from "../verify/trust.js";

const hex = (chars: number, what: string) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${chars}}$`), `${what}: ${chars} lower-case hex characters`);
const svn = z.number().int().min(0).max(255);
const tcbFloor = z.strictObject({ bootloader: svn, tee: svn, snp: svn, microcode: svn, fmc: svn.optional() });
const sortedUnique = <T extends z.ZodType<string>>(item: T) =>
  z.array(item).refine((a) => new Set(a).size === a.length, "values must be unique");

/** zod schema of the policy JSON; `parseAttestationPolicy` wraps it with field-path errors. */
export const attestationPolicySchema = z.strictObject({
  /** Trust roots (stack config `attestation.allowedRoots`). Default: the three AMD roots, never `simulated`. */
  allowedRoots: z.array(z.enum(ROOT_IDS)).min(1).default(["amd-milan", "amd-genoa", "amd-turin"]),
  /** Allowed MEASUREMENTs (96 hex). Absent: only the golden manifest set (if given) decides. */
  measurements: sortedUnique(hex(96, "measurement")).optional(),
  /** Minimum REPORTED_TCB per product line, per component. Absent product: no floor. */
  tcbFloors: z
    .strictObject({ Milan: tcbFloor.optional(), Genoa: tcbFloor.optional(), Turin: tcbFloor.optional() })
    .default({}),
  /** POLICY flag bits (16..63) a report may have set, `0x` hex (golden manifest `allowedPolicyBits`). Absent: not checked. */
  allowedPolicyBits: z
    .string()
    .regex(/^0x[0-9a-f]+$/, "allowedPolicyBits: 0x-prefixed lower-case hex")
    .optional(),
  /** Accept POLICY.DEBUG (default false). */
  allowDebug: z.boolean().default(false),
  /** Accept POLICY.MIGRATE_MA (default false). */
  allowMigrationAgent: z.boolean().default(false),
  /** Require POLICY.SMT = 0, i.e. the guest forbade SMT (default false: SMT allowed). */
  requireSmtDisabled: z.boolean().default(false),
  /** Other guest-policy requirements (default: none). */
  guestPolicy: z
    .strictObject({
      requireSingleSocket: z.boolean().default(false),
      requireMemAes256Xts: z.boolean().default(false),
      requireRaplDisabled: z.boolean().default(false),
      requireCiphertextHiding: z.boolean().default(false),
      requirePageSwapDisable: z.boolean().default(false),
      /** Accept POLICY.CXL_ALLOW (default true). */
      allowCxl: z.boolean().default(true),
      /** Minimum ABI the guest demanded (POLICY bits 15:0), as major/minor (default 0.0). */
      minAbiMajor: svn.default(0),
      minAbiMinor: svn.default(0),
    })
    .default({
      requireSingleSocket: false,
      requireMemAes256Xts: false,
      requireRaplDisabled: false,
      requireCiphertextHiding: false,
      requirePageSwapDisable: false,
      allowCxl: true,
      minAbiMajor: 0,
      minAbiMinor: 0,
    }),
  /** Highest VMPL a report may come from (default 0). */
  maxVmpl: z.number().int().min(0).max(3).default(0),
  /** Minimum GUEST_SVN (default 0). */
  minGuestSvn: z.number().int().min(0).max(0xffffffff).default(0),
  /** Accepted HOST_DATA values (64 hex). Absent: not checked. */
  hostData: sortedUnique(hex(64, "hostData")).optional(),
  /** Trusted ID_KEY_DIGESTs (96 hex). Absent: not checked. */
  idKeyDigests: sortedUnique(hex(96, "idKeyDigest")).optional(),
  /** Trusted AUTHOR_KEY_DIGESTs (96 hex); when present AUTHOR_KEY_EN must be set. Absent: not checked. */
  authorKeyDigests: sortedUnique(hex(96, "authorKeyDigest")).optional(),
  /** Exact FAMILY_ID / IMAGE_ID (32 hex). Absent: not checked. */
  familyId: hex(32, "familyId").optional(),
  imageId: hex(32, "imageId").optional(),
  /** Exact REPORT_DATA (128 hex); the caller's expected binding takes precedence. Absent: not checked. */
  reportData: hex(128, "reportData").optional(),
  /** Accepted CHIP_IDs (128 hex; a Turin id may be given as its 16 significant hex). Absent: any chip. */
  chipAllowlist: sortedUnique(
    z.string().regex(/^([0-9a-f]{128}|[0-9a-f]{16})$/, "chip id: 128 (or 16 for Turin) lower-case hex characters"),
  ).optional(),
  /** PLATFORM_INFO requirements (default: none). */
  platformInfo: z
    .strictObject({
      requireAliasCheckComplete: z.boolean().default(false),
      requireEcc: z.boolean().default(false),
      requireTsme: z.boolean().default(false),
      requireSmtDisabled: z.boolean().default(false),
      requireCiphertextHiding: z.boolean().default(false),
      requireRaplDisabled: z.boolean().default(false),
      forbidTio: z.boolean().default(false),
      /** Refuse bits 63:8 (undefined by the specification we know). Default false. */
      forbidUnknownBits: z.boolean().default(false),
    })
    .default({
      requireAliasCheckComplete: false,
      requireEcc: false,
      requireTsme: false,
      requireSmtDisabled: false,
      requireCiphertextHiding: false,
      requireRaplDisabled: false,
      forbidTio: false,
      forbidUnknownBits: false,
    }),
  /** Minimum current SNP firmware version. Absent: not checked. */
  minFirmware: z.strictObject({ major: svn, minor: svn, build: svn.default(0) }).optional(),
  /** Accept COMMITTED_TCB / committed version below the current ones (default false). */
  permitProvisionalFirmware: z.boolean().default(false),
});

/** The policy JSON before defaults (what a file may contain). */
export type SnpAttestationPolicyInput = z.input<typeof attestationPolicySchema>;
/** The policy with every default applied. */
export type SnpAttestationPolicy = z.output<typeof attestationPolicySchema>;

/** The production default: AMD roots only, no debug, no migration agent, VMPL 0, nothing else required. */
export function defaultAttestationPolicy(): SnpAttestationPolicy {
  return attestationPolicySchema.parse({});
}

/**
 * Parses a policy (a JSON value); every problem is reported at once with its field path.
 * @throws AttestationError `POLICY_INVALID` whose message lists `path: problem` lines.
 * @example parseAttestationPolicy(JSON.parse(readFileSync("policy.json", "utf8"))).maxVmpl // 0
 */
export function parseAttestationPolicy(value: unknown): SnpAttestationPolicy {
  const r = attestationPolicySchema.safeParse(value);
  if (r.success) return r.data;
  const problems = problemsFromIssues(r.error.issues, { prefix: "policy" });
  throw new AttestationError(
    "POLICY_INVALID",
    `invalid attestation policy (${problemCount(problems)}):\n${formatProblems(problems, "\n")}`,
    { path: "policy", problems },
  );
}

/** Keys of the deployment's `verifierPolicy` output (components/measurements) that are not appraisal rules. */
const DEPLOYMENT_KEYS = [
  "schemaVersion",
  "release",
  "environment",
  "collateral",
  "failOpenOnCollateral",
  "manifestSigningKey",
] as const;

/**
 * The appraisal policy inside the stack's `verifierPolicy` output (GoldenMeasurements): the
 * deployment-only keys (schema version, release, environment, collateral mode, fail-open flag,
 * manifest signing key) are set aside, the rest is parsed strictly by {@link parseAttestationPolicy}.
 * @throws AttestationError `POLICY_INVALID`.
 */
export function attestationPolicyFromVerifierPolicy(
  verifierPolicy: Readonly<Record<string, unknown>>,
): SnpAttestationPolicy {
  const rules = Object.fromEntries(
    Object.entries(verifierPolicy).filter(([k]) => !(DEPLOYMENT_KEYS as readonly string[]).includes(k)),
  );
  return parseAttestationPolicy(rules);
}
