// The bench's options: flags > environment (KAFKA_BROKERS, STEDI_KEEP_STACK) > defaults (full or --quick),
// validated once.

import { parseArgs } from "node:util";
import { clusterBrokers, type SoakOptions } from "./soak.js";

export const parts = ["saturation", "latency", "rss", "restart"] as const;
export type Part = (typeof parts)[number];

/** What `--vs` runs beside stedi's join on the saturation part's input. */
export const peers = ["spark", "kafka-streams"] as const;

export type BenchOptions = {
  brokers: string[];
  seed: number;
  partitions: number;
  /** Customers in the table for the saturation and latency runs. */
  customers: number;
  /** Pre-loaded risk events for each saturation run. */
  events: number;
  /** Saturation runs of the join and of the copy, interleaved; medians are reported. */
  repeat: number;
  /** Offered rates (events/s) of the open-loop latency runs. */
  rates: number[];
  /** Seconds measured per rate, after `warmupSeconds` at the same rate that are not recorded. */
  durationSeconds: number;
  warmupSeconds: number;
  /** Table sizes of the memory runs and the events fed to each, in `rssSteps` equal steps. */
  rssCustomers: number[];
  rssEvents: number;
  rssSteps: number;
  /** Customers in the table of the restart runs (with and without a checkpoint, `repeat` rounds). */
  restartCustomers: number;
  only: Part[];
  vsSpark: boolean;
  sparkTimeoutMs: number;
  /** Kafka Streams, under exactly_once_v2 and then at_least_once. */
  vsKafkaStreams: boolean;
  /** Per mode, from the JVM's spawn. */
  kafkaStreamsTimeoutMs: number;
  nodeArgs: string[];
  /** Processes of the saturation part's join (`stedi join --workers N`). */
  joinWorkers: number;
  outDir: string;
  quick: boolean;
  /** Leave the stack services the bench started running afterwards. */
  keepStack: boolean;
};

const full = {
  customers: 100_000,
  events: 1_000_000,
  repeat: 3,
  rates: [1000, 5000, 20_000],
  durationSeconds: 10,
  warmupSeconds: 2,
  rssCustomers: [100_000, 1_000_000],
  rssEvents: 1_000_000,
  rssSteps: 4,
  restartCustomers: 1_000_000,
};

/** The full run, smaller: fewer events, one round, shorter rates. */
const quick: typeof full = {
  ...full,
  events: 200_000,
  repeat: 1,
  durationSeconds: 4,
  warmupSeconds: 1,
  rssEvents: 200_000,
  rssSteps: 2,
};

