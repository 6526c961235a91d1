/** Module face of `runtime/simulators`: everything other modules may import from it. */
export { buildBundledModels } from "./models/index.js";
export { buildBundledChatModel, type ChatModelFile } from "./models/chat-model.js";
export { SENTIMENT_LABELS } from "./models/models.js";
export { type SimulatedEvidence, SimulatedSnp, type SimulatedSnpOptions } from "./snp/platform.js";
export { SIMULATED_DEFAULT_TCB, type SimulatedReportInput } from "./snp/report.js";
export { simulatedProvider, simulatedSnpEvidence } from "./snp/evidence-provider.js";
export {
  createSimulatedTdxPki,
  newAttestationKey,
  SIMULATED_QE,
  SIMULATED_TDX_FACTS,
  type SimulatedTdReport,
  type SimulatedTdxPki,
  type SimulatedTdxPlatformFacts,
  simulatedCollateral,
  simulatedTdxQuote,
} from "./tdx/index.js";
