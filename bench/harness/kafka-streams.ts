// The Kafka Streams peer of `npm run bench -- --vs kafka-streams`: bench/kafka-streams's join (customers in a
// global store, risk events joined in the task that reads them) on the saturation part's input topics, each
// run into an empty output topic of its own and measured as `stedi join` is — from the JVM's spawn to the
// last output record's timestamp, counted by a read_committed reader — plus the JVM's peak RSS. The jar is
// built on demand by bench/kafka-streams/setup.sh into the git-ignored .cache/kafka-streams.

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { encodeGraphRecord, toGraphRecord } from "../../src/core/graph/graph-record.js";
import { type BenchBroker, readOutputTimes, sleep } from "./broker.js";
import { projectRoot } from "./paths.js";
import { isRunning, MemorySampler, runSetupScript, signalGroup, trackGroup } from "./processes.js";
import type { KafkaStreamsGuarantee } from "./results.js";
import { benchCustomerIndex, customerBirthYear, scoreOfGraphRecord } from "./workload.js";

export type KafkaStreamsJoinOptions = {
  broker: BenchBroker;
  /** The jar bench/kafka-streams/setup.sh printed. */
  jar: string;
  redisTopic: string;
  eventsTopic: string;
  /** Must exist and be empty: every record in it is counted as Kafka Streams' output. */
  outputTopic: string;
  /** Fresh per run: the consumer group and the transactional ids' prefix. */
  applicationId: string;
  guarantee: KafkaStreamsGuarantee;
  threads: number;
  /** The risk events in the input topic: the run is stopped once all are processed and committed. */
  events: number;
  /** From the JVM's spawn; whatever the output topic holds by then is counted. */
  timeoutMs: number;
  log: (line: string) => void;
};

export type KafkaStreamsJoinOutcome = {
  /** Date.now() just before the spawn. */
  startedAt: number;
  /** The output topic as a read_committed reader saw it after the run. */
  outputs: { count: number; first: number; last: number };
  /** Outputs whose bytes differ from what stedi writes for the same event; and the first of them. */
  malformed: number;
  firstMalformed?: string;
  peakRssMiB: number;
  /** Spawn → the application first RUNNING; NaN when it never was. */
  startupMs: number;
  /** The JVM's last `counts` line; undefined when it printed none. */
  counts?: Record<string, number>;
  timedOut: boolean;
};

/**
 * The JVM's options: a heap ceiling such as one gives a small service, so that the peak RSS says what this
 * join needs rather than how much the machine has (the default is a quarter of physical memory).
 */
const jvmOptions = ["-Xmx1g", "-XX:+ExitOnOutOfMemoryError"];
/** How long the output topic's end must stay put, once every event is processed, before the run is stopped. */
const SETTLE_MS = 2000;
/** How long Kafka Streams gets to close (it waits up to 20 s itself) after SIGTERM before it is killed. */
const STOP_GRACE_MS = 30_000;

// ------------------------------------------------------------------------------------------------- pure

/** The jar of setup.sh's last `jar=` line. Throws when there is none. */
export function parseSetupJar(stdout: string): string {
  const jar = stdout
    .split("\n")
    .findLast((line) => line.startsWith("jar="))
    ?.slice(4)
    .trim();
  if (!jar) throw new Error("bench/kafka-streams/setup.sh printed no jar= line");
  return jar;
}

export type KafkaStreamsReport =
  | { event: "loading-customers" | "customers-loaded" | "started" | "stopped"; time: number }
  | { event: "counts"; counts: Record<string, number> };

/** The `stedi-kstreams …` lines the JVM prints for the harness; undefined for anything else. */
export function parseKafkaStreamsReport(line: string): KafkaStreamsReport | undefined {
  const timed = /^stedi-kstreams (loading-customers|customers-loaded|started|stopped) (\d+)$/.exec(
    line.trim(),
  );
  if (timed?.[1] && timed[2]) {
    const event = timed[1] as "loading-customers" | "customers-loaded" | "started" | "stopped";
    return { event, time: Number(timed[2]) };
  }
  const counts = /^stedi-kstreams counts((?: [a-z-]+=\d+)+)$/.exec(line.trim());
  if (!counts?.[1]) return undefined;
  const pairs = counts[1]
    .trim()
    .split(" ")
    .map((pair) => pair.split("="));
  return { event: "counts", counts: Object.fromEntries(pairs.map(([name, value]) => [name, Number(value)])) };
}

