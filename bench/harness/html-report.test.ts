import { describe, expect, it } from "vitest";
import { type ChartInput, chartConfig, readChartJs, renderHtmlReport } from "./html-report.js";
import { chartInput, renderReport } from "./report.js";
import type { BenchResult, KafkaStreamsRun, LatencyRate, ThroughputRun } from "./results.js";

/** The chart configurations a page carries in its JSON script element. */
const chartsOf = (html: string) => {
  const match = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  if (!match?.[1]) throw new Error("no report data in the page");
  return (JSON.parse(match[1]) as { charts: ReturnType<typeof chartConfig>[] }).charts;
};

const input: ChartInput = {
  title: "stedi join benchmark",
  subtitle: "100k customers",
  panels: [
    {
      title: "Throughput",
      unit: "events/s",
      scale: "linear",
      series: ["events/s"],
      groups: [
        { label: "join", values: [30_000], note: "50 % of copy" },
        { label: "copy", values: [60_000] },
        { label: "Spark", values: [undefined] },
      ],
      target: { value: 100_000, label: "target 100k" },
    },
    {
      title: "Latency",
      unit: "ms",
      scale: "log",
      series: ["p50", "p99"],
      groups: [
        { label: "1k/s", values: [0.5, 20] },
        { label: "5k/s", values: [1.25, 31.9] },
      ],
    },
  ],
  verdicts: [
    { text: "throughput ≥ 100k/s: 30,000", pass: false },
    { text: "p99 ≤ 10 ms: 8 ms", pass: true },
    { text: "Spark: not measured", pass: undefined },
  ],
};

const [throughputPanel, latencyPanel] = input.panels;
if (!throughputPanel || !latencyPanel) throw new Error("the sample has two panels");

describe("chartConfig", () => {
  it("draws a dataset per series and a category per group; a missing value is null", () => {
    const config = chartConfig(throughputPanel);
    expect(config.type).toBe("bar");
    expect(config.data.labels).toEqual([["join", "50 % of copy"], "copy", "Spark"]);
    expect(config.data.datasets.map((dataset) => [dataset.label, dataset.data])).toEqual([
      ["events/s", [30_000, 60_000, null]],
    ]);
    expect(config.options.plugins.legend.display).toBe(false);
    expect(config.options.plugins.targetLine).toMatchObject({ value: 100_000, label: "target 100k" });
    // The axis reaches the target even when every bar stays below it.
    expect(config.options.scales.y).toMatchObject({ type: "linear", beginAtZero: true });
    expect(config.options.scales.y.suggestedMax).toBeGreaterThan(100_000);
  });

  it("uses a logarithmic axis for a log panel, and a legend for several series", () => {
    const config = chartConfig(latencyPanel);
    expect(config.options.scales.y).toMatchObject({ type: "logarithmic", suggestedMin: 0.5 / 1.5 });
    expect(config.options.plugins.legend.display).toBe(true);
    expect(config.options.plugins.targetLine).toEqual({});
    expect(config.data.datasets.map((dataset) => dataset.data)).toEqual([
      [0.5, 1.25],
      [20, 31.9],
    ]);
  });
});

