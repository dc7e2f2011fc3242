// The demo's status line: committed records and records per second through each stage, from two
// readings of the stages' record counts.

/** Records counted per stage at one moment (milliseconds since the epoch). */
export type StageReading = { at: number; records: Record<string, number> };

export type StageRates = { name: string; total: number; perSecond: number }[];

/** Rates between two readings of the same stages (a stage missing from `before` counts from zero). */
export function stageRates(before: StageReading | undefined, now: StageReading): StageRates {
  const seconds = before ? Math.max(0.001, (now.at - before.at) / 1000) : 1;
  return Object.entries(now.records).map(([name, total]) => ({
    name,
    total,
    perSecond: before ? Math.max(0, (total - (before.records[name] ?? 0)) / seconds) : 0,
  }));
}

const rate = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

/**
 * e.g. "records: simulate → stedi-events 58 (1.20/s) · join → stedi-graph 58 (1.20/s) · …": records,
 * not offsets (transaction markers and aborted writes take offsets but are no records).
 */
export const renderStatus = (rates: StageRates): string =>
  `records: ${rates.map(({ name, total, perSecond }) => `${name} ${total} (${rate(perSecond)}/s)`).join(" · ")}`;
