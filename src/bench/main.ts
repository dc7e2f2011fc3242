// npm run bench: loads N customers and M risk events into fresh topics on the local broker, runs the
// built `stedi join` from the start to its last output, and reports throughput, first-output time and
// peak memory. Results go to stdout as a table and to bench/results/ as JSON.

import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Table from "cli-table3";
import { Kafka, logLevel, type Message } from "kafkajs";
import { customerBirthYear, customerRecord, createRandom, riskEventRecord } from "./workload.js";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const { values: options } = parseArgs({
  options: {
    customers: { type: "string", default: "100000" },
    events: { type: "string", default: "1000000" },
    partitions: { type: "string", default: "2" },
    seed: { type: "string", default: "7" },
    brokers: { type: "string", default: process.env.KAFKA_BROKERS ?? "127.0.0.1:9092" },
    "node-args": { type: "string", default: "" },
    help: { type: "boolean", default: false },
  },
});

if (options.help) {
  process.stdout.write(
    [
      "usage: npm run bench -- [--customers N] [--events M] [--partitions P] [--seed S] [--brokers host:port]",
      "                        [--node-args '--cpu-prof --cpu-prof-dir=.cache/prof']   (to profile the join)",
      "",
      "Loads N customers (default 100000) and M risk events (default 1000000) into fresh topics, runs",
      "`stedi join` from the start to its last output and prints events/s, peak RSS and first-output time.",
      "The local stack is started when it is not running (scripts/stack.sh up).",
      "",
    ].join("\n"),
  );
  process.exit(0);
}

const customers = Number(options.customers);
const events = Number(options.events);
const partitions = Number(options.partitions);
const brokers = options.brokers.split(",");
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

const kafka = new Kafka({ clientId: "stedi-bench", brokers, logLevel: logLevel.NOTHING });

async function produceAll(topic: string, count: number, make: (index: number) => Message) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  // Requests stay under the broker's default 1 MiB record-batch limit.
  const chunk = 2000;
  const inFlight: Promise<unknown>[] = [];
  for (let start = 0; start < count; start += chunk) {
    const messages: Message[] = [];
    for (let index = start; index < Math.min(count, start + chunk); index += 1) messages.push(make(index));
    inFlight.push(producer.send({ topic, messages, acks: 1 }));
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await producer.disconnect();
}

/** Samples a process's resident memory from /proc; VmHWM is the kernel's own high-water mark. */
function readMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib("VmRSS"), peak: kib("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Reads the output topic's record timestamps: when the first and the last joined record were written. */
async function outputTimes(topic: string, expected: number): Promise<{ count: number; first: number; last: number }> {
  const consumer = kafka.consumer({ groupId: `stedi-bench-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  await new Promise<void>((done) => {
    const timer = setTimeout(done, 60_000);
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const time = Number(message.timestamp);
          if (time < first) first = time;
          if (time > last) last = time;
        }
        count += batch.messages.length;
        if (count >= expected) {
          clearTimeout(timer);
          done();
        }
      },
    });
  });
  await consumer.disconnect();
  return { count, first, last };
}

async function main() {
  execFileSync("bash", [join(projectRoot, "scripts", "stack.sh"), "up"], { stdio: ["ignore", "ignore", "inherit"] });
  const id = randomUUID().slice(0, 8);
  const topics = {
    redis: `bench-redis-${id}`,
    events: `bench-events-${id}`,
    output: `bench-graph-${id}`,
    dlq: `bench-dlq-${id}`,
  };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.redis, numPartitions: 1 },
      { topic: topics.events, numPartitions: partitions },
      { topic: topics.output, numPartitions: partitions },
      { topic: topics.dlq, numPartitions: 1 },
    ],
  });

  log(`loading ${customers} customers and ${events} risk events (seed ${options.seed})`);
  const loadStart = Date.now();
  await produceAll(topics.redis, customers, (index) => ({ value: customerRecord(index, customerBirthYear(index)) }));
  const random = createRandom(Number(options.seed));
  const baseTime = Date.parse("2026-01-01T00:00:00.000Z");
  await produceAll(topics.events, events, (index) => {
    const event = riskEventRecord(random, customers, baseTime + index);
    return { value: event.value };
  });
  log(`loaded in ${((Date.now() - loadStart) / 1000).toFixed(1)} s; running stedi join`);

  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      ...options["node-args"].split(" ").filter((arg) => arg !== ""),
      join(projectRoot, "bin", "stedi.js"),
      "join",
      "--brokers",
      brokers.join(","),
      "--redis-topic",
      topics.redis,
      "--events-topic",
      topics.events,
      "--output-topic",
      topics.output,
      "--dlq-topic",
      topics.dlq,
      "--group",
      `bench-${id}`,
      "--exit-on-idle",
      "2000",
      "--no-log",
    ],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, NO_COLOR: "1" } },
  );
  let peakRss = 0;
  const sampler = setInterval(() => {
    const memory = child.pid === undefined ? undefined : readMemory(child.pid);
    if (memory) peakRss = Math.max(peakRss, memory.peak, memory.rss);
  }, 100);
  const code = await new Promise<number | null>((done) => child.on("exit", done));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`stedi join exited with ${code}`);

  const output = await outputTimes(topics.output, events);
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();

  const seconds = (output.last - started) / 1000;
  const result = {
    date: new Date().toISOString(),
    customers,
    events,
    partitions,
    outputs: output.count,
    eventsPerSecond: Math.round(events / seconds),
    secondsToLastOutput: Number(seconds.toFixed(2)),
    firstOutputMs: output.first - started,
    peakRssMiB: Number((peakRss / 1024 / 1024).toFixed(1)),
    node: process.version,
  };
  const table = new Table({ head: ["measure", "stedi join"] });
  table.push(
    ["customers / risk events", `${customers} / ${events}`],
    ["joined records", String(result.outputs)],
    ["events/s (start → last output)", String(result.eventsPerSecond)],
    ["time to last output", `${result.secondsToLastOutput} s`],
    ["time to first output", `${result.firstOutputMs} ms`],
    ["peak RSS", `${result.peakRssMiB} MiB`],
  );
  process.stdout.write(`${table.toString()}\n`);
  const resultsDir = join(projectRoot, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `join-${result.date.replaceAll(":", "-")}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`results written to ${file}`);
  if (output.count !== events) throw new Error(`expected ${events} joined records, found ${output.count}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