/** Risk events the JVM has taken from its input: joined, dropped without a customer, or rejected. */
export const eventsProcessed = (counts: Record<string, number> | undefined): number =>
  (counts?.joined ?? 0) + (counts?.["without-customer"] ?? 0) + (counts?.["rejected-events"] ?? 0);

/**
 * Stream threads for a machine: one per input partition (each its own task), but no more than the
 * cores, which the global thread, the clients' network threads and a local broker share as well.
 */
export const kafkaStreamsThreads = (partitions: number, cores: number): number =>
  Math.max(1, Math.min(partitions, cores));

/**
 * How an output record differs from what stedi writes for the same event (the bench's workload fixes each
 * customer's birth year): undefined when it is byte for byte the same, key included.
 */
export function describeOutputDifference(key: Buffer | null, value: Buffer | null): string | undefined {
  const text = value?.toString("utf8");
  if (text === undefined) return "a record without a value";
  const score = scoreOfGraphRecord(text);
  const email = /"email":"([^"\\]*)"/.exec(text)?.[1];
  const index = email === undefined ? undefined : benchCustomerIndex(email);
  if (score === undefined || email === undefined || index === undefined) {
    return `not a bench customer's joined record: ${text.slice(0, 160)}`;
  }
  const expected = encodeGraphRecord(toGraphRecord(email, Number(score), String(customerBirthYear(index))));
  if (text !== expected) return `${text} where stedi writes ${expected}`;
  const keyText = key?.toString("utf8");
  if (keyText !== email) return `key ${JSON.stringify(keyText ?? null)} where stedi writes ${email}`;
  return undefined;
}

/** Explains a difference between Kafka Streams' output count and stedi's on the same input. */
export function explainKafkaStreamsOutputs(counts: {
  stedi: number;
  kafkaStreams: number;
  guarantee: KafkaStreamsGuarantee;
  withoutCustomer: number | undefined;
  timedOut: boolean;
}): string {
  const difference = counts.kafkaStreams - counts.stedi;
  if (difference === 0) return "same count: one output per risk event in both";
  if (difference > 0) {
    return counts.guarantee === "at_least_once"
      ? `Kafka Streams wrote ${difference} more: under at_least_once a task that restarts writes again what it had not committed`
      : `Kafka Streams wrote ${difference} more, which exactly_once_v2 should rule out`;
  }
  const reasons: string[] = [];
  if (counts.withoutCustomer !== undefined && counts.withoutCustomer > 0) {
    reasons.push(
      `${counts.withoutCustomer} events found no customer in the global store and were dropped (stedi holds such an event until its customer arrives)`,
    );
  }
  if (counts.timedOut) reasons.push("the timeout stopped it");
  return `Kafka Streams wrote ${-difference} fewer: ${reasons.length > 0 ? reasons.join("; ") : "see its log above"}`;
}

// ------------------------------------------------------------------------------------------------ shell

/** Builds the peer when its sources changed (bench/kafka-streams/setup.sh) and returns its jar. */
export async function buildKafkaStreamsJoin(log: (line: string) => void): Promise<string> {
  return parseSetupJar(await runSetupScript(join(projectRoot, "bench", "kafka-streams", "setup.sh"), log));
}

/** Stops the JVM: SIGTERM runs its shutdown hook (close, commit, counts); the group is killed after the grace. */
async function stopJvm(child: ChildProcess, group: number, exited: Promise<unknown>): Promise<void> {
  if (isRunning(child)) {
    child.kill("SIGTERM");
    const graceful = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!graceful) signalGroup(group, "SIGKILL");
  }
  await Promise.race([exited, sleep(10_000)]);
  // Nothing of the group may outlive the run, whatever the JVM started.
  signalGroup(group, "SIGKILL");
}

/** Sum of the partitions' last stable offsets: it moves when outputs are written (and committed). */
async function outputEnd(broker: BenchBroker, topic: string): Promise<number> {
  const ranges = await broker.port.offsetRanges(topic);
  return [...ranges.values()].reduce((sum, range) => sum + range.high, 0);
}

