// Restart: spawn → first output of `stedi join` restarted over a table of N customers, with its
// customer checkpoint (--state-dir) and without (the whole customer topic read again), in
// alternating rounds so that a noisy neighbour slows both alike.

import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consumeFromStart, createJoinTopics, produceAll, waitFor } from "./broker.js";
import type { BenchContext } from "./context.js";
import { spawnJoin, waitOrStop } from "./processes.js";
import type { RestartRun } from "./results.js";
import { createRandom, riskEventRecord } from "./workload.js";

export async function runRestart(context: BenchContext): Promise<RestartRun> {
  const { broker, options } = context;
  const customers = options.restartCustomers;
  const redis = await context.customerTopic(customers);
  const { events, output, dlq, group } = await createJoinTopics(broker, "restart", options.partitions);
  const stateDir = mkdtempSync(join(tmpdir(), "stedi-bench-state-"));
  // The output records' timestamps are the join's clock when it wrote them.
  const outputTimes: number[] = [];
  let counterFailure: Error | undefined;
  const counter = await consumeFromStart(
    broker,
    output,
    (records) => {
      for (const record of records) outputTimes.push(Number(record.timestamp));
    },
    (error) => {
      counterFailure = error;
    },
  );
  const random = createRandom(options.seed + 3);
  const baseTime = Date.parse("2026-01-01T00:00:00.000Z");

  /** One event for a known customer, then a join that exits once idle: spawn → its output. */
  const restart = async (withCheckpoint: boolean): Promise<number> => {
    const before = outputTimes.length;
    await produceAll(broker, events, 1, () => ({
      key: null,
      value: riskEventRecord(random, customers, baseTime).value,
    }));
    const spawned = spawnJoin({
      projectRoot: context.projectRoot,
      brokers: options.brokers,
      redisTopic: redis,
      eventsTopic: events,
      outputTopic: output,
      dlqTopic: dlq,
      group,
      exitOnIdleMs: 1500,
      ...(withCheckpoint ? { stateDir } : {}),
      nodeArgs: options.nodeArgs,
    });
    const code = await waitOrStop(spawned, 120_000 + customers / 5);
    if (code !== 0) throw new Error(`stedi join exited with ${code}`);
    if (counterFailure) throw new Error(`counting the join's outputs failed: ${counterFailure.message}`);
    if (!(await waitFor(() => outputTimes.length > before, 10_000, 20)))
      throw new Error("stedi join exited without joining its event");
    return (outputTimes[before] as number) - spawned.startedAt;
  };

  try {
    // The group's first run: it writes the checkpoint the later runs start from.
    const firstRunMs = await restart(true);
    const file = readdirSync(stateDir)[0];
    if (file === undefined) throw new Error("stedi join wrote no checkpoint");
    const checkpointBytes = statSync(join(stateDir, file)).size;
    const withoutMs: number[] = [];
    const withMs: number[] = [];
    for (let round = 0; round < options.repeat; round += 1) {
      withoutMs.push(await restart(false));
      withMs.push(await restart(true));
      context.log(
        `restart ${customers.toLocaleString("en-US")} customers: first output ${withoutMs.at(-1)} ms without the checkpoint, ${withMs.at(-1)} ms with it`,
      );
    }
    return { customers, firstRunMs, checkpointBytes, withoutMs, withMs };
  } finally {
    await counter.close().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
