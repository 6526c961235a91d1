/**
 * Prometheus metrics of every service, backed by `prom-client`: counters, gauges and histograms with
 * labels, rendered in the text exposition format 0.0.4, plus (for a service's own registry) the
 * standard process and Node.js series (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
 * `process_start_time_seconds`, `nodejs_eventloop_lag_seconds`, ...). Label values are metadata chosen
 * by the code (model names, status codes, drift classes), never request data.
 *
 * @example
 * const reg = new MetricsRegistry({ processMetrics: true });
 * const requests = reg.counter("ci_inference_requests_total", "Inference requests by model and code", ["model", "code"]);
 * requests.inc({ model: "sentiment", code: "OK" });
 * await reg.render(); // "# HELP ci_inference_requests_total ...\n# TYPE ... counter\nci_inference_requests_total{model=\"sentiment\",code=\"OK\"} 1\n..."
 */
import * as prom from "prom-client";

type Labels = Readonly<Record<string, string>>;

/** Fills absent label values with "" so every series carries every declared label. */
function complete(names: readonly string[], labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) out[n] = labels[n] ?? "";
  return out;
}

/** A monotonically increasing counter. */
export class Counter {
  /** @internal */
  constructor(
    private readonly metric: prom.Counter,
    readonly name: string,
    readonly labelNames: readonly string[],
  ) {}
  /** Adds `by` (default 1; must be >= 0). */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new TypeError("counter increments must be >= 0");
    if (this.labelNames.length === 0) this.metric.inc(by);
    else this.metric.inc(complete(this.labelNames, labels), by);
  }
  /** Current value of one series (0 when never incremented). */
  async value(labels: Labels = {}): Promise<number> {
    const want = complete(this.labelNames, labels);
    const { values } = await this.metric.get();
    const hit = values.find((v) => this.labelNames.every((n) => String(v.labels[n] ?? "") === want[n]));
    return hit?.value ?? 0;
  }
}

/** A value that goes up and down. */
export class Gauge {
  /** @internal */
  constructor(
    private readonly metric: prom.Gauge,
    readonly name: string,
    readonly labelNames: readonly string[],
  ) {}
  set(labels: Labels, v: number): void {
    if (this.labelNames.length === 0) this.metric.set(v);
    else this.metric.set(complete(this.labelNames, labels), v);
  }
}

/** A histogram with fixed upper bounds (`le`), cumulative as Prometheus expects. */
export class Histogram {
  /** @internal */
  constructor(
    private readonly metric: prom.Histogram,
    readonly name: string,
    readonly labelNames: readonly string[],
  ) {}
  observe(labels: Labels, v: number): void {
    if (this.labelNames.length === 0) this.metric.observe(v);
    else this.metric.observe(complete(this.labelNames, labels), v);
  }
}

/** Options of {@link MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * Adds prom-client's default series (process CPU, memory, file descriptors, start time, event-loop
   * lag, heap, GC): what a service's `/metrics` exports. Default false (libraries and tests).
   */
  readonly processMetrics?: boolean;
}

/** Collects metrics and renders them. */
export class MetricsRegistry {
  private readonly registry = new prom.Registry();
  private readonly collectors: Array<() => void | Promise<void>> = [];

  constructor(opts: MetricsRegistryOptions = {}) {
    if (opts.processMetrics) prom.collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Registers a callback run before each render (to refresh gauges such as queue depth); an async one is
   * awaited, and one that fails leaves its gauges as they were.
   */
  onCollect(fn: () => void | Promise<void>): void {
    this.collectors.push(fn);
  }

  private checkNew(name: string): void {
    if (this.registry.getSingleMetric(name) !== undefined) throw new TypeError(`metric ${name} registered twice`);
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    this.checkNew(name);
    const m = new prom.Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
    return new Counter(m, name, labelNames);
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    this.checkNew(name);
    const m = new prom.Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry] });
    return new Gauge(m, name, labelNames);
  }
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    this.checkNew(name);
    const m = new prom.Histogram({
      name,
      help,
      labelNames: [...labelNames],
      buckets: [...buckets],
      registers: [this.registry],
    });
    return new Histogram(m, name, labelNames);
  }

  /** Names of every registered metric (the process series included), sorted. */
  names(): string[] {
    return this.registry
      .getMetricsAsArray()
      .map((m) => (m as unknown as { name: string }).name)
      .sort();
  }

  /** The text exposition (`Content-Type: text/plain; version=0.0.4`). */
  async render(): Promise<string> {
    await Promise.all(
      this.collectors.map(async (fn) => {
        try {
          await fn();
        } catch {
          // a gauge left stale beats a scrape that fails
        }
      }),
    );
    return this.registry.metrics();
  }
}

/** Content type of `MetricsRegistry.render()`. */
export const PROMETHEUS_CONTENT_TYPE = prom.Registry.PROMETHEUS_CONTENT_TYPE;
