// The Spark Structured Streaming baseline of `npm run bench -- --vs spark`: the seed's stream-stream join
// (bench/spark/join.py) on the same topics, measured the way the bench measures `stedi join` — from the
// process start to the output topic's record timestamps — plus the peak RSS of the whole process tree
// (Python driver and its JVM). PySpark and the connector jars are installed on demand by
// bench/spark/setup.sh into the git-ignored .cache/spark.

import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createKafkaPort, type GroupConsumer, type KafkaPort } from "../../src/adapters/kafka/index.js";
import { projectRoot } from "./paths.js";
import { isRunning, runSetupScript, signalGroup, trackGroup } from "./processes.js";

export interface SparkJoinOptions {
  brokers: string[];
  redisTopic: string;
  eventsTopic: string;
  /** Must exist and be empty: every record in it is counted as Spark's output. */
  outputTopic: string;
  partitions: number;
  expectedOutputs: number;
  /** From the Spark process's start; whatever is in the output topic by then is counted. */
  timeoutMs: number;
  log: (line: string) => void;
}

export interface SparkJoinResult {
  /** Process start → the last output record's timestamp. */
  seconds: number;
  firstOutputMs: number;
  outputs: number;
  peakRssMiB: number;
  /** Process start → the streaming query started (JVM, SparkSession and query planning). */
  startupMs: number;
  /** Time spent in setup.sh: a few hundred ms once installed, about a minute the first time. */
  installMs: number;
  /** The timeout ended the run before the expected count was reached. */
  timedOut: boolean;
}

/** After the expected count is reached, Spark may still emit extra pairs (duplicate customers): wait this long for quiet. */
const SETTLE_MS = 3000;
/** How long Spark gets to stop its query and session after SIGTERM before the process group is killed. */
const STOP_GRACE_MS = 30_000;

// ------------------------------------------------------------------------------------------------- pure

/** Reads setup.sh's `python=` and `jars=` lines. */
export function parseSetupOutput(stdout: string): { python: string; jars: string[] } {
  const value = (name: string) =>
    stdout
      .split("\n")
      .findLast((line) => line.startsWith(`${name}=`))
      ?.slice(name.length + 1)
      .trim();
  const python = value("python");
  const jars = value("jars");
  if (!python || !jars) throw new Error("bench/spark/setup.sh printed no python= and jars= lines");
  return { python, jars: jars.split(",").filter((jar) => jar !== "") };
}

/** The process group of a /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function processGroupOf(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After "pid (comm)": state, ppid, pgrp.
  const group = Number(fields[2]);
  return Number.isInteger(group) ? group : undefined;
}

/** VmRSS of a /proc/<pid>/status text, in bytes (0 for kernel threads and zombies, which have none). */
export function residentBytesOf(status: string): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** The `stedi-spark <event> <epoch-ms>` lines join.py prints for the harness. */
export function parseSparkReport(line: string): { event: string; time: number } | undefined {
  const match = /^stedi-spark (\w+) (\d+)$/.exec(line.trim());
  return match?.[1] && match[2] ? { event: match[1], time: Number(match[2]) } : undefined;
}

/**
 * Explains a difference between the two joins' output counts by their documented semantics
 * (docs: architecture "The join's contract"; bench/spark/join.py).
 */
export function explainOutputCounts(counts: {
  stedi: number;
  spark: number;
  sparkTimedOut: boolean;
}): string {
  const difference = counts.spark - counts.stedi;
  if (difference === 0) {
    return "same count: with one customer record per email both joins emit one row per risk event";
  }
  if (difference > 0) {
    return (
      `Spark emitted ${difference} more: its stream-stream inner join keeps every customer record and emits one ` +
      "row per matching (customer record, event) pair, so a re-added customer repeats its events; stedi keeps the " +
      "latest record per email and emits once per event"
    );
  }
  const reason = counts.sparkTimedOut
    ? "Spark was stopped by the timeout before its micro-batches caught up"
    : "Spark, like the seed, reads only zSetEntries[0] of a ZADD, so customers added as later members of one " +
      "ZADD never match; stedi reads every entry";
  return `Spark emitted ${-difference} fewer: ${reason}`;
}

