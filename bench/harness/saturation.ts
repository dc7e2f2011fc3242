// Saturation: the join and the copy-only pipe limit, each from pre-loaded topics to their last output,
// interleaved so that a noisy neighbour slows both alike; optionally Spark and Kafka Streams on the same input.

import { availableParallelism } from "node:os";
import { produceAll, readOutputTimes } from "./broker.js";
import type { BenchContext } from "./context.js";
import { MemorySampler, type Spawned, spawnCopy, spawnJoin, waitOrStop } from "./processes.js";
import {
  type BenchResult,
  type KafkaStreamsFailure,
  type KafkaStreamsRun,
  kafkaStreamsGuarantees,
  type SparkRun,
  type ThroughputRun,
} from "./results.js";
import { createRandom, riskEventRecord } from "./workload.js";

const round = (value: number, digits: number) => Number(value.toFixed(digits));

async function measure(
  context: BenchContext,
  kind: "join" | "copy",
  topics: { redis: string; events: string },
): Promise<ThroughputRun> {
  const { broker, options } = context;
  const output = broker.name(`${kind}-out`);
  const dlq = broker.name("dlq");
  const group = broker.name(`${kind}-group`);
  await broker.createTopics([
    { topic: output, partitions: options.partitions },
    { topic: dlq, partitions: 1 },
  ]);
  let spawned: Spawned;
  if (kind === "join") {
    spawned = spawnJoin({
      projectRoot: context.projectRoot,
      brokers: options.brokers,
      redisTopic: topics.redis,
      eventsTopic: topics.events,
      outputTopic: output,
      dlqTopic: dlq,
      group,
      exitOnIdleMs: 2000,
      nodeArgs: options.nodeArgs,
      workers: options.joinWorkers,
    });
  } else {
    spawned = spawnCopy({
      brokers: options.brokers,
      from: topics.events,
      to: output,
      group,
      expect: options.events,
    });
  }
  const memory = new MemorySampler(spawned.pid);
  // Generous: 2 minutes plus 1 ms per event (1 000 events/s would be far below anything seen).
  const code = await waitOrStop(spawned, 120_000 + options.events);
  memory.stop();
  if (code !== 0) throw new Error(`${kind === "join" ? "stedi join" : "the copy"} exited with ${code}`);
  const times = await readOutputTimes(broker, output, options.events);
  if (times.count < options.events) {
    context.log(`warning: ${kind} wrote ${times.count} of ${options.events} outputs`);
  }
  const seconds = (times.last - spawned.startedAt) / 1000;
  const run: ThroughputRun = {
    kind,
    events: options.events,
    outputs: times.count,
    secondsToLastOutput: round(seconds, 2),
    firstOutputMs: times.first - spawned.startedAt,
    eventsPerSecond: Math.round(options.events / seconds),
    steadyEventsPerSecond: Math.round(times.count / Math.max(0.001, (times.last - times.first) / 1000)),
    peakRssMiB: round(memory.peakMiB, 1),
  };
  context.log(
    `${kind}: ${run.eventsPerSecond.toLocaleString("en-US")} events/s (steady ${run.steadyEventsPerSecond.toLocaleString("en-US")}), first output ${run.firstOutputMs} ms, peak RSS ${run.peakRssMiB} MiB`,
  );
  return run;
}

async function measureSpark(
  context: BenchContext,
  topics: { redis: string; events: string },
  joinOutputs: number,
): Promise<SparkRun | { error: string }> {
  const { broker, options } = context;
  try {
    // Loaded only when asked: the Spark harness and its install are needed by --vs spark alone.
    const { explainOutputCounts, runSparkJoin } = await import("./spark.js");
    const output = broker.name("spark-out");
    await broker.createTopics([{ topic: output, partitions: options.partitions }]);
    context.log("running the Spark join on the same input topics");
    const outcome = await runSparkJoin({
      brokers: options.brokers,
      redisTopic: topics.redis,
      eventsTopic: topics.events,
      outputTopic: output,
      partitions: options.partitions,
      expectedOutputs: options.events,
      timeoutMs: options.sparkTimeoutMs,
      log: context.log,
    });
    const run: SparkRun = {
      seconds: round(outcome.seconds, 2),
      firstOutputMs: Math.round(outcome.firstOutputMs),
      outputs: outcome.outputs,
      peakRssMiB: round(outcome.peakRssMiB, 1),
      startupMs: Math.round(outcome.startupMs),
      timedOut: outcome.timedOut,
      outputsCompared: explainOutputCounts({
        stedi: joinOutputs,
        spark: outcome.outputs,
        sparkTimedOut: outcome.timedOut,
      }),
      // What Spark delivered: all events, unless the timeout stopped it first.
      eventsPerSecond: Math.round(outcome.outputs / outcome.seconds),
      steadyEventsPerSecond: Math.round(
        outcome.outputs / Math.max(0.001, outcome.seconds - outcome.firstOutputMs / 1000),
      ),
    };
    context.log(`spark: ${run.eventsPerSecond.toLocaleString("en-US")} events/s, ${run.outputs} outputs`);
    return run;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    context.log(`spark: ${message}`);
    return { error: message };
  }
}

