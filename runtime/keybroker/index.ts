/** Module face of `runtime/keybroker`: everything other modules may import from it. */
export { KeyBrokerError } from "./errors.js";
export { type AuditLine, parseAuditLog } from "./state/audit.js";
