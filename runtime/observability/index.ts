/** Module face of `runtime/observability`: everything other modules may import from it. */
export { CERTIFICATE_EXPIRY_METRIC, CertificateExpiry } from "./certificates.js";
export { createLogger, errorFields } from "./logger.js";
export { type Counter, type Gauge, type Histogram, MetricsRegistry } from "./metrics.js";
export { buildOpsApp } from "./ops-app.js";
