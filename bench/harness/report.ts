// Renders a bench result: plain tables for stdout, and the data of the HTML report's charts.

import Table from "cli-table3";
import type { BarPanel, ChartInput } from "./html-report.js";
import {
  type BenchResult,
  median,
  rssTargetMiB,
  type SaturationSummary,
  stepGrowth,
  summarizeSaturation,
} from "./results.js";

const n = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "—";
const compact = (value: number) =>
  value >= 1_000_000 && value % 1_000_000 === 0
    ? `${value / 1_000_000}M`
    : value >= 1000 && value % 1000 === 0
      ? `${value / 1000}k`
      : String(value);

const plainTable = (head: string[]) => new Table({ head, style: { head: [], border: [], compact: true } });

/** Another join measured on the same input: its column in the saturation table and its bar in the chart. */
type Peer = {
  label: string;
  eventsPerSecond: number;
  steadyEventsPerSecond: number;
  firstOutputMs: number;
  peakRssMiB: number;
  outputs: number;
  /** stedi's join events/s ÷ the peer's. */
  ratio: number;
};

/** The peers that were measured, in the order they ran: Spark, then Kafka Streams' two guarantees. */
function peersOf(s: SaturationSummary): Peer[] {
  const peers: Peer[] = [];
  const add = (label: string, run: Omit<Peer, "label" | "ratio"> | undefined, ratio: number | undefined) => {
    if (run) peers.push({ label, ...run, ratio: ratio ?? Number.NaN });
  };
  add("Spark", s.spark, s.sparkRatio);
  add("KS EOS v2", s.kafkaStreamsEos, s.kafkaStreamsEosRatio);
  add("KS at-least-once", s.kafkaStreamsAtLeastOnce, s.kafkaStreamsAtLeastOnceRatio);
  return peers;
}

/** All tables of a result, in the order the bench measured them, ending with the targets. */
export function renderReport(result: BenchResult): string {
  const sections: string[] = [];
  if (result.saturation) {
    const s = summarizeSaturation(result.saturation);
    const sat = result.saturation;
    const peers = peersOf(s);
    const table = plainTable([
      `saturation: ${compact(sat.customers)} customers, ${compact(sat.events)} pre-loaded events, ${sat.partitions} partitions`,
      "stedi join",
      "copy limit",
      ...peers.map((peer) => peer.label),
      "join ÷ copy",
      ...peers.map((peer) => `join ÷ ${peer.label}`),
    ]);
    const peerCells = (value: (peer: Peer) => string) => peers.map(value);
    const noRatios = peerCells(() => "");
    table.push(
      [
        `events/s, spawn → last output (median of ${sat.join.length})`,
        n(s.joinEventsPerSecond),
        n(s.copyEventsPerSecond),
        ...peerCells((peer) => n(peer.eventsPerSecond)),
        `${(s.fractionOfPipe * 100).toFixed(0)} %`,
        ...peerCells((peer) => `${peer.ratio.toFixed(2)}×`),
      ],
      [
        "events/s, first → last output",
        n(s.joinSteady),
        n(s.copySteady),
        ...peerCells((peer) => n(peer.steadyEventsPerSecond)),
        `${(s.steadyFractionOfPipe * 100).toFixed(0)} %`,
        ...noRatios,
      ],
      [
        "each run (events/s)",
        sat.join.map((run) => n(run.eventsPerSecond)).join(", "),
        sat.copy.map((run) => n(run.eventsPerSecond)).join(", "),
        ...peerCells((peer) => n(peer.eventsPerSecond)),
        s.pairFractions.map((f) => `${(f * 100).toFixed(0)} %`).join(", "),
        ...noRatios,
      ],
      [
        "spawn → first output (median)",
        `${n(s.firstOutputMs)} ms`,
        `${n(Math.round(median(sat.copy.map((run) => run.firstOutputMs))))} ms`,
        ...peerCells((peer) => `${n(peer.firstOutputMs)} ms`),
        "",
        ...noRatios,
      ],
      [
        "peak RSS (max)",
        `${n(s.joinPeakRssMiB, 1)} MiB`,
        `${n(Math.max(...sat.copy.map((run) => run.peakRssMiB)), 1)} MiB`,
        ...peerCells((peer) => `${n(peer.peakRssMiB, 1)} MiB`),
        "",
        ...noRatios,
      ],
      [
        "outputs (min)",
        n(Math.min(...sat.join.map((run) => run.outputs))),
        n(Math.min(...sat.copy.map((run) => run.outputs))),
        ...peerCells((peer) => n(peer.outputs)),
        "",
        ...noRatios,
      ],
    );
    sections.push(table.toString());
    if (sat.spark && "error" in sat.spark) sections.push(`Spark: not measured: ${sat.spark.error}`);
    else if (sat.spark) sections.push(`outputs, Spark against stedi: ${sat.spark.outputsCompared}`);
    for (const run of sat.kafkaStreams ?? []) {
      if ("error" in run) {
        sections.push(`Kafka Streams ${run.guarantee}: not measured: ${run.error}`);
        continue;
      }
      const malformed = run.malformedOutputs > 0 ? `; ${n(run.malformedOutputs)} outputs unlike stedi's` : "";
      sections.push(
        `Kafka Streams ${run.guarantee} (${run.threads} stream threads): running ${n(run.startupMs)} ms after spawn, its global store loaded; outputs against stedi: ${run.outputsCompared}${malformed}`,
      );
    }
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

/**
 * The charts' panels: throughput (join, copy limit, and Spark and Kafka Streams when they ran), latency
 * percentiles per rate, RSS per table size.
 */
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
        ...peersOf(s).map((peer) => ({
          label: peer.label,
          values: [peer.eventsPerSecond],
          note: `stedi ${peer.ratio.toFixed(1)}×`,
        })),
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
