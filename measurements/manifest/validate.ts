/**
 * Strict parsing and validation of golden manifests. `validateManifest` reports every problem at
 * once with its field path; `parseManifest` throws a `ManifestError` carrying the same list.
 */
import type { z } from "zod";
import { problemCount, problemsFromIssues, sortProblems } from "../../core/index.js";
import { ManifestError, type ManifestProblem } from "./errors.js";
import { POLICY_ABI_MASK, POLICY_MUST_BE_ONE, POLICY_RESERVED_MASK, fromHex, policyFlagBits } from "./policy.js";
import { CREATED_AT_PATTERN, manifestSchema } from "./schema.js";
import type { ArtifactKind, GoldenManifest, LaunchInputs } from "./types.js";

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

const NOUN: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
  record: "an object",
};

/** Our wording for issues whose schema does not carry its own message (a zod error map). */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.input === undefined && issue.code === "invalid_type") return "required";
  switch (issue.code) {
    case "invalid_type":
      return `expected ${NOUN[issue.expected] ?? issue.expected}, got ${describeType(issue.input)}`;
    case "invalid_value":
      return `must be one of: ${issue.values.map(String).join(", ")}`;
    case "too_small":
      return issue.origin === "string" ? "must not be empty" : `must be >= ${issue.minimum}`;
    case "too_big":
      return issue.origin === "string" ? `must be at most ${issue.maximum} characters` : `must be <= ${issue.maximum}`;
    default:
      return undefined;
  }
}

/** Converts zod issues to field-path problems (unknown keys one per key; the root is ``), sorted by path. */
export function schemaProblems(error: z.ZodError): ManifestProblem[] {
  return problemsFromIssues(error.issues, { root: "" });
}

/** Adds a problem when `ref` names no artifact, or one of another kind. */
export function checkArtifactRef(
  artifacts: GoldenManifest["artifacts"],
  path: string,
  ref: string | undefined,
  kind: ArtifactKind,
  problems: ManifestProblem[],
): void {
  if (ref === undefined) return;
  const artifact = Object.hasOwn(artifacts, ref) ? artifacts[ref] : undefined;
  if (artifact === undefined) problems.push({ path, message: `unknown artifact "${ref}"` });
  else if (artifact.kind !== kind)
    problems.push({ path, message: `artifact "${ref}" is a ${artifact.kind}, expected a ${kind}` });
}

function shapeRules(
  m: GoldenManifest,
  shapeName: string,
  inputs: LaunchInputs,
  allowed: bigint,
  problems: ManifestProblem[],
): void {
  const base = `launchShapes.${shapeName}.inputs`;
  checkArtifactRef(m.artifacts, `${base}.firmware`, inputs.firmware, "firmware", problems);
  checkArtifactRef(m.artifacts, `${base}.kernel`, inputs.kernel, "kernel", problems);
  checkArtifactRef(m.artifacts, `${base}.initrd`, inputs.initrd, "initrd", problems);
  checkArtifactRef(m.artifacts, `${base}.svsm`, inputs.svsm, "svsm", problems);
  if (inputs.kernel === undefined && inputs.initrd !== undefined)
    problems.push({ path: `${base}.initrd`, message: "an initrd needs a kernel (direct boot)" });
  if (inputs.kernel === undefined && inputs.cmdline !== undefined)
    problems.push({ path: `${base}.cmdline`, message: "a cmdline needs a kernel (direct boot)" });
  if (inputs.mode === "snp:svsm") {
    if (inputs.svsm === undefined) problems.push({ path: `${base}.svsm`, message: "required in mode snp:svsm" });
    if (inputs.varsSize === undefined)
      problems.push({ path: `${base}.varsSize`, message: "required in mode snp:svsm" });
  } else {
    if (inputs.svsm !== undefined) problems.push({ path: `${base}.svsm`, message: `only allowed in mode snp:svsm` });
    if (inputs.varsSize !== undefined)
      problems.push({ path: `${base}.varsSize`, message: `only allowed in mode snp:svsm` });
  }
  if (inputs.vmmType === "QEMU" && inputs.vcpuType === undefined && inputs.vcpuSig === undefined)
    problems.push({ path: `${base}.vcpuSig`, message: "vcpuType or vcpuSig is required with vmmType QEMU" });
  const policy = fromHex(inputs.policy);
  if ((policy & POLICY_MUST_BE_ONE) === 0n)
    problems.push({ path: `${base}.policy`, message: "bit 17 (reserved) must be 1" });
  if ((policy & POLICY_RESERVED_MASK) !== 0n)
    problems.push({ path: `${base}.policy`, message: "bits 26..63 are reserved and must be 0" });
  const extra = policyFlagBits(policy) & ~allowed & ~POLICY_RESERVED_MASK & ~POLICY_MUST_BE_ONE;
  if (extra !== 0n)
    problems.push({
      path: `${base}.policy`,
      message: `sets flag bits 0x${extra.toString(16)} that allowedPolicyBits does not allow`,
    });
}

