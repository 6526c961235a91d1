import { describe, expect, it } from "vitest";
import { MetricsRegistry } from "../../runtime/observability/metrics.js";

describe("Prometheus text exposition", () => {
  it("renders counters, gauges and cumulative histograms exactly, with escaped labels", () => {
    const reg = new MetricsRegistry();
    const c = reg.counter("x_requests_total", "Requests", ["model", "code"]);
    reg.gauge("x_ready", "Ready");
    const h = reg.histogram("x_seconds", "Latency", ["model"], [0.1, 1]);
    let depth = 0;
    const q = reg.gauge("x_queue", "Queue", ["model"]);
    reg.onCollect(() => q.set({ model: "m" }, depth));
    c.inc({ model: 'a"b\\c\nd', code: "OK" }, 2);
    c.inc({ model: "m", code: "QUEUE_FULL" });
    h.observe({ model: "m" }, 0.05);
    h.observe({ model: "m" }, 0.5);
    h.observe({ model: "m" }, 3);
    depth = 4;
    expect(reg.render()).toBe(
      [
        "# HELP x_requests_total Requests",
        "# TYPE x_requests_total counter",
        'x_requests_total{model="a\\"b\\\\c\\nd",code="OK"} 2',
        'x_requests_total{model="m",code="QUEUE_FULL"} 1',
        "# HELP x_ready Ready",
        "# TYPE x_ready gauge",
        "x_ready 0",
        "# HELP x_seconds Latency",
        "# TYPE x_seconds histogram",
        'x_seconds_bucket{model="m",le="0.1"} 1',
        'x_seconds_bucket{model="m",le="1"} 2',
        'x_seconds_bucket{model="m",le="+Inf"} 3',
        'x_seconds_sum{model="m"} 3.55',
        'x_seconds_count{model="m"} 3',
        "# HELP x_queue Queue",
        "# TYPE x_queue gauge",
        'x_queue{model="m"} 4',
        "",
      ].join("\n"),
    );
    expect(c.get({ model: "m", code: "QUEUE_FULL" })).toBe(1);
    expect(() => c.inc({}, -1)).toThrow(TypeError);
    expect(() => reg.counter("x_ready", "dup")).toThrow(TypeError);
  });
});