export const benchHelp = `usage: npm run bench -- [options]

Measures the built \`stedi join\` (run as \`node bin/stedi.js join\`, as users run it) against the local
broker, in one run:
  saturation  pre-loaded topics → last output, events/s; and the pipe limit: the same consume →
              transactional produce copy, with the same Kafka client settings as the join and no
              join logic, run the same way
  latency     open-loop offered rates; output arrival at a probe consumer − the event's intended send time
  rss         VmRSS/VmHWM of the join with 100k and 1M customers, and as risk events grow
  restart     spawn → first output of a restarted join with 1M customers, with and without its
              customer checkpoint (--state-dir), --repeat rounds
  startup     spawn → first output, broker already up (from the saturation runs)
Results: tables on stdout, JSON and an HTML report with charts under bench/results/. The local Kafka
is started when it is not running (scripts/stack.sh up) and stopped at the end, also after Ctrl-C or
a failure; one that was already running is left alone. Every topic the bench creates is deleted at
the end.

options (full defaults; --quick defaults in brackets):
  --quick                      a 2–3 minute run with the smaller defaults below
  --customers N                customers for saturation and latency runs      100000 [100000]
  --events M                   pre-loaded risk events per saturation run      1000000 [200000]
  --repeat R                   saturation runs of join and copy (medians)     3 [1]
  --rates a,b,c                offered rates in events/s                      1000,5000,20000
  --duration S                 seconds measured per rate                      10 [4]
  --warmup S                   unrecorded seconds before each rate            2 [1]
  --rss-customers a,b          table sizes of the memory runs                 100000,1000000
  --rss-events M               risk events fed to each memory run             1000000 [200000]
  --rss-steps K                steps the memory runs' events are fed in       4 [2]
  --restart-customers N        table size of the restart runs                 1000000
  --only part,…                run only some of: saturation, latency, rss, restart
  --vs peer,…                  also run other joins on the saturation part's input topics, each into
                               its own output topic: spark (bench/harness/spark.ts) and/or
                               kafka-streams (bench/harness/kafka-streams.ts: exactly_once_v2, then
                               at_least_once), e.g. --vs spark,kafka-streams
  --spark-timeout S            seconds to wait for Spark                      900
  --kafka-streams-timeout S    seconds to wait for each Kafka Streams run     600
  --partitions P               partitions of the risk-event topics            2
  --seed S                     workload seed                                  7
  --brokers host:port,…        (env KAFKA_BROKERS)                            127.0.0.1:9092
  --node-args='…'              extra node flags for the join (note the =), e.g.
                               --node-args='--cpu-prof --cpu-prof-dir=.cache/prof'
  --join-workers N             the saturation part's join as stedi join --workers N (N processes in
                               one group; its RSS is theirs summed)              1
  --out DIR                    where results go                               bench/results
  --keep-stack                 leave the Kafka the bench started running (env STEDI_KEEP_STACK)
  --chart FILE.json            only write FILE.html again from a saved result (no measuring)
  --help                       this text

soak (a separate run, on a three-node cluster; KAFKA_NODES=3 scripts/stack.sh up is run when none is up):
  --soak                       the join at a fixed rate for a long time: its largest RSS and the p99 of
                               end-to-end latency every minute, then the independent checker on every
                               record; flat = the largest RSS of the last 10 minutes within 5 % of that
                               of minutes 5–10. Takes --customers, --partitions, --seed, --brokers
                               (default: the cluster's three ports from KAFKA_PORT), --node-args, --out
  --soak-minutes M             minutes of offered events                       30
  --soak-rate R                offered events/s                                2000
`;

export type Parsed =
  | { kind: "help" }
  | { kind: "chart"; file: string }
  | { kind: "soak"; options: SoakOptions }
  | { kind: "run"; options: BenchOptions };

const positiveInt = (name: string, text: string): number => {
  const value = Number(text.replaceAll("_", ""));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
  return value;
};

const positiveNumber = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};

const intList = (name: string, text: string): number[] => {
  const values = text
    .split(",")
    .filter((part) => part.trim() !== "")
    .map((part) => positiveInt(name, part.trim()));
  if (values.length === 0) throw new Error(`--${name} needs at least one value`);
  return values;
};

