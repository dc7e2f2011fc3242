import { describe, expect, it } from "vitest";
import { Counter, Gauge, Histogram, renderMetrics } from "./metrics.js";

describe("Prometheus metrics", () => {
  it("renders counters, labelled gauges and cumulative histograms", () => {
    const consumed = new Counter("stedi_join_events_consumed_total", "Risk events read.");
    consumed.inc(3);
    consumed.inc(2);
    const lag = new Gauge("stedi_join_lag", "Records behind the end, per partition.");
    lag.set(5, { partition: "0" });
    lag.set(7, { partition: "1" });
    lag.remove({ partition: "1" });
    const latency = new Histogram("stedi_join_batch_seconds", "Batch time.", [0.01, 0.1, 1]);
    latency.observe(0.005);
    latency.observe(0.05);
    latency.observe(5);
    expect(renderMetrics([consumed, lag, latency])).toBe(
      [
        "# HELP stedi_join_events_consumed_total Risk events read.",
        "# TYPE stedi_join_events_consumed_total counter",
        "stedi_join_events_consumed_total 5",
        "# HELP stedi_join_lag Records behind the end, per partition.",
        "# TYPE stedi_join_lag gauge",
        'stedi_join_lag{partition="0"} 5',
        "# HELP stedi_join_batch_seconds Batch time.",
        "# TYPE stedi_join_batch_seconds histogram",
        'stedi_join_batch_seconds_bucket{le="0.01"} 1',
        'stedi_join_batch_seconds_bucket{le="0.1"} 2',
        'stedi_join_batch_seconds_bucket{le="1"} 2',
        'stedi_join_batch_seconds_bucket{le="+Inf"} 3',
        "stedi_join_batch_seconds_sum 5.055",
        "stedi_join_batch_seconds_count 3",
        "",
      ].join("\n"),
    );
  });

  it("escapes label values", () => {
    const gauge = new Gauge("g", "h");
    gauge.set(1, { topic: 'a"b\\c' });
    expect(gauge.render()).toContain('g{topic="a\\"b\\\\c"} 1');
  });
});
