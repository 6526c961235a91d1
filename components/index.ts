/**
 * Module face of `components`: everything other modules may import from it. It is also the
 * package's main export (`import { SevSnpHost } from "confidential-inference"`, see docs/build.md
 * and examples/pulumi-program), so the argument and output types of each component are exported too.
 */
export { type HostTarget, type PinnedArtifact } from "./artifacts.js";
export { ConfidentialVm, type ConfidentialVmArgs, type GuestShape } from "./cvm/confidential-vm.js";
export {
  COMPONENT_ERROR_CODES,
  COMPONENT_ERROR_MEANINGS,
  ComponentError,
  type ComponentErrorCode,
  isComponentError,
} from "./errors.js";
export { type HostInventory } from "./host/inventory.js";
export { SevSnpHost, type HostVcek, type QemuSetup, type SevSnpHostArgs, type SshAccess } from "./host/sev-snp-host.js";
export { InferenceService, type InferenceServiceArgs, type PinnedFile } from "./inference/inference-service.js";
export {
  KATA_INITDATA_ANNOTATION,
  type KataInitData,
  runtimeInitData,
  type RuntimeInitDataSpec,
} from "./inference/initdata.js";
export { RUNTIME_ARGS, RUNTIME_MOUNTS } from "./inference/workloads.js";
export { KeyService, type AttestationInputs, type HsmWiring, type KeyServiceArgs } from "./keys/key-service.js";
export { LABEL, WORKLOADS } from "./labels.js";
export { GoldenMeasurements, type GoldenMeasurementsArgs } from "./measurements/golden-measurements.js";
export { memoizeCalculator } from "./measurements/memo.js";
export { type AlertRuleGroup, Monitoring, type MonitoringArgs } from "./monitoring/monitoring.js";
export { type AttestationSettings, type VerifierPolicy } from "./measurements/verifier-policy.js";
export { allowedFlows, formatFlow } from "./network/flows.js";
export { K8S_TYPES, networkModel } from "./network/model.js";
export { type FlowPorts } from "./network/policies.js";
export { Segmentation, type SegmentationArgs } from "./network/segmentation.js";