/** Parses the command line; throws an Error with a one-line message on invalid input. */
export function parseBenchArgs(argv: string[], env: Record<string, string | undefined>): Parsed {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean", default: false },
      customers: { type: "string" },
      events: { type: "string" },
      repeat: { type: "string" },
      rates: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      "rss-customers": { type: "string" },
      "rss-events": { type: "string" },
      "rss-steps": { type: "string" },
      "restart-customers": { type: "string" },
      only: { type: "string" },
      vs: { type: "string" },
      "spark-timeout": { type: "string" },
      "kafka-streams-timeout": { type: "string" },
      partitions: { type: "string" },
      seed: { type: "string" },
      brokers: { type: "string" },
      "node-args": { type: "string" },
      "join-workers": { type: "string" },
      out: { type: "string" },
      "keep-stack": { type: "boolean", default: false },
      chart: { type: "string" },
      soak: { type: "boolean", default: false },
      "soak-minutes": { type: "string" },
      "soak-rate": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return { kind: "help" };
  if (values.chart !== undefined) return { kind: "chart", file: values.chart };
  const brokersOf = (fallback: string) => {
    const list = (values.brokers ?? env.KAFKA_BROKERS ?? fallback)
      .split(",")
      .map((broker) => broker.trim())
      .filter((broker) => broker !== "");
    if (list.length === 0 || list.some((broker) => !/^[^\s:]+:\d+$/.test(broker))) {
      throw new Error("--brokers must be host:port[,host:port…]");
    }
    return list;
  };
  const seed = values.seed === undefined ? 7 : Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error("--seed must be a whole number");
  const partitions = values.partitions === undefined ? 2 : positiveInt("partitions", values.partitions);
  const nodeArgs = (values["node-args"] ?? "").split(" ").filter((arg) => arg !== "");
  const outDir = values.out ?? "bench/results";
  const keepStack = (values["keep-stack"] ?? false) || (env.STEDI_KEEP_STACK ?? "") !== "";
  if (values.soak) {
    const kafkaPort = env.KAFKA_PORT === undefined ? 9092 : positiveInt("KAFKA_PORT", env.KAFKA_PORT);
    return {
      kind: "soak",
      options: {
        brokers: brokersOf(clusterBrokers(kafkaPort).join(",")),
        minutes:
          values["soak-minutes"] === undefined ? 30 : positiveInt("soak-minutes", values["soak-minutes"]),
        rate: values["soak-rate"] === undefined ? 2000 : positiveInt("soak-rate", values["soak-rate"]),
        customers: values.customers === undefined ? 100_000 : positiveInt("customers", values.customers),
        partitions,
        seed,
        nodeArgs,
        outDir,
        keepStack,
      },
    };
  }
  if (values["soak-minutes"] !== undefined || values["soak-rate"] !== undefined) {
    throw new Error("--soak-minutes and --soak-rate go with --soak");
  }
  const base = values.quick ? quick : full;
  const vs = (values.vs ?? "")
    .split(",")
    .map((peer) => peer.trim())
    .filter((peer) => peer !== "");
  if (
    values.vs !== undefined &&
    (vs.length === 0 || vs.some((peer) => !(peers as readonly string[]).includes(peer)))
  ) {
    throw new Error(`--vs takes only: ${peers.join(", ")} (comma-separated)`);
  }
  const only = (values.only ?? parts.join(","))
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  for (const part of only) {
    if (!(parts as readonly string[]).includes(part)) throw new Error(`--only takes ${parts.join(", ")}`);
  }
  const brokers = brokersOf("127.0.0.1:9092");
  const warmup = values.warmup === undefined ? base.warmupSeconds : Number(values.warmup);
  if (!Number.isFinite(warmup) || warmup < 0) throw new Error("--warmup must be 0 or more seconds");
  return {
    kind: "run",
    options: {
      brokers,
      seed,
      partitions,
      customers: values.customers === undefined ? base.customers : positiveInt("customers", values.customers),
      events: values.events === undefined ? base.events : positiveInt("events", values.events),
      repeat: values.repeat === undefined ? base.repeat : positiveInt("repeat", values.repeat),
      rates: values.rates === undefined ? base.rates : intList("rates", values.rates),
      durationSeconds:
        values.duration === undefined ? base.durationSeconds : positiveNumber("duration", values.duration),
      warmupSeconds: warmup,
      rssCustomers:
        values["rss-customers"] === undefined
          ? base.rssCustomers
          : intList("rss-customers", values["rss-customers"]),
      rssEvents:
        values["rss-events"] === undefined ? base.rssEvents : positiveInt("rss-events", values["rss-events"]),
      rssSteps:
        values["rss-steps"] === undefined ? base.rssSteps : positiveInt("rss-steps", values["rss-steps"]),
      restartCustomers:
        values["restart-customers"] === undefined
          ? base.restartCustomers
          : positiveInt("restart-customers", values["restart-customers"]),
      only: parts.filter((part) => only.includes(part)),
      vsSpark: vs.includes("spark"),
      sparkTimeoutMs:
        1000 *
        (values["spark-timeout"] === undefined
          ? 900
          : positiveNumber("spark-timeout", values["spark-timeout"])),
      vsKafkaStreams: vs.includes("kafka-streams"),
      kafkaStreamsTimeoutMs:
        1000 *
        (values["kafka-streams-timeout"] === undefined
          ? 600
          : positiveNumber("kafka-streams-timeout", values["kafka-streams-timeout"])),
      nodeArgs,
      joinWorkers:
        values["join-workers"] === undefined ? 1 : positiveInt("join-workers", values["join-workers"]),
      outDir,
      quick: values.quick ?? false,
      keepStack,
    },
  };
}
