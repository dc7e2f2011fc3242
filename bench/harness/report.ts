// Renders a bench result: plain tables for stdout, and the data of the HTML report's charts.

import Table from "cli-table3";
import type { BarPanel, ChartInput } from "./html-report.js";
import { type BenchResult, median, rssTargetMiB, stepGrowth, summarizeSaturation } from "./results.js";

const n = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "—";
const compact = (value: number) =>
  value >= 1_000_000 && value % 1_000_000 === 0
    ? `${value / 1_000_000}M`
    : value >= 1000 && value % 1000 === 0
      ? `${value / 1000}k`
      : String(value);

const plainTable = (head: string[]) => new Table({ head, style: { head: [], border: [], compact: true } });

/** All tables of a result, in the order the bench measured them, ending with the targets. */
export function renderReport(result: BenchResult): string {
  const sections: string[] = [];
  if (result.saturation) {
    const s = summarizeSaturation(result.saturation);
    const sat = result.saturation;
    const withSpark = s.spark !== undefined;
    const table = plainTable([
      `saturation: ${compact(sat.customers)} customers, ${compact(sat.events)} pre-loaded events, ${sat.partitions} partitions`,
      "stedi join",
      "copy limit",
      ...(withSpark ? ["Spark"] : []),
      "join ÷ copy",
      ...(withSpark ? ["join ÷ Spark"] : []),
    ]);
    const sparkCell = (value: string) => (withSpark ? [value] : []);
    table.push(
      [
        `events/s, spawn → last output (median of ${sat.join.length})`,
        n(s.joinEventsPerSecond),
        n(s.copyEventsPerSecond),
        ...sparkCell(n(s.spark?.eventsPerSecond ?? Number.NaN)),
        `${(s.fractionOfPipe * 100).toFixed(0)} %`,
        ...sparkCell(`${(s.sparkRatio ?? Number.NaN).toFixed(2)}×`),
      ],
      [
        "events/s, first → last output",
        n(s.joinSteady),
        n(s.copySteady),
        ...sparkCell(n(s.spark?.steadyEventsPerSecond ?? Number.NaN)),
        `${(s.steadyFractionOfPipe * 100).toFixed(0)} %`,
        ...sparkCell(""),
      ],
      [
        "each run (events/s)",
        sat.join.map((run) => n(run.eventsPerSecond)).join(", "),
        sat.copy.map((run) => n(run.eventsPerSecond)).join(", "),
        ...sparkCell(n(s.spark?.eventsPerSecond ?? Number.NaN)),
        s.pairFractions.map((f) => `${(f * 100).toFixed(0)} %`).join(", "),
        ...sparkCell(""),
      ],
      [
        "spawn → first output (median)",
        `${n(s.firstOutputMs)} ms`,
        `${n(Math.round(median(sat.copy.map((run) => run.firstOutputMs))))} ms`,
        ...sparkCell(`${n(s.spark?.firstOutputMs ?? Number.NaN)} ms`),
        "",
        ...sparkCell(""),
      ],
      [
        "peak RSS (max)",
        `${n(s.joinPeakRssMiB, 1)} MiB`,
        `${n(Math.max(...sat.copy.map((run) => run.peakRssMiB)), 1)} MiB`,
        ...sparkCell(`${n(s.spark?.peakRssMiB ?? Number.NaN, 1)} MiB`),
        "",
        ...sparkCell(""),
      ],
      [
        "outputs (min)",
        n(Math.min(...sat.join.map((run) => run.outputs))),
        n(Math.min(...sat.copy.map((run) => run.outputs))),
        ...sparkCell(n(s.spark?.outputs ?? Number.NaN)),
        "",
        ...sparkCell(""),
      ],
    );
    sections.push(table.toString());
    if (sat.spark && "error" in sat.spark) sections.push(`Spark: not measured: ${sat.spark.error}`);
    else if (sat.spark) sections.push(`outputs, Spark against stedi: ${sat.spark.outputsCompared}`);
  }
  if (result.latency) {
    const table = plainTable([
      "pipeline @ offered rate",
      "achieved",
      "outputs",
      "p50 ms",
      "p95 ms",
      "p99 ms",
      "p99.9 ms",
      "max ms",
      "p99 by output ts",
      "p99 send lag",
    ]);
    const rows = [
      ...result.latency.rates.map((rate) => ({ name: "stedi join", rate })),
      ...(result.latency.copyRates ?? []).map((rate) => ({ name: "copy (floor)", rate })),
      ...(result.latency.directRates ?? []).map((rate) => ({ name: "direct (apparatus)", rate })),
    ];
    for (const { name, rate } of rows) {
      table.push([
        `${name} @ ${n(rate.rate)}/s × ${rate.seconds} s`,
        `${n(rate.achievedRate)}/s`,
        rate.missing > 0 ? `${n(rate.received)} (${n(rate.missing)} missing)` : n(rate.received),
        n(rate.arrival.p50, 2),
        n(rate.arrival.p95, 2),
        n(rate.arrival.p99, 2),
        n(rate.arrival.p999, 2),
        n(rate.arrival.max, 2),
        // Direct records keep the timestamp the generator gave them: nothing to compare.
        name.startsWith("direct") ? "—" : n(rate.outputTimestamp.p99, 2),
        n(rate.sendLag.p99, 2),
      ]);
    }
    sections.push(
      `end-to-end latency, ${compact(result.latency.customers)} customers, ${result.latency.partitions} partitions\n${table.toString()}\n${wrap(`method: ${result.latency.method}`, 110)}`,
    );
    if (result.latency.error) sections.push(`latency stopped short: ${result.latency.error}`);
  }
  if (result.rss) {
    const stepCount = Math.max(0, ...result.rss.map((run) => run.steps.length));
    const firstSteps = result.rss[0]?.steps ?? [];
    const table = plainTable([
      "customers",
      "first output",
      "RSS loaded",
      ...Array.from({ length: stepCount }, (_, i) => `+${compact(firstSteps[i]?.events ?? 0)} events`),
      "loaded → last",
      "step max, first → last",
      "peak (VmHWM)",
    ]);
    for (const run of result.rss) {
      table.push([
        n(run.customers),
        `${n(run.firstOutputMs)} ms`,
        `${n(run.loadedMiB, 1)} MiB`,
        ...Array.from({ length: stepCount }, (_, i) => {
          const step = run.steps[i];
          return step ? `${n(step.rssMiB, 1)} (max ${n(step.maxRssMiB, 1)})` : "";
        }),
        `${run.growthMiB >= 0 ? "+" : ""}${n(run.growthMiB, 1)} MiB`,
        Number.isFinite(stepGrowth(run))
          ? `${stepGrowth(run) >= 0 ? "+" : ""}${(stepGrowth(run) * 100).toFixed(0)} %`
          : "—",
        `${n(run.peakMiB, 1)} MiB`,
      ]);
    }
    sections.push(
      `memory of stedi join: VmRSS in MiB once loaded and after each step of events (max during the step)\n${table.toString()}`,
    );
  }
  if (result.restart) {
    const restart = result.restart;
    const table = plainTable(["restart", "spawn → first output, median", "runs"]);
    table.push([
      "without the checkpoint",
      `${n(median(restart.withoutMs))} ms`,
      restart.withoutMs.map((ms) => n(ms)).join(", "),
    ]);
    table.push([
      "from the checkpoint",
      `${n(median(restart.withMs))} ms`,
      restart.withMs.map((ms) => n(ms)).join(", "),
    ]);
    sections.push(
      `restart of stedi join over ${n(restart.customers)} customers (checkpoint ${n(restart.checkpointBytes / 2 ** 20, 1)} MiB; the group's first run ${n(restart.firstRunMs)} ms)\n${table.toString()}`,
    );
  }
  const targets = plainTable(["target (2 cores, broker on the same machine)", "measured", "verdict"]);
  for (const row of result.targets) {
    targets.push([row.target, row.measured, row.pass === undefined ? "N/A" : row.pass ? "PASS" : "MISS"]);
  }
  sections.push(targets.toString());
  return `${sections.join("\n\n")}\n`;
}

