/** The simulated Intel TDX platform: Intel-shaped PKI and collateral with local keys, and byte-exact quotes. */
export {
  createSimulatedTdxPki,
  SIMULATED_QE,
  SIMULATED_TDX_FACTS,
  type SimulatedTdxPki,
  type SimulatedTdxPlatformFacts,
  signedCollateral,
  simulatedCollateral,
} from "./pki.js";
export { newAttestationKey, type SimulatedTdReport, simulatedTdxQuote } from "./quote.js";
