/**
 * Drift: how a new golden manifest differs from the old one (for pull requests), and how evidence
 * relates to the golden manifests (the drift class). Entry point of `measurements/drift`.
 *
 * @example
 * import { classifyDrift, compareManifests } from "../measurements/drift/index.js";
 * classifyDrift({ claims, evidenceValid: true, manifests, inventory }); // "ok"
 * compareManifests(before, after).errors; // []
 */
export { assessDrift, classifyDrift, type ClassifyDriftInput, type DriftAssessment } from "./classify.js";
export {
  MEASURED_INPUTS,
  assertNoDriftErrors,
  compareManifests,
  type AffectedShape,
  type ManifestChange,
  type ManifestComparison,
  type ManifestField,
  type ManifestSetField,
  type MeasuredInput,
} from "./compare.js";
export {
  DRIFT_ERROR_CODES,
  DRIFT_ERROR_MEANINGS,
  DRIFT_ERROR_SEVERITY,
  DriftError,
  type DriftErrorCode,
  type DriftFinding,
  isDriftError,
} from "./errors.js";
export { abbreviate, renderComparisonMarkdown } from "./markdown.js";
export {
  TCB_COMPONENTS,
  compareTcb,
  formatTcb,
  isAbove,
  isBelow,
  type TcbComparison,
  type TcbComponent,
} from "./tcb.js";
export {
  DRIFT_CLASSES,
  RELEASABLE_DRIFT_CLASSES,
  type DriftClass,
  type EvidenceClaims,
  type InventoryEntry,
  type PlatformInventory,
  type TcbComponents,
} from "./types.js";