/** Breaks text into lines of at most `width` characters at spaces. */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

/** The charts' panels: throughput (join, copy limit, Spark), latency percentiles per rate, RSS per table size. */
export function chartInput(result: BenchResult): ChartInput {
  const panels: BarPanel[] = [];
  if (result.saturation) {
    const s = summarizeSaturation(result.saturation);
    const runs = result.saturation.join.length;
    panels.push({
      title: "Saturation throughput",
      unit: "events/s, spawn → last output",
      scale: "linear",
      series: ["events/s"],
      groups: [
        {
          label: "stedi join",
          values: [s.joinEventsPerSecond],
          note: `${Math.round(s.fractionOfPipe * 100)} % of copy`,
        },
        { label: "copy limit", values: [s.copyEventsPerSecond] },
        ...(s.spark
          ? [
              {
                label: "Spark",
                values: [s.spark.eventsPerSecond],
                note: `stedi ${(s.sparkRatio ?? Number.NaN).toFixed(1)}×`,
              },
            ]
          : []),
      ],
      target: { value: 100_000, label: `target ≥ 100k/s (median, ${runs} run${runs > 1 ? "s" : ""})` },
    });
  }
  if (result.latency) {
    panels.push({
      title: "End-to-end latency",
      unit: "ms, log scale, by offered rate",
      scale: "log",
      series: ["p50", "p95", "p99", "max", "p99, copy-only pipe", "p99, direct (apparatus)"],
      groups: result.latency.rates.map((rate) => ({
        label: `${compact(rate.rate)}/s`,
        values: [
          rate.arrival.p50,
          rate.arrival.p95,
          rate.arrival.p99,
          rate.arrival.max,
          result.latency?.copyRates?.find((copy) => copy.rate === rate.rate)?.arrival.p99,
          result.latency?.directRates?.find((direct) => direct.rate === rate.rate)?.arrival.p99,
        ],
      })),
      target: { value: 10, label: "target: p99 ≤ 10 ms at 5k/s" },
    });
  }
  if (result.rss && result.rss.length > 0) {
    const steps = result.rss[0]?.steps ?? [];
    panels.push({
      title: "Join memory (RSS)",
      unit: "MiB, by customers in the table",
      scale: "linear",
      series: ["loaded", ...steps.map((step) => `+${compact(step.events)} events`), "peak (VmHWM)"],
      groups: result.rss.map((run) => ({
        label: `${compact(run.customers)} customers`,
        values: [run.loadedMiB, ...steps.map((_, i) => run.steps[i]?.rssMiB), run.peakMiB],
      })),
      target: { value: rssTargetMiB, label: "target ≤ 150 MB (143 MiB)" },
    });
  }
  return {
    title: "stedi join benchmark",
    subtitle: `${result.date.slice(0, 19).replace("T", " ")} UTC · ${result.source === undefined ? "" : `${result.source} · `}Node ${result.node} · ${result.cpus} CPUs · load average ${result.loadAverage.start.map((l) => l.toFixed(1)).join(" ")}`,
    panels,
    verdicts: result.targets.map((row) => ({ text: `${row.target}: ${row.measured}`, pass: row.pass })),
  };
}