/** Kafka Streams under each guarantee in turn, each into a fresh output topic with a fresh application id. */
async function measureKafkaStreams(
  context: BenchContext,
  topics: { redis: string; events: string },
  joinOutputs: number,
): Promise<(KafkaStreamsRun | KafkaStreamsFailure)[]> {
  const { broker, options, log } = context;
  // Loaded only when asked, as Spark's harness is.
  const { buildKafkaStreamsJoin, explainKafkaStreamsOutputs, kafkaStreamsThreads, runKafkaStreamsJoin } =
    await import("./kafka-streams.js");
  let jar: string;
  try {
    jar = await buildKafkaStreamsJoin(log);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`kafka-streams: ${message}`);
    return kafkaStreamsGuarantees.map((guarantee) => ({ guarantee, error: message }));
  }
  const threads = kafkaStreamsThreads(options.partitions, availableParallelism());
  const runs: (KafkaStreamsRun | KafkaStreamsFailure)[] = [];
  for (const guarantee of kafkaStreamsGuarantees) {
    try {
      const output = broker.name("kstreams-out");
      await broker.createTopics([{ topic: output, partitions: options.partitions }]);
      log(`running Kafka Streams (${guarantee}, ${threads} stream threads) on the same input topics`);
      const outcome = await runKafkaStreamsJoin({
        broker,
        jar,
        redisTopic: topics.redis,
        eventsTopic: topics.events,
        outputTopic: output,
        // Named like every other bench resource, so that the clean-up deletes its consumer group.
        applicationId: broker.name("kstreams-app"),
        guarantee,
        threads,
        events: options.events,
        timeoutMs: options.kafkaStreamsTimeoutMs,
        log,
      });
      const { count, first, last } = outcome.outputs;
      if (count === 0) {
        const seen = outcome.counts ? JSON.stringify(outcome.counts) : "no counts reported";
        throw new Error(`no outputs${outcome.timedOut ? " before the timeout" : ""} (${seen})`);
      }
      const seconds = (last - outcome.startedAt) / 1000;
      const withoutCustomer = outcome.counts?.["without-customer"];
      const run: KafkaStreamsRun = {
        guarantee,
        threads,
        seconds: round(seconds, 2),
        firstOutputMs: first - outcome.startedAt,
        outputs: count,
        peakRssMiB: round(outcome.peakRssMiB, 1),
        startupMs: Math.round(outcome.startupMs),
        // What Kafka Streams delivered, as for Spark: all events, unless some were dropped or the timeout struck.
        eventsPerSecond: Math.round(count / seconds),
        steadyEventsPerSecond: Math.round(count / Math.max(0.001, (last - first) / 1000)),
        withoutCustomer,
        malformedOutputs: outcome.malformed,
        timedOut: outcome.timedOut,
        outputsCompared: explainKafkaStreamsOutputs({
          stedi: joinOutputs,
          kafkaStreams: count,
          guarantee,
          withoutCustomer,
          timedOut: outcome.timedOut,
        }),
      };
      log(
        `kafka-streams ${guarantee}: ${run.eventsPerSecond.toLocaleString("en-US")} events/s (steady ${run.steadyEventsPerSecond.toLocaleString("en-US")}), first output ${run.firstOutputMs} ms, peak RSS ${run.peakRssMiB} MiB, ${count} outputs`,
      );
      runs.push(run);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`kafka-streams ${guarantee}: ${message}`);
      runs.push({ guarantee, error: message });
    }
  }
  return runs;
}

export async function runSaturation(context: BenchContext): Promise<NonNullable<BenchResult["saturation"]>> {
  const { broker, options } = context;
  const redis = await context.customerTopic(options.customers);
  const events = broker.name("events");
  await broker.createTopics([{ topic: events, partitions: options.partitions }]);
  const started = performance.now();
  const random = createRandom(options.seed);
  const baseTime = Date.parse("2026-01-01T00:00:00.000Z");
  await produceAll(broker, events, options.events, (index) => ({
    key: null,
    value: riskEventRecord(random, options.customers, baseTime + index).value,
  }));
  context.log(
    `loaded ${options.events.toLocaleString("en-US")} risk events in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const topics = { redis, events };
  const joinRuns: ThroughputRun[] = [];
  const copyRuns: ThroughputRun[] = [];
  for (let round = 0; round < options.repeat; round += 1) {
    context.log(`saturation round ${round + 1} of ${options.repeat}`);
    // Alternate the order so that neither always runs first (warmer page cache, quieter neighbours).
    const order: ("join" | "copy")[] = round % 2 === 0 ? ["join", "copy"] : ["copy", "join"];
    for (const kind of order) {
      const run = await measure(context, kind, topics);
      (kind === "join" ? joinRuns : copyRuns).push(run);
    }
  }
  const joinOutputs = Math.min(...joinRuns.map((run) => run.outputs));
  const spark = options.vsSpark ? await measureSpark(context, topics, joinOutputs) : undefined;
  const kafkaStreams = options.vsKafkaStreams
    ? await measureKafkaStreams(context, topics, joinOutputs)
    : undefined;
  return {
    customers: options.customers,
    events: options.events,
    partitions: options.partitions,
    join: joinRuns,
    copy: copyRuns,
    ...(spark ? { spark } : {}),
    ...(kafkaStreams ? { kafkaStreams } : {}),
  };
}
