/** Module face of `components`: everything other modules may import from it. */
export { type PinnedArtifact } from "./artifacts.js";
export { ConfidentialVm } from "./cvm/confidential-vm.js";
export {
  COMPONENT_ERROR_CODES,
  COMPONENT_ERROR_MEANINGS,
  ComponentError,
  type ComponentErrorCode,
  isComponentError,
} from "./errors.js";
export { type HostInventory } from "./host/inventory.js";
export { SevSnpHost } from "./host/sev-snp-host.js";
export { InferenceService } from "./inference/inference-service.js";
export { KeyService } from "./keys/key-service.js";
export { LABEL, WORKLOADS } from "./labels.js";
export { GoldenMeasurements } from "./measurements/golden-measurements.js";
export { memoizeCalculator } from "./measurements/memo.js";
export { allowedFlows, formatFlow } from "./network/flows.js";
export { K8S_TYPES, networkModel } from "./network/model.js";
export { Segmentation } from "./network/segmentation.js";
