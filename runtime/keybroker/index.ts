/** Module face of `runtime/keybroker`: everything other modules may import from it. */
export {
  isKeyBrokerError,
  KEY_BROKER_ERROR_CODES,
  KEY_BROKER_ERROR_MEANINGS,
  KEY_BROKER_ERROR_STATUS,
  KeyBrokerError,
  type KeyBrokerErrorCode,
  PROBLEM_TYPE_PREFIX,
} from "./errors.js";
export { type AuditLine, parseAuditLog } from "./state/audit.js";
