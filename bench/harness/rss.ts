// Memory: the join's VmRSS once a table of N customers is loaded, then as risk events are fed in equal
// steps (each step fully joined before the next), and its VmHWM over the run.

import { consumeFromStart, createJoinTopics, produceAll, sleep, waitFor } from "./broker.js";
import type { BenchContext } from "./context.js";
import { isRunning, MemorySampler, spawnJoin, stop } from "./processes.js";
import type { RssRun, RssStep } from "./results.js";
import { createRandom, riskEventRecord } from "./workload.js";

const round1 = (value: number) => Number(value.toFixed(1));

/** Lets the join settle after a step (its timers, a GC) before reading VmRSS. */
const settleMs = 1000;

async function measureTable(context: BenchContext, customers: number): Promise<RssRun> {
  const { broker, options } = context;
  const redis = await context.customerTopic(customers);
  const { events, output, dlq, group } = await createJoinTopics(broker, "rss", options.partitions);

  let outputs = 0;
  let firstOutputAt = 0;
  let counterFailure: Error | undefined;
  const counter = await consumeFromStart(
    broker,
    output,
    (records) => {
      if (outputs === 0 && records[0]) firstOutputAt = Number(records[0].timestamp);
      outputs += records.length;
    },
    (error) => {
      counterFailure = error;
    },
  );
  const joinProcess = spawnJoin({
    projectRoot: context.projectRoot,
    brokers: options.brokers,
    redisTopic: redis,
    eventsTopic: events,
    outputTopic: output,
    dlqTopic: dlq,
    group,
    nodeArgs: options.nodeArgs,
  });
  const memory = new MemorySampler(joinProcess.pid);
  const random = createRandom(options.seed + 2);
  const baseTime = Date.parse("2026-01-01T00:00:00.000Z");
  /** The join runs and its outputs are being counted: otherwise waiting for outputs is pointless. */
  const alive = () => {
    if (counterFailure) throw new Error(`counting the join's outputs failed: ${counterFailure.message}`);
    return isRunning(joinProcess.child);
  };
  try {
    // One event for a known customer: it comes out once the whole table is loaded.
    await produceAll(broker, events, 1, () => ({
      key: null,
      value: riskEventRecord(random, customers, baseTime).value,
    }));
    const loadLimitMs = 60_000 + customers / 5;
    if (!(await waitFor(() => outputs >= 1 || !alive(), loadLimitMs, 50)) || !alive()) {
      throw new Error(`stedi join did not join its first event with ${customers} customers`);
    }
    const firstOutputMs = firstOutputAt - joinProcess.startedAt;
    await sleep(settleMs);
    memory.takeMaxSinceMark();
    const loadedMiB = memory.latestMiB;
    context.log(
      `rss ${customers.toLocaleString("en-US")} customers: first output ${firstOutputMs} ms, ${round1(loadedMiB)} MiB once loaded`,
    );
    const steps: RssStep[] = [];
    const perStep = Math.ceil(options.rssEvents / options.rssSteps);
    let fed = 0;
    for (let step = 0; step < options.rssSteps; step += 1) {
      const count = Math.min(perStep, options.rssEvents - fed);
      const offset = fed;
      await produceAll(broker, events, count, (index) => ({
        key: null,
        value: riskEventRecord(random, customers, baseTime + offset + index).value,
      }));
      fed += count;
      const limit = 60_000 + count;
      if (!(await waitFor(() => outputs >= 1 + fed || !alive(), limit, 100)) || !alive()) {
        throw new Error(`stedi join joined ${outputs - 1} of ${fed} events in time`);
      }
      await sleep(settleMs);
      const maxRssMiB = memory.takeMaxSinceMark();
      steps.push({ events: fed, rssMiB: round1(memory.latestMiB), maxRssMiB: round1(maxRssMiB) });
      context.log(
        `rss ${customers.toLocaleString("en-US")} customers: ${round1(memory.latestMiB)} MiB after ${fed.toLocaleString("en-US")} events (max ${round1(maxRssMiB)})`,
      );
    }
    memory.sample();
    const lastRss = steps.at(-1)?.rssMiB ?? loadedMiB;
    return {
      customers,
      firstOutputMs,
      loadedMiB: round1(loadedMiB),
      steps,
      peakMiB: round1(memory.peakMiB),
      growthMiB: round1(lastRss - loadedMiB),
    };
  } finally {
    memory.stop();
    await stop(joinProcess);
    await counter.close().catch(() => undefined);
  }
}

export async function runRss(context: BenchContext): Promise<RssRun[]> {
  const runs: RssRun[] = [];
  for (const customers of context.options.rssCustomers) runs.push(await measureTable(context, customers));
  return runs;
}
