/** Module face of `runtime/attester`: everything other modules may import from it. */
export { configfsTsmProvider, configfsTsmTdxQuote } from "./evidence/configfs-tsm.js";
export { checkEvidenceRequest, type EvidenceProvider, snpBundle } from "./evidence/provider.js";
export { snpguestProvider } from "./evidence/snpguest.js";
export { type KbsEvidenceProvider, KbsClient, type ReleasedCredentials } from "./kbs/client.js";
export { kbsEvidence, snpWireEvidence } from "./kbs/snp-evidence.js";
export {
  AttesterError,
  ATTESTER_ERROR_CODES,
  ATTESTER_ERROR_MEANINGS,
  type AttesterErrorCode,
  isAttesterError,
} from "./errors.js";
