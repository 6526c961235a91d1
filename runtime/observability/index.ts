/** Module face of `runtime/observability`: everything other modules may import from it. */
export { createLogger, errorFields } from "./logger.js";
export { type Counter, type Gauge, type Histogram, MetricsRegistry } from "./metrics.js";
export { buildOpsApp } from "./ops-app.js";