describe("renderHtmlReport", () => {
  it("carries every panel's data series, a canvas each, and the chart.js code", () => {
    const html = renderHtmlReport(input, "the tables", "/* chart.js bundle */");
    expect(chartsOf(html)).toEqual(input.panels.map(chartConfig));
    expect(html).toContain('<canvas id="chart-0"');
    expect(html).toContain('<canvas id="chart-1"');
    expect(html).toContain("<script>/* chart.js bundle */</script>");
    expect(html).toContain("<pre>the tables</pre>");
  });

  it("badges each verdict", () => {
    const html = renderHtmlReport(input, "", "");
    const badges = [...html.matchAll(/<li class="(\w+)"><span class="badge">([^<]+)<\/span>([^<]*)<\/li>/g)];
    expect(badges.map((match) => match.slice(1))).toEqual([
      ["miss", "MISS", "throughput ≥ 100k/s: 30,000"],
      ["pass", "PASS", "p99 ≤ 10 ms: 8 ms"],
      ["na", "N/A", "Spark: not measured"],
    ]);
  });

  it("keeps text and code from closing their elements early", () => {
    const hostile: ChartInput = {
      ...input,
      title: "<b>bold</b> & co",
      panels: [{ ...latencyPanel, series: ["</script><script>alert(1)</script>", "p99"] }],
    };
    const html = renderHtmlReport(hostile, "a < b", "if (a</script>b) {}");
    expect(html).toContain("<title>&lt;b&gt;bold&lt;/b&gt; &amp; co</title>");
    expect(html).toContain("<pre>a &lt; b</pre>");
    expect(html).toContain("if (a<\\/script>b) {}");
    // Exactly the page's own three scripts close.
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(chartsOf(html)[0]?.data.datasets[0]?.label).toBe("</script><script>alert(1)</script>");
  });
});

describe("readChartJs", () => {
  it("reads the installed chart.js UMD bundle", () => {
    const code = readChartJs();
    expect(code).toMatch(/^\/\*!\s*\n \* Chart\.js v4\./);
    expect(code.length).toBeGreaterThan(100_000);
  });
});

describe("a bench result's report", () => {
  const throughput = (kind: "join" | "copy", eventsPerSecond: number): ThroughputRun => ({
    kind,
    events: 200_000,
    outputs: 200_000,
    secondsToLastOutput: 200_000 / eventsPerSecond,
    firstOutputMs: 950,
    eventsPerSecond,
    steadyEventsPerSecond: eventsPerSecond * 1.2,
    peakRssMiB: 210,
  });
  const summary = (p50: number, p99: number) => ({
    count: 20_000,
    p50,
    p95: p99 * 0.8,
    p99,
    p999: p99 * 1.5,
    max: p99 * 2,
    mean: p50,
  });
  const rate = (offered: number, p50: number, p99: number): LatencyRate => ({
    rate: offered,
    seconds: 4,
    offered: offered * 4,
    received: offered * 4,
    missing: 0,
    achievedRate: offered,
    arrival: summary(p50, p99),
    outputTimestamp: summary(p50 / 2, p99 / 2),
    sendLag: summary(0.1, 0.4),
  });
  const result: BenchResult = {
    date: "2026-12-01T10:00:00.000Z",
    node: "v20.19.0",
    source: "abc1234",
    cpus: 2,
    loadAverage: { start: [1.5, 1.2, 1], end: [1.8, 1.3, 1.1] },
    options: {},
    saturation: {
      customers: 100_000,
      events: 200_000,
      partitions: 2,
      join: [throughput("join", 187_829)],
      copy: [throughput("copy", 438_789)],
    },
    latency: {
      customers: 100_000,
      partitions: 2,
      method: "open loop",
      rates: [rate(1000, 9.1, 21.4), rate(5000, 9.8, 34.9)],
      copyRates: [rate(1000, 7, 20.5), rate(5000, 8, 26.9)],
      directRates: [rate(1000, 2, 6.2), rate(5000, 3, 7.8)],
    },
    rss: [
      {
        customers: 100_000,
        firstOutputMs: 900,
        loadedMiB: 120.5,
        steps: [
          { events: 100_000, rssMiB: 130.25, maxRssMiB: 140 },
          { events: 100_000, rssMiB: 131.75, maxRssMiB: 141 },
        ],
        peakMiB: 150.5,
        growthMiB: 11.25,
      },
    ],
    targets: [{ target: "saturation ≥ 100,000 events/s", measured: "187,829", pass: true }],
  };

  it("shows the same figures as the JSON in its charts and its tables", () => {
    const html = renderHtmlReport(chartInput(result), renderReport(result), "");
    const [saturation, latency, memory] = chartsOf(html);
    expect(saturation?.data.datasets[0]?.data).toEqual([187_829, 438_789]);
    expect(latency?.data.labels).toEqual(["1k/s", "5k/s"]);
    expect(latency?.data.datasets.map((dataset) => [dataset.label, dataset.data])).toEqual([
      ["p50", [9.1, 9.8]],
      ["p95", [21.4 * 0.8, 34.9 * 0.8]],
      ["p99", [21.4, 34.9]],
      ["max", [42.8, 69.8]],
      ["p99, copy-only pipe", [20.5, 26.9]],
      ["p99, direct (apparatus)", [6.2, 7.8]],
    ]);
    expect(memory?.data.datasets.map((dataset) => dataset.data)).toEqual([
      [120.5],
      [130.25],
      [131.75],
      [150.5],
    ]);
    // The stdout tables come along, so every figure is there to read exactly.
    expect(html).toContain("187,829");
    expect(html).toContain("34.9");
    expect(html).toContain(
      '<li class="pass"><span class="badge">PASS</span>saturation ≥ 100,000 events/s: 187,829</li>',
    );
  });
});

