/**
 * Compares two golden manifests (old -> new), as a pull request changes them: what changed, which
 * measured inputs caused each measurement change, and what a reviewer must look at. Returns
 * `{ errors, warnings, changes }` and never throws on valid manifests. Pure.
 */
import {
  fromHex,
  SNP_PRODUCTS,
  type ArtifactPin,
  type GoldenManifest,
  type LaunchInputs,
  type LaunchShape,
  type SnpProduct,
} from "../manifest/index.js";
import { DRIFT_ERROR_SEVERITY, DriftError, type DriftErrorCode, type DriftFinding } from "./errors.js";
import { compareTcb } from "./tcb.js";
import type { TcbComponents } from "./types.js";

/** Inputs that enter the launch measurement. Artifacts count by digest, not by name. */
export const MEASURED_INPUTS = [
  "mode",
  "firmware",
  "kernel",
  "initrd",
  "cmdline",
  "svsm",
  "varsSize",
  "vcpus",
  "vcpuType",
  "vcpuSig",
  "guestFeatures",
  "vmmType",
] as const;
/** One measured input. */
export type MeasuredInput = (typeof MEASURED_INPUTS)[number];

/**
 * A launch shape that uses a changed artifact (by name, before or after), with its measurement
 * before and after (absent: no such shape). Listed only when the artifact's digest changed.
 */
export interface AffectedShape {
  readonly shape: string;
  readonly before?: string;
  readonly after?: string;
}

/** Scalar manifest fields a comparison reports. */
export type ManifestField =
  "schemaVersion" | "release" | "environment" | "platform" | "createdAt" | "status" | "allowedPolicyBits";
/** Set-valued manifest fields. */
export type ManifestSetField = "chipAllowlist" | "hostData" | "idKeyDigests";

/** One change between two manifests. */
export type ManifestChange =
  | {
      readonly kind: "field-changed";
      readonly field: ManifestField;
      readonly before: string | number;
      readonly after: string | number;
    }
  | {
      readonly kind: "artifact-added";
      readonly name: string;
      readonly after: ArtifactPin;
      readonly affected: readonly AffectedShape[];
    }
  | {
      readonly kind: "artifact-removed";
      readonly name: string;
      readonly before: ArtifactPin;
      readonly affected: readonly AffectedShape[];
    }
  | {
      readonly kind: "artifact-changed";
      readonly name: string;
      readonly before: ArtifactPin;
      readonly after: ArtifactPin;
      readonly fields: readonly (keyof ArtifactPin)[];
      readonly affected: readonly AffectedShape[];
    }
  | { readonly kind: "shape-added"; readonly name: string; readonly after: LaunchShape }
  | { readonly kind: "shape-removed"; readonly name: string; readonly before: LaunchShape }
  | {
      readonly kind: "shape-changed";
      readonly name: string;
      readonly before: LaunchShape;
      readonly after: LaunchShape;
      /** Measured inputs that differ (artifacts by digest): the causes of a measurement change. */
      readonly causes: readonly MeasuredInput[];
      /** Unmeasured inputs that differ: `policy`, or `<input>-name` when an artifact was renamed with the same digest. */
      readonly otherInputs: readonly string[];
      readonly measurementChanged: boolean;
    }
  | {
      readonly kind: "floor-changed";
      readonly product: SnpProduct;
      readonly before?: TcbComponents;
      readonly after?: TcbComponents;
    }
  | {
      readonly kind: "set-changed";
      readonly field: ManifestSetField;
      readonly added: readonly string[];
      readonly removed: readonly string[];
      readonly before?: readonly string[];
      readonly after?: readonly string[];
    };

/** The result of `compareManifests`. */
export interface ManifestComparison {
  /** The new manifest is wrong or not comparable with the old one. */
  readonly errors: readonly DriftFinding[];
  /** Legitimate changes a reviewer must look at. */
  readonly warnings: readonly DriftFinding[];
  /** Every change, in manifest order (fields, artifacts, shapes, floors, sets; names sorted). */
  readonly changes: readonly ManifestChange[];
}

const ARTIFACT_INPUTS = ["firmware", "kernel", "initrd", "svsm"] as const;

function sortedKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function get<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The value of each measured input, artifacts resolved to their digests; absent direct-boot parts are "". */
function measuredValues(m: GoldenManifest, inputs: LaunchInputs): Record<MeasuredInput, string> {
  const digest = (name: string | undefined) =>
    name === undefined ? "" : (get(m.artifacts, name)?.sha256 ?? `missing:${name}`);
  return {
    mode: inputs.mode,
    firmware: digest(inputs.firmware),
    kernel: digest(inputs.kernel),
    initrd: digest(inputs.initrd),
    cmdline: inputs.cmdline ?? "",
    svsm: digest(inputs.svsm),
    varsSize: inputs.varsSize === undefined ? "" : String(inputs.varsSize),
    vcpus: String(inputs.vcpus),
    vcpuType: inputs.vcpuType ?? "",
    vcpuSig: inputs.vcpuSig ?? "",
    guestFeatures: inputs.guestFeatures,
    vmmType: inputs.vmmType,
  };
}

function shapeDelta(
  oldM: GoldenManifest,
  newM: GoldenManifest,
  before: LaunchShape,
  after: LaunchShape,
): { causes: MeasuredInput[]; otherInputs: string[] } {
  const a = measuredValues(oldM, before.inputs);
  const b = measuredValues(newM, after.inputs);
  // With the CPUID signature recorded on both sides, the model name is a label: EPYC and EPYC-v4 share 0x800f12.
  const sigKnown = before.inputs.vcpuSig !== undefined && after.inputs.vcpuSig !== undefined;
  const causes = MEASURED_INPUTS.filter((k) => a[k] !== b[k] && !(k === "vcpuType" && sigKnown));
  const otherInputs: string[] = [];
  if (sigKnown && a.vcpuType !== b.vcpuType) otherInputs.push("vcpuType");
  for (const k of ARTIFACT_INPUTS)
    if (before.inputs[k] !== after.inputs[k] && a[k] === b[k]) otherInputs.push(`${k}-name`);
  if (before.inputs.policy !== after.inputs.policy) otherInputs.push("policy");
  if (before.hostData !== after.hostData) otherInputs.push("hostData");
  return { causes, otherInputs };
}

function affectedBy(oldM: GoldenManifest, newM: GoldenManifest, artifact: string): AffectedShape[] {
  const uses = (shape: LaunchShape | undefined) =>
    shape !== undefined && ARTIFACT_INPUTS.some((k) => shape.inputs[k] === artifact);
  const out: AffectedShape[] = [];
  for (const name of sortedKeys(oldM.launchShapes, newM.launchShapes)) {
    const before = get(oldM.launchShapes, name);
    const after = get(newM.launchShapes, name);
    if (!uses(before) && !uses(after)) continue;
    out.push({
      shape: name,
      ...(before === undefined ? {} : { before: before.measurement }),
      ...(after === undefined ? {} : { after: after.measurement }),
    });
  }
  return out;
}

function diffSet(
  field: ManifestSetField,
  before: readonly string[] | undefined,
  after: readonly string[] | undefined,
): ManifestChange | undefined {
  const b = new Set(before ?? []);
  const a = new Set(after ?? []);
  const added = [...a].filter((x) => !b.has(x)).sort();
  const removed = [...b].filter((x) => !a.has(x)).sort();
  if (added.length === 0 && removed.length === 0 && (before === undefined) === (after === undefined)) return undefined;
  return {
    kind: "set-changed",
    field,
    added,
    removed,
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after }),
  };
}

/**
 * Compares an old and a new manifest.
 * @returns every change, plus errors (not comparable, or measurements inconsistent with their
 *   inputs) and warnings (changes a reviewer must look at); see `DriftErrorCode`.
 * @example
 * const { errors, warnings, changes } = compareManifests(committed, recomputed);
 */
