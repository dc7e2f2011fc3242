// Renders a soak: a row per minute (offered, received, latency, the join's RSS), the flatness verdict
// and the checker's counts.

import Table from "cli-table3";
import { flatLimit, type SoakRun } from "./soak.js";

const plainTable = (head: string[]) => new Table({ head, style: { head: [], border: [], compact: true } });
const n = (value: number) => value.toLocaleString("en-US");
const ms = (value: number) => value.toLocaleString("en-US", { maximumFractionDigits: 1 });

export function renderSoakReport(run: SoakRun): string {
  const minutes = plainTable([
    "minute",
    "offered",
    "received",
    "p50 ms",
    "p99 ms",
    "max ms",
    "join RSS ≤ MiB",
  ]);
  for (const row of run.minutes) {
    minutes.push([
      row.minute,
      n(row.offered),
      n(row.received),
      ms(row.latency.p50),
      ms(row.latency.p99),
      ms(row.latency.max),
      row.maxRssMiB.toFixed(1),
    ]);
  }
  const f = run.flatness;
  const flatness =
    f.flat === undefined
      ? "RSS flatness: not judged (needs at least 20 minutes)"
      : `RSS flatness: largest RSS of the last 10 minutes ${f.lastTenMiB?.toFixed(1)} MiB against ${f.referenceMiB?.toFixed(1)} MiB in minutes 5–10: ${((f.growth ?? 0) * 100).toFixed(1)} % (limit ${flatLimit * 100} %) → ${f.flat ? "flat" : "GROWING"}`;
  const c = run.check;
  const check = c
    ? `checker: expected ${n(c.expected)}, output ${n(c.actual)}, lost ${c.lost}, duplicated ${c.duplicated}, misrouted ${c.misrouted}; bad inputs ${c.badInputs}, dead letters ${c.deadLetters} (missing ${c.missingDeadLetters})${c.examples.map((example) => `\n  ${example}`).join("")}`
    : "checker: not run";
  return [
    `soak: ${n(run.rate)} events/s, ${n(run.customers)} customers, ${run.partitions} partitions, ${run.brokers} brokers`,
    minutes.toString(),
    flatness,
    `join peak RSS (VmHWM) ${run.peakRssMiB} MiB; exit after SIGTERM ${run.joinExitCode}`,
    `probe: ${run.probe.missing} offered events without output; ${run.probe.duplicates} outputs read again (its group of one restarts from the beginning after a rejoin: the checker below counts the topic itself)`,
    check,
    ...(run.error ? [`failed: ${run.error}`] : []),
    "",
  ].join("\n");
}

/** Exactly once held and, when judged, RSS stayed flat. */
export const soakPassed = (run: SoakRun): boolean =>
  run.error === undefined &&
  run.check !== undefined &&
  run.check.lost === 0 &&
  run.check.duplicated === 0 &&
  run.check.misrouted === 0 &&
  run.check.missingDeadLetters === 0 &&
  run.flatness.flat !== false;
