/** The inference runtime's Prometheus metrics (names are stable; labels are model names and error codes). */
import type { Counter, Gauge, Histogram, MetricsRegistry } from "../../observability/index.js";

/** Metrics the server and batchers update. */
export interface InferenceMetrics {
  readonly registry: MetricsRegistry;
  /** `ci_inference_requests_total{model,code}`: finished requests; `code` is `OK` or an error code. */
  readonly requests: Counter;
  /** `ci_inference_request_duration_seconds{model}`: wall time of successful infer requests. */
  readonly duration: Histogram;
  /** `ci_inference_batch_rows{model}`: rows per onnxruntime run. */
  readonly batchRows: Histogram;
  /** `ci_inference_queue_depth{model}`: requests waiting (refreshed at scrape). */
  readonly queueDepth: Gauge;
  /** `ci_inference_ready`: 1 when attested and every model is loaded. */
  readonly ready: Gauge;
  /** `ci_inference_tls_handshake_failures_total`: refused TLS handshakes (no or untrusted client certificate). */
  readonly tlsFailures: Counter;
  /** `ci_inference_generations_total{model,finish}`: ended generations (`stop`, `length`, `cancelled`). */
  readonly generations: Counter;
  /** `ci_inference_generated_tokens_total{model}`: tokens generated. */
  readonly generatedTokens: Counter;
}

/** Registers the inference metrics on `registry`. */
export function createInferenceMetrics(registry: MetricsRegistry): InferenceMetrics {
  return {
    registry,
    requests: registry.counter("ci_inference_requests_total", "Inference API requests by model and result code", [
      "model",
      "code",
    ]),
    duration: registry.histogram(
      "ci_inference_request_duration_seconds",
      "Latency of successful infer requests",
      ["model"],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    batchRows: registry.histogram(
      "ci_inference_batch_rows",
      "Rows per model run (dynamic batching)",
      ["model"],
      [1, 2, 4, 8, 16, 32, 64],
    ),
    queueDepth: registry.gauge("ci_inference_queue_depth", "Requests waiting for a batch", ["model"]),
    tlsFailures: registry.counter(
      "ci_inference_tls_handshake_failures_total",
      "TLS handshakes refused (no client certificate or one from another CA)",
    ),
    ready: registry.gauge("ci_inference_ready", "1 when the runtime is attested and its models are loaded"),
    generations: registry.counter(
      "ci_inference_generations_total",
      "Generations by model and how they ended (stop, length, cancelled: the client went away)",
      ["model", "finish"],
    ),
    generatedTokens: registry.counter("ci_inference_generated_tokens_total", "Tokens generated", ["model"]),
  };
}