// ------------------------------------------------------------------------------------------------ shell

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process ended between listing and reading
  }
}

function groupMembers(group: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readText(`/proc/${entry}/stat`);
    if (stat !== undefined && processGroupOf(stat) === group) members.push(Number(entry));
  }
  return members;
}

/** Resident memory of a whole process group: the Python driver plus the JVM it launched. */
function groupResidentBytes(group: number): number {
  let total = 0;
  for (const pid of groupMembers(group)) total += residentBytesOf(readText(`/proc/${pid}/status`) ?? "");
  return total;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function runSetup(log: (line: string) => void): Promise<{ python: string; jars: string[] }> {
  return parseSetupOutput(await runSetupScript(join(projectRoot, "bench", "spark", "setup.sh"), log));
}

/** Counts the output topic's records from the beginning and keeps the first and last record timestamps. */
class OutputCounter {
  count = 0;
  first = Number.POSITIVE_INFINITY;
  last = 0;
  lastArrival = 0;
  failure: Error | undefined;
  private consumer: GroupConsumer | undefined;

  constructor(
    private readonly kafka: KafkaPort,
    private readonly topic: string,
  ) {}

  async start(): Promise<void> {
    this.consumer = await this.kafka.consume({
      groupId: `stedi-bench-spark-${randomUUID()}`,
      topics: [this.topic],
      fromBeginning: true,
      autoCommit: false,
      eachBatch: async (batch) => {
        for (const record of batch.records) {
          const time = Number(record.timestamp);
          if (time < this.first) this.first = time;
          if (time > this.last) this.last = time;
        }
        this.count += batch.records.length;
        this.lastArrival = Date.now();
        return batch.records.at(-1)?.offset;
      },
      onFailure: (error) => {
        this.failure = error;
      },
    });
  }

  /**
   * Waits until every record the topic holds has been counted. Spark's producer is not transactional,
   * so the topic's end offsets count its records.
   */
  async drain(timeoutMs: number): Promise<void> {
    const ranges = await this.kafka.offsetRanges(this.topic);
    const total = [...ranges.values()].reduce((sum, range) => sum + range.high - range.low, 0);
    const deadline = Date.now() + timeoutMs;
    while (this.count < total && this.failure === undefined && Date.now() < deadline) await sleep(100);
  }

  async stop(): Promise<void> {
    await this.consumer?.close();
    await this.kafka.close();
  }
}

/** Stops Spark: SIGTERM lets join.py stop its query and session; whatever is left of the group is killed. */
async function stopSpark(child: ChildProcess, group: number, exited: Promise<unknown>): Promise<void> {
  if (isRunning(child)) {
    child.kill("SIGTERM");
    const graceful = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!graceful) signalGroup(group, "SIGKILL");
  }
  // The JVM follows its Python parent when its stdin closes; make sure of it.
  for (let waited = 0; groupMembers(group).length > 0; waited += 100) {
    if (waited === 5000) signalGroup(group, "SIGKILL");
    if (waited > 15_000) throw new Error(`Spark processes of group ${group} survive SIGKILL`);
    await sleep(100);
  }
}

