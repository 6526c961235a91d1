import { describe, expect, it } from "vitest";
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from "../../runtime/observability/metrics.js";

describe("Prometheus text exposition (prom-client)", () => {
  it("renders counters, gauges and cumulative histograms exactly, with escaped labels", async () => {
    const reg = new MetricsRegistry();
    const c = reg.counter("x_requests_total", "Requests", ["model", "code"]);
    reg.gauge("x_ready", "Ready");
    const h = reg.histogram("x_seconds", "Latency", ["model"], [0.1, 1]);
    let depth = 0;
    const q = reg.gauge("x_queue", "Queue", ["model"]);
    reg.onCollect(() => q.set({ model: "m" }, depth));
    c.inc({ model: 'a"b\\c\nd', code: "OK" }, 2);
    c.inc({ model: "m", code: "QUEUE_FULL" });
    c.inc({ model: "m" });
    h.observe({ model: "m" }, 0.05);
    h.observe({ model: "m" }, 0.5);
    h.observe({ model: "m" }, 3);
    depth = 4;
    expect(await reg.render()).toBe(
      [
        "# HELP x_requests_total Requests",
        "# TYPE x_requests_total counter",
        'x_requests_total{model="a\\"b\\\\c\\nd",code="OK"} 2',
        'x_requests_total{model="m",code="QUEUE_FULL"} 1',
        'x_requests_total{model="m",code=""} 1',
        "",
        "# HELP x_ready Ready",
        "# TYPE x_ready gauge",
        "x_ready 0",
        "",
        "# HELP x_seconds Latency",
        "# TYPE x_seconds histogram",
        'x_seconds_bucket{le="0.1",model="m"} 1',
        'x_seconds_bucket{le="1",model="m"} 2',
        'x_seconds_bucket{le="+Inf",model="m"} 3',
        'x_seconds_sum{model="m"} 3.55',
        'x_seconds_count{model="m"} 3',
        "",
        "# HELP x_queue Queue",
        "# TYPE x_queue gauge",
        'x_queue{model="m"} 4',
        "",
      ].join("\n"),
    );
    expect(await c.value({ model: "m", code: "QUEUE_FULL" })).toBe(1);
    expect(await c.value({ model: "never" })).toBe(0);
    expect(() => c.inc({}, -1)).toThrow(TypeError);
    expect(() => reg.counter("x_ready", "dup")).toThrow(new TypeError("metric x_ready registered twice"));
    expect(reg.names()).toEqual(["x_queue", "x_ready", "x_requests_total", "x_seconds"]);
    expect(PROMETHEUS_CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("adds the standard process series to a service's registry only", async () => {
    const service = new MetricsRegistry({ processMetrics: true });
    const names = service.names();
    for (const n of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "process_open_fds",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
    ])
      expect(names).toContain(n);
    const text = await service.render();
    expect(text).toMatch(/^process_start_time_seconds \d{10}$/m);
    expect(new MetricsRegistry().names()).toEqual([]);
  });
});