function sortedUnique(values: readonly string[] | undefined, path: string, problems: ManifestProblem[]): void {
  if (values === undefined) return;
  for (let i = 1; i < values.length; i++) {
    const prev = values[i - 1] as string;
    const cur = values[i] as string;
    if (cur === prev) problems.push({ path: `${path}[${i}]`, message: "duplicate value" });
    else if (cur < prev) problems.push({ path: `${path}[${i}]`, message: "must be sorted in ascending order" });
  }
}

/** Cross-field rules of a structurally valid manifest. */
function manifestRules(m: GoldenManifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  if (
    CREATED_AT_PATTERN.test(m.createdAt) &&
    new Date(m.createdAt).toISOString() !== m.createdAt.replace("Z", ".000Z")
  ) {
    problems.push({ path: "createdAt", message: "not a real calendar time" });
  }
  const allowed = fromHex(m.allowedPolicyBits);
  if ((allowed & POLICY_MUST_BE_ONE) === 0n)
    problems.push({ path: "allowedPolicyBits", message: "must include bit 17 (0x20000)" });
  if ((allowed & POLICY_ABI_MASK) !== 0n)
    problems.push({ path: "allowedPolicyBits", message: "bits 0..15 hold the ABI version, not flags: must be 0" });
  if ((allowed & POLICY_RESERVED_MASK) !== 0n)
    problems.push({ path: "allowedPolicyBits", message: "bits 26..63 are reserved and must be 0" });
  for (const [shapeName, shape] of Object.entries(m.launchShapes))
    shapeRules(m, shapeName, shape.inputs, allowed, problems);
  sortedUnique(m.chipAllowlist, "chipAllowlist", problems);
  sortedUnique(m.hostData, "hostData", problems);
  sortedUnique(m.idKeyDigests, "idKeyDigests", problems);
  return problems;
}

/** Sorts problems by path, then message. */
/**
 * Validates a parsed JSON value as a golden manifest.
 *
 * Structure is checked first (types, unknown keys, formats); cross-field rules (artifact
 * references and kinds, direct-boot and SVSM rules, policy bits, sorted allowlists, real dates)
 * run once the structure is valid, so a structurally broken manifest lists structural problems only.
 *
 * @returns every problem, sorted by path; empty when the manifest is valid.
 * @example
 * validateManifest(JSON.parse(text)) // [{ path: "launchShapes.small.inputs.kernel", message: 'unknown artifact "k"' }]
 */
export function validateManifest(value: unknown): ManifestProblem[] {
  const result = manifestSchema.safeParse(value, { error: issueMessage });
  if (!result.success) return schemaProblems(result.error);
  return sortProblems(manifestRules(result.data));
}

/**
 * Parses a manifest from an already-decoded JSON value.
 * @throws ManifestError `MANIFEST_INVALID` with every problem.
 */
export function manifestFromJson(value: unknown): GoldenManifest {
  const result = manifestSchema.safeParse(value, { error: issueMessage });
  const problems = result.success ? manifestRules(result.data) : schemaProblems(result.error);
  if (!result.success || problems.length > 0) {
    throw new ManifestError("MANIFEST_INVALID", `invalid golden manifest (${problemCount(problems)}):`, {
      problems: sortProblems(problems),
    });
  }
  return result.data;
}

/**
 * Parses a manifest from its JSON text or UTF-8 bytes (any formatting; see `canonicalManifestBytes`).
 * @throws ManifestError `MANIFEST_MALFORMED` (not UTF-8 JSON) or `MANIFEST_INVALID`.
 * @example const manifest = parseManifest(readFileSync("stacks/golden/dev.json"));
 */
export function parseManifest(input: string | Uint8Array): GoldenManifest {
  let text: string;
  if (typeof input === "string") text = input;
  else if (input instanceof Uint8Array) {
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(input);
    } catch (cause) {
      throw new ManifestError("MANIFEST_MALFORMED", "reading golden manifest: not valid UTF-8", { cause });
    }
  } else throw new TypeError("parseManifest expects a string or a Uint8Array");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ManifestError("MANIFEST_MALFORMED", `reading golden manifest: not JSON (${(cause as Error).message})`, {
      cause,
    });
  }
  return manifestFromJson(value);
}