export async function runSparkJoin(options: SparkJoinOptions): Promise<SparkJoinResult> {
  const { log } = options;
  const installStart = Date.now();
  const { python, jars } = await runSetup(log);
  const installMs = Date.now() - installStart;

  const counter = new OutputCounter(
    createKafkaPort({ brokers: options.brokers, connectTimeoutMs: 10_000 }, "stedi-bench-spark"),
    options.outputTopic,
  );
  try {
    await counter.start();
  } catch (error) {
    await counter.stop();
    throw error;
  }

  // The checkpoint starts empty, so the Kafka sources start from `earliest`; Spark's cwd is the same
  // scratch folder so nothing it may write lands in the work tree.
  const scratch = mkdtempSync(join(tmpdir(), "stedi-spark-"));
  // SPARK_LOCAL_IP: the broker is local too, and it spares Spark a host-name lookup and its warning.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PYSPARK_PYTHON: python,
    PYTHONUNBUFFERED: "1",
    SPARK_LOCAL_IP: "127.0.0.1",
    // Spark's scratch (block manager, staged jars) and Python's temp files go to the folder removed
    // afterwards: a killed run would otherwise leave them in /tmp.
    SPARK_LOCAL_DIRS: scratch,
    TMPDIR: scratch,
  };
  // A SPARK_HOME or submit arguments from the environment would point PySpark at another Spark.
  delete env.SPARK_HOME;
  delete env.PYSPARK_SUBMIT_ARGS;

  const started = Date.now();
  const child = spawn(
    python,
    [
      join(projectRoot, "bench", "spark", "join.py"),
      "--brokers",
      options.brokers.join(","),
      "--redis-topic",
      options.redisTopic,
      "--events-topic",
      options.eventsTopic,
      "--output-topic",
      options.outputTopic,
      "--partitions",
      String(options.partitions),
      "--checkpoint",
      join(scratch, "checkpoint"),
      "--jars",
      jars.join(","),
    ],
    // Its own process group: the JVM is a grandchild, and the group is how it is measured and stopped.
    { cwd: scratch, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const group = child.pid;
  if (group === undefined) {
    // spawn reports why on 'error' (e.g. ENOENT for a broken venv); the message below says what to redo.
    child.on("error", () => undefined);
    rmSync(scratch, { recursive: true, force: true });
    await counter.stop();
    throw new Error(`could not start ${python}; delete .cache/spark to reinstall the Spark baseline`);
  }
  child.on("error", (error) => log(`spark: ${error.message}`));
  const exited = new Promise<number | null>((done) => child.on("exit", done));

  // A Ctrl-C of the bench must not leave a JVM behind: the bench's cleanup stops the whole group.
  const untrack = trackGroup(group);

  let queryStarted: number | undefined;
  const errorTail: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const report = parseSparkReport(line);
    if (report?.event === "started") queryStarted = report.time;
    if (report) log(`spark: ${report.event} after ${report.time - started} ms`);
  });
  createInterface({ input: child.stderr }).on("line", (line) => {
    if (line.trim() === "") return;
    errorTail.push(line);
    if (errorTail.length > 20) errorTail.shift();
    log(`spark: ${line}`);
  });

  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, groupResidentBytes(group));
  }, 100);

  let timedOut = false;
  try {
    let exitCode: number | null | undefined;
    void exited.then((code) => {
      exitCode = code;
    });
    const deadline = started + options.timeoutMs;
    for (;;) {
      await sleep(100);
      if (exitCode !== undefined || counter.failure) break;
      const settled = Date.now() - counter.lastArrival >= SETTLE_MS;
      if (counter.count >= options.expectedOutputs && settled) break;
      if (Date.now() >= deadline) {
        timedOut = true;
        log(`spark: timed out after ${options.timeoutMs} ms with ${counter.count} outputs`);
        break;
      }
    }
    if (counter.failure) throw new Error(`counting Spark's outputs failed: ${counter.failure.message}`);
    if (exitCode !== undefined) {
      throw new Error(`Spark exited early (code ${exitCode}):\n${errorTail.join("\n")}`);
    }
    log(`spark: ${counter.count} outputs; stopping`);
  } finally {
    clearInterval(sampler);
    try {
      await stopSpark(child, group, exited);
    } finally {
      untrack();
      rmSync(scratch, { recursive: true, force: true });
      try {
        await counter.drain(10_000);
      } finally {
        await counter.stop();
      }
    }
  }

  return {
    seconds: counter.count > 0 ? (counter.last - started) / 1000 : Number.NaN,
    firstOutputMs: counter.count > 0 ? counter.first - started : Number.NaN,
    outputs: counter.count,
    peakRssMiB: Number((peakRss / 1024 / 1024).toFixed(1)),
    startupMs: queryStarted === undefined ? Number.NaN : queryStarted - started,
    installMs,
    timedOut,
  };
}
