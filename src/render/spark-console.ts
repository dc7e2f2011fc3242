// Renders micro-batches the way Spark's console sink prints them, so logs read like the seed's.

import Table from "cli-table3";

export type ConsoleTableOptions = {
  /** Cut cells longer than 20 characters to 17 + "..." and right-align, as Spark's `truncate=true`. */
  truncate: boolean;
  /** At most this many rows are shown; the rest are summarised in an "only showing" line. */
  maxRows: number;
};

const sparkBorders = {
  top: "-",
  "top-mid": "+",
  "top-left": "+",
  "top-right": "+",
  bottom: "-",
  "bottom-mid": "+",
  "bottom-left": "+",
  "bottom-right": "+",
  left: "|",
  "left-mid": "+",
  mid: "-",
  "mid-mid": "+",
  right: "|",
  "right-mid": "+",
  middle: "|",
};

const truncatedWidth = 20;

export const truncateCell = (cell: string): string =>
  cell.length > truncatedWidth ? `${cell.slice(0, truncatedWidth - 3)}...` : cell;

export const batchHeader = (batchId: number): string => {
  const rule = "-".repeat(43);
  return `${rule}\nBatch: ${batchId}\n${rule}\n`;
};

/** A Spark `show()` table: header, rows (at most `maxRows`), and the "only showing" note. */
export function renderTable(columns: string[], rows: string[][], options: ConsoleTableOptions): string {
  const shown = rows.slice(0, options.maxRows);
  const fit = options.truncate ? truncateCell : (cell: string) => cell;
  const align = options.truncate ? "right" : "left";
  const table = new Table({
    head: columns,
    colAligns: columns.map(() => align),
    chars: sparkBorders,
    style: { "padding-left": 0, "padding-right": 0, head: [], border: [], compact: true },
  });
  for (const row of shown) table.push(row.map(fit));
  const lines = table.toString().split("\n");
  // Spark closes an empty table with a second rule; cli-table3 stops after the header's.
  if (shown.length === 0) lines.push(lines[0] ?? "");
  let text = `${lines.join("\n")}\n`;
  if (rows.length > shown.length) {
    text += `only showing top ${options.maxRows} ${options.maxRows === 1 ? "row" : "rows"}\n`;
  }
  return text;
}

/** One whole micro-batch as the console sink prints it, ending with its blank line. */
export const renderBatch = (
  batchId: number,
  columns: string[],
  rows: string[][],
  options: ConsoleTableOptions,
): string => `${batchHeader(batchId)}${renderTable(columns, rows, options)}\n`;
