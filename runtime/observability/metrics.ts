/**
 * A small Prometheus registry (counters, gauges, histograms with labels) rendered in the text exposition
 * format 0.0.4. Label values are metadata chosen by the code (model names, status codes), never request data.
 *
 * @example
 * const reg = new MetricsRegistry();
 * const requests = reg.counter("ci_inference_requests_total", "Inference requests by model and code", ["model", "code"]);
 * requests.inc({ model: "sentiment", code: "OK" });
 * reg.render(); // "# HELP ci_inference_requests_total ...\n# TYPE ... counter\nci_inference_requests_total{model=\"sentiment\",code=\"OK\"} 1\n"
 */

type Labels = Readonly<Record<string, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(names: readonly string[], labels: Labels, extra?: [string, string]): string {
  const parts = names.map((n) => `${n}="${escapeLabel(labels[n] ?? "")}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatNumber(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

interface Metric {
  render(): string;
}

abstract class Labelled<V> implements Metric {
  protected readonly series = new Map<string, { labels: Labels; value: V }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly type: string,
    init?: () => V,
  ) {
    // An unlabelled metric is exposed from the start (0), so dashboards see it before the first event.
    if (init && labelNames.length === 0) this.entry({}, init);
  }

  protected entry(labels: Labels, init: () => V): { labels: Labels; value: V } {
    const key = this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let e = this.series.get(key);
    if (!e) {
      e = { labels: { ...labels }, value: init() };
      this.series.set(key, e);
    }
    return e;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const e of this.series.values()) lines.push(...this.lines(e.labels, e.value));
    return `${lines.join("\n")}\n`;
  }

  protected abstract lines(labels: Labels, value: V): string[];
}

/** A monotonically increasing counter. */
export class Counter extends Labelled<number> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, "counter", () => 0);
  }
  /** Adds `by` (default 1; must be >= 0). */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new TypeError("counter increments must be >= 0");
    this.entry(labels, () => 0).value += by;
  }
  /** Current value (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.entry(labels, () => 0).value;
  }
  protected lines(labels: Labels, v: number): string[] {
    return [`${this.name}${labelText(this.labelNames, labels)} ${formatNumber(v)}`];
  }
}

/** A value that goes up and down. */
export class Gauge extends Labelled<number> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, "gauge", () => 0);
  }
  set(labels: Labels, v: number): void {
    this.entry(labels, () => 0).value = v;
  }
  protected lines(labels: Labels, v: number): string[] {
    return [`${this.name}${labelText(this.labelNames, labels)} ${formatNumber(v)}`];
  }
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram with fixed upper bounds (`le`), cumulative as Prometheus expects. */
export class Histogram extends Labelled<HistogramValue> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames, "histogram");
  }
  observe(labels: Labels, v: number): void {
    const e = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).value;
    this.buckets.forEach((b, i) => {
      if (v <= b) e.counts[i]! += 1;
    });
    e.sum += v;
    e.count += 1;
  }
  protected lines(labels: Labels, v: HistogramValue): string[] {
    const out = this.buckets.map(
      (b, i) => `${this.name}_bucket${labelText(this.labelNames, labels, ["le", formatNumber(b)])} ${v.counts[i]}`,
    );
    out.push(`${this.name}_bucket${labelText(this.labelNames, labels, ["le", "+Inf"])} ${v.count}`);
    out.push(`${this.name}_sum${labelText(this.labelNames, labels)} ${formatNumber(v.sum)}`);
    out.push(`${this.name}_count${labelText(this.labelNames, labels)} ${v.count}`);
    return out;
  }
}

/** Collects metrics and renders them. */
export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  private readonly names = new Set<string>();
  private readonly collectors: Array<() => void> = [];

  /** Registers a callback run before each render (to refresh gauges such as queue depth). */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  private add<M extends Metric & { name: string }>(m: M): M {
    if (this.names.has(m.name)) throw new TypeError(`metric ${m.name} registered twice`);
    this.names.add(m.name);
    this.metrics.push(m);
    return m;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** The text exposition (`Content-Type: text/plain; version=0.0.4`). */
  render(): string {
    this.collectors.forEach((fn) => fn());
    return this.metrics.map((m) => m.render()).join("");
  }
}

/** Content type of `MetricsRegistry.render()`. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