export function compareManifests(oldM: GoldenManifest, newM: GoldenManifest): ManifestComparison {
  const changes: ManifestChange[] = [];
  const findings: DriftFinding[] = [];
  const find = (code: DriftErrorCode, path: string, message: string) => findings.push({ code, path, message });

  for (const field of [
    "schemaVersion",
    "release",
    "environment",
    "platform",
    "createdAt",
    "status",
    "allowedPolicyBits",
  ] as const) {
    if (oldM[field] !== newM[field])
      changes.push({ kind: "field-changed", field, before: oldM[field], after: newM[field] });
  }
  if (oldM.platform !== newM.platform)
    find("PLATFORM_MISMATCH", "platform", `comparing a ${oldM.platform} manifest with a ${newM.platform} one`);
  if (oldM.environment !== newM.environment)
    find(
      "ENVIRONMENT_MISMATCH",
      "environment",
      `comparing a ${oldM.environment} manifest with a ${newM.environment} one`,
    );

  for (const name of sortedKeys(oldM.artifacts, newM.artifacts)) {
    const before = get(oldM.artifacts, name);
    const after = get(newM.artifacts, name);
    if (before === undefined && after !== undefined)
      changes.push({ kind: "artifact-added", name, after, affected: affectedBy(oldM, newM, name) });
    else if (after === undefined && before !== undefined)
      changes.push({ kind: "artifact-removed", name, before, affected: affectedBy(oldM, newM, name) });
    else if (before !== undefined && after !== undefined) {
      const fields = (["kind", "sha256", "size", "source"] as const).filter((k) => before[k] !== after[k]);
      if (fields.length === 0) continue;
      // Only new bytes can move a measurement; a new source or kind label alone cannot.
      const affected = fields.includes("sha256") ? affectedBy(oldM, newM, name) : [];
      changes.push({ kind: "artifact-changed", name, before, after, fields, affected });
      if (fields.includes("sha256") && !fields.includes("source")) {
        find(
          "ARTIFACT_REBUILT",
          `artifacts.${name}.sha256`,
          `digest changed but source is still "${after.source}": not a reproducible build, or different bytes under the same name`,
        );
      }
    }
  }

  for (const name of sortedKeys(oldM.launchShapes, newM.launchShapes)) {
    const before = get(oldM.launchShapes, name);
    const after = get(newM.launchShapes, name);
    if (before === undefined && after !== undefined) changes.push({ kind: "shape-added", name, after });
    else if (after === undefined && before !== undefined) changes.push({ kind: "shape-removed", name, before });
    else if (before !== undefined && after !== undefined) {
      const { causes, otherInputs } = shapeDelta(oldM, newM, before, after);
      const measurementChanged = before.measurement !== after.measurement;
      if (causes.length === 0 && otherInputs.length === 0 && !measurementChanged) continue;
      changes.push({ kind: "shape-changed", name, before, after, causes, otherInputs, measurementChanged });
      if (measurementChanged && causes.length === 0)
        find(
          "MEASUREMENT_UNEXPLAINED",
          `launchShapes.${name}.measurement`,
          "the measurement changed but none of its measured inputs did",
        );
      if (!measurementChanged && causes.length > 0)
        find(
          "MEASUREMENT_NOT_UPDATED",
          `launchShapes.${name}.measurement`,
          `${causes.join(", ")} changed but the measurement did not (stale or hand-edited manifest)`,
        );
    }
  }

  for (const product of SNP_PRODUCTS) {
    const before = oldM.tcbFloors[product];
    const after = newM.tcbFloors[product];
    if (before === undefined && after === undefined) continue;
    if (before !== undefined && after !== undefined) {
      const c = compareTcb(after, before);
      if (c.lower.length === 0 && c.higher.length === 0 && before.fmc === after.fmc) continue;
      if (c.lower.length > 0)
        find(
          "TCB_FLOOR_LOWERED",
          `tcbFloors.${product}`,
          `lowered ${c.lower.join(", ")}: hosts with older firmware are accepted again`,
        );
    } else if (after === undefined) {
      find("TCB_FLOOR_LOWERED", `tcbFloors.${product}`, `floor removed: ${product} hosts at any TCB are accepted`);
    }
    changes.push({
      kind: "floor-changed",
      product,
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after }),
    });
  }
  const widened = fromHex(newM.allowedPolicyBits) & ~fromHex(oldM.allowedPolicyBits);
  if (widened !== 0n) find("POLICY_WIDENED", "allowedPolicyBits", `now allows policy bits 0x${widened.toString(16)}`);

  for (const field of ["chipAllowlist", "hostData", "idKeyDigests"] as const) {
    const change = diffSet(field, oldM[field], newM[field]);
    if (change === undefined) continue;
    changes.push(change);
    if (oldM[field] !== undefined && newM[field] === undefined)
      find("ALLOWLIST_REMOVED", field, "removed: any value is accepted now");
  }

  const substantive = changes.some(
    (c) => c.kind !== "field-changed" || !["createdAt", "status", "release"].includes(c.field),
  );
  if (substantive && oldM.release === newM.release)
    find("RELEASE_NOT_BUMPED", "release", `content changed but the release is still ${newM.release}`);

  return {
    errors: findings.filter((f) => DRIFT_ERROR_SEVERITY[f.code] === "error"),
    warnings: findings.filter((f) => DRIFT_ERROR_SEVERITY[f.code] === "warning"),
    changes,
  };
}

/**
 * Throws when a comparison has errors (for pipelines that must stop).
 * @throws DriftError carrying every error; `code` is the first one's.
 */
export function assertNoDriftErrors(comparison: ManifestComparison): void {
  if (comparison.errors.length > 0) throw new DriftError(comparison.errors);
}