describe("a bench result with Kafka Streams", () => {
  const throughput = (kind: "join" | "copy", eventsPerSecond: number): ThroughputRun => ({
    kind,
    events: 200_000,
    outputs: 200_000,
    secondsToLastOutput: 200_000 / eventsPerSecond,
    firstOutputMs: 950,
    eventsPerSecond,
    steadyEventsPerSecond: eventsPerSecond,
    peakRssMiB: 210,
  });
  const kafkaStreams = (
    guarantee: KafkaStreamsRun["guarantee"],
    eventsPerSecond: number,
  ): KafkaStreamsRun => ({
    guarantee,
    threads: 2,
    seconds: 200_000 / eventsPerSecond,
    firstOutputMs: 2600,
    outputs: 200_000,
    peakRssMiB: 480.5,
    startupMs: 2400,
    eventsPerSecond,
    steadyEventsPerSecond: eventsPerSecond,
    withoutCustomer: 0,
    malformedOutputs: 0,
    timedOut: false,
    outputsCompared: "same count: one output per risk event in both",
  });
  const result: BenchResult = {
    date: "2026-12-01T10:00:00.000Z",
    node: "v20.19.0",
    cpus: 2,
    loadAverage: { start: [1, 1, 1], end: [1, 1, 1] },
    options: {},
    saturation: {
      customers: 100_000,
      events: 200_000,
      partitions: 2,
      join: [throughput("join", 150_000)],
      copy: [throughput("copy", 400_000)],
      kafkaStreams: [kafkaStreams("exactly_once_v2", 50_000), kafkaStreams("at_least_once", 75_000)],
    },
    targets: [],
  };

  it("draws a bar per guarantee with stedi's ratio, and a column each in the table", () => {
    const [saturation] = chartsOf(renderHtmlReport(chartInput(result), renderReport(result), ""));
    expect(saturation?.data.labels).toEqual([
      ["stedi join", "38 % of copy"],
      "copy limit",
      ["KS EOS v2", "stedi 3.0×"],
      ["KS at-least-once", "stedi 2.0×"],
    ]);
    expect(saturation?.data.datasets[0]?.data).toEqual([150_000, 400_000, 50_000, 75_000]);
    const tables = renderReport(result);
    expect(tables).toMatch(/join ÷ KS EOS v2.*join ÷ KS at-least-once/);
    expect(tables).toMatch(/3\.00×.*2\.00×/);
    expect(tables).toContain("480.5 MiB");
    expect(tables).toContain(
      "Kafka Streams exactly_once_v2 (2 stream threads): running 2,400 ms after spawn",
    );
  });

  it("says why a guarantee was not measured", () => {
    const failed: BenchResult = {
      ...result,
      saturation: {
        ...(result.saturation as NonNullable<BenchResult["saturation"]>),
        kafkaStreams: [{ guarantee: "exactly_once_v2", error: "java not found" }],
      },
    };
    expect(renderReport(failed)).toContain("Kafka Streams exactly_once_v2: not measured: java not found");
    expect(chartInput(failed).panels[0]?.groups.map((group) => group.label)).toEqual([
      "stedi join",
      "copy limit",
    ]);
  });
});
