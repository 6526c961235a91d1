/**
 * The strict zod schema of a golden manifest: unknown keys are rejected at every level, hex values
 * must be in canonical form, so a manifest has exactly one valid spelling (which keeps the
 * canonical bytes, and therefore signatures and diffs, stable). Cross-field rules live in `validate.ts`.
 */
import { z } from "zod";
import { VCPU_TYPES } from "../snp/index.js";
import {
  ARTIFACT_KINDS,
  ENVIRONMENTS,
  LAUNCH_MODES,
  MANIFEST_SCHEMA_VERSION,
  MANIFEST_STATUSES,
  SNP_PRODUCTS,
  VMM_TYPES,
  type GoldenManifest,
} from "./types.js";

/** Artifact and launch-shape names: lower-case letters, digits, `.`, `_`, `-`; at most 63. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const NAME_MESSAGE = "invalid name (lower-case letters, digits, '.', '_', '-'; at most 63)";
/** Release ids: as the stack config's `release`. */
export const RELEASE_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/;
/** ISO 8601 UTC timestamp with second precision. */
export const CREATED_AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Printable text: no control characters, no lone surrogates. */
const TEXT_PATTERN = /^[^\p{Cc}\p{Cs}]*$/u;

function lowerHex(bytes: number, what: string) {
  return z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), {
    message: `must be ${what}: ${bytes * 2} lower-case hex characters`,
  });
}

function canonicalHex(bits: number) {
  const digits = bits / 4;
  return z.string().regex(new RegExp(`^0x(0|[1-9a-f][0-9a-f]{0,${digits - 1}})$`), {
    message: `must be a ${bits}-bit unsigned integer in canonical hex ("0x" + lower-case digits, no leading zeros)`,
  });
}

const sha256 = lowerHex(32, "a SHA-256 digest");
const name = z.string().regex(NAME_PATTERN, { message: NAME_MESSAGE });
const svn = z.number().int().min(0).max(255);

const artifactPin = z.strictObject({
  kind: z.enum(ARTIFACT_KINDS),
  sha256,
  size: z.number().int().positive({ message: "must be a positive size in bytes" }).max(Number.MAX_SAFE_INTEGER),
  source: z.string().min(1).max(1024).regex(TEXT_PATTERN, { message: "must be printable text" }),
});

const launchInputs = z.strictObject({
  mode: z.enum(LAUNCH_MODES),
  firmware: name,
  kernel: name.optional(),
  initrd: name.optional(),
  cmdline: z
    .string()
    .max(4095, { message: "kernel command line longer than 4095 bytes" })
    .regex(TEXT_PATTERN, { message: "must be printable text (no control characters)" })
    .optional(),
  svsm: name.optional(),
  varsSize: z.number().int().positive({ message: "must be a positive size in bytes" }).max(0xffff_ffff).optional(),
  vcpus: z
    .number()
    .int()
    .min(1, { message: "must be between 1 and 512 vCPUs" })
    .max(512, { message: "must be between 1 and 512 vCPUs" }),
  vcpuType: z.enum(VCPU_TYPES).optional(),
  vcpuSig: canonicalHex(32).optional(),
  guestFeatures: canonicalHex(64),
  vmmType: z.enum(VMM_TYPES),
  policy: canonicalHex(64),
});

const launchShape = z.strictObject({
  inputs: launchInputs,
  measurement: lowerHex(48, "a SHA-384 launch measurement"),
  hostData: lowerHex(32, "a HOST_DATA value").optional(),
});

const tcb = z.strictObject({ bootloader: svn, tee: svn, snp: svn, microcode: svn, fmc: svn.optional() });

function hexSet(bytes: number, what: string) {
  return z
    .array(lowerHex(bytes, what))
    .min(1, { message: "must not be empty (omit the key to accept any value)" })
    .optional();
}

/** The manifest schema (structure only). */
export const manifestSchema = z.strictObject({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION, {
    message: `unsupported schema version (expected ${MANIFEST_SCHEMA_VERSION})`,
  }),
  release: z
    .string()
    .regex(RELEASE_PATTERN, { message: "must be a release id (letters, digits, '.', '_', '-'; at most 64)" }),
  environment: z.enum(ENVIRONMENTS),
  platform: z.literal("sev-snp", { message: 'must be "sev-snp"' }),
  createdAt: z.string().regex(CREATED_AT_PATTERN, {
    message: "must be an ISO 8601 UTC time with second precision (2026-11-02T10:00:00Z)",
  }),
  status: z.enum(MANIFEST_STATUSES),
  artifacts: z
    .record(name, artifactPin)
    .refine((r) => Object.keys(r).length > 0, { message: "must pin at least one artifact" }),
  launchShapes: z
    .record(name, launchShape)
    .refine((r) => Object.keys(r).length > 0, { message: "must define at least one launch shape" }),
  tcbFloors: z.partialRecord(z.enum(SNP_PRODUCTS), tcb),
  allowedPolicyBits: canonicalHex(64),
  chipAllowlist: hexSet(64, "a CHIP_ID"),
  hostData: hexSet(32, "a HOST_DATA value"),
  idKeyDigests: hexSet(48, "an ID_KEY_DIGEST (SHA-384)"),
});

// Compile-time check that the schema's output is exactly the documented type.
type SchemaOutput = z.output<typeof manifestSchema>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _schemaMatchesType: Same<DeepWritable<GoldenManifest>, SchemaOutput> = true;
type DeepWritable<T> = T extends readonly (infer U)[]
  ? DeepWritable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: DeepWritable<T[K]> }
    : T;
