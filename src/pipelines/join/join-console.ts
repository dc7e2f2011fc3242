// What `stedi join` shows of its outputs: JSON lines on stdout with --json, and with --console the
// joined rows as Spark-style micro-batches on stdout and in logs/kafkajoin.log.

import { openLogFile } from "../../adapters/log-file.js";
import { defaults } from "../../config/config.js";
import { encodeGraphRecord, type GraphRecord } from "../../core/graph/graph-record.js";
import { renderBatch } from "../../render/spark-console.js";
import type { Lifecycle } from "../lifecycle.js";
import { createStdout } from "../output.js";

const joinedColumns = ["customer", "score", "email", "birthYear"];

export function createJoinConsole(options: {
  json: boolean;
  console: boolean;
  logDir: string | null;
  lifecycle: Lifecycle;
}) {
  const stdout = createStdout(options.lifecycle);
  const log = options.console ? openLogFile(options.logDir, "kafkajoin.log") : undefined;
  let rows: string[][] = [];
  let batch = 0;
  return {
    /** Committed outputs, as they become visible. */
    written(outputs: readonly GraphRecord[]): void {
      for (const record of outputs) {
        if (options.json) stdout.write(`${encodeGraphRecord(record)}\n`);
        if (log) rows.push([record.customer, record.score, record.email, record.birthYear]);
      }
    },
    /** Prints the rows gathered since the last flush as one micro-batch. */
    flush(): void {
      if (!log || rows.length === 0) return;
      const text = renderBatch(batch, joinedColumns, rows, { truncate: true, maxRows: defaults.rows });
      stdout.write(text);
      log.write(text);
      batch += 1;
      rows = [];
    },
    async close(): Promise<void> {
      this.flush();
      await log?.close();
    },
  };
}