/**
 * Runs Kafka Streams on the input until every event is processed and the output has stopped moving (or
 * the timeout), stops it, then reads its whole output topic. Throws when the JVM exits by itself.
 */
export async function runKafkaStreamsJoin(
  options: KafkaStreamsJoinOptions,
): Promise<KafkaStreamsJoinOutcome> {
  const { broker, log } = options;
  const label = `kafka-streams ${options.guarantee}`;
  broker.assertOpen();
  const startedAt = Date.now();
  const child = spawn(
    "java",
    [
      ...jvmOptions,
      "-jar",
      options.jar,
      "--brokers",
      broker.brokers.join(","),
      "--redis-topic",
      options.redisTopic,
      "--events-topic",
      options.eventsTopic,
      "--output-topic",
      options.outputTopic,
      "--application-id",
      options.applicationId,
      "--guarantee",
      options.guarantee,
      "--threads",
      String(options.threads),
    ],
    // Its own process group: how the bench's Ctrl-C handling finds and stops it.
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const group = child.pid;
  if (group === undefined) {
    child.on("error", () => undefined);
    throw new Error("could not start java; the Kafka Streams peer needs Java 17+");
  }
  const untrack = trackGroup(group);
  child.on("error", (error) => log(`${label}: ${error.message}`));
  // "close" rather than "exit": the final counts line must have been read by then.
  const exited = new Promise<number | null>((done) => child.on("close", done));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });

  let runningAt: number | undefined;
  let counts: Record<string, number> | undefined;
  createInterface({ input: child.stdout }).on("line", (line) => {
    const report = parseKafkaStreamsReport(line);
    if (report === undefined) return;
    if (report.event === "counts") counts = report.counts;
    else {
      if (report.event === "started") runningAt ??= report.time;
      log(`${label}: ${report.event} after ${report.time - startedAt} ms`);
    }
  });
  const errorTail: string[] = [];
  createInterface({ input: child.stderr }).on("line", (line) => {
    if (line.trim() === "") return;
    errorTail.push(line);
    if (errorTail.length > 20) errorTail.shift();
    log(`${label}: ${line}`);
  });

  const memory = new MemorySampler(group);
  let timedOut = false;
  try {
    let end = 0;
    let endMovedAt = Date.now();
    for (;;) {
      await sleep(250);
      if (exitCode !== undefined) {
        throw new Error(`Kafka Streams exited early (code ${exitCode}):\n${errorTail.join("\n")}`);
      }
      const now = Date.now();
      const latest = await outputEnd(broker, options.outputTopic);
      if (latest !== end) {
        end = latest;
        endMovedAt = now;
      }
      if (eventsProcessed(counts) >= options.events && now - endMovedAt >= SETTLE_MS) break;
      if (now - startedAt >= options.timeoutMs) {
        timedOut = true;
        log(`${label}: timed out after ${options.timeoutMs} ms, ${eventsProcessed(counts)} events processed`);
        break;
      }
    }
  } finally {
    try {
      await stopJvm(child, group, exited);
    } finally {
      memory.stop();
      untrack();
    }
  }
  if (counts) {
    const described = Object.entries(counts).map(([name, value]) => `${name} ${value}`);
    log(`${label}: ${described.join(", ")}`);
  }

  let malformed = 0;
  let firstMalformed: string | undefined;
  const outputs = await readOutputTimes(broker, options.outputTopic, options.events, {
    inspect: (record) => {
      const difference = describeOutputDifference(record.key, record.value);
      if (difference === undefined) return;
      malformed += 1;
      firstMalformed ??= difference;
    },
  });
  if (firstMalformed !== undefined)
    log(`${label}: ${malformed} outputs unlike stedi's, e.g. ${firstMalformed}`);
  return {
    startedAt,
    outputs,
    malformed,
    ...(firstMalformed === undefined ? {} : { firstMalformed }),
    peakRssMiB: memory.peakMiB,
    startupMs: runningAt === undefined ? Number.NaN : runningAt - startedAt,
    ...(counts === undefined ? {} : { counts }),
    timedOut,
  };
}
