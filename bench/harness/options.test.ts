import { describe, expect, it } from "vitest";
import { type BenchOptions, parseBenchArgs } from "./options.js";

const run = (argv: string[], env: Record<string, string | undefined> = {}): BenchOptions => {
  const parsed = parseBenchArgs(argv, env);
  if (parsed.kind !== "run") throw new Error("expected a run");
  return parsed.options;
};

describe("parseBenchArgs", () => {
  it("has the full defaults", () => {
    const options = run([]);
    expect(options).toMatchObject({
      brokers: ["127.0.0.1:9092"],
      customers: 100_000,
      events: 1_000_000,
      repeat: 3,
      rates: [1000, 5000, 20_000],
      durationSeconds: 10,
      warmupSeconds: 2,
      rssCustomers: [100_000, 1_000_000],
      rssEvents: 1_000_000,
      restartCustomers: 1_000_000,
      only: ["saturation", "latency", "rss", "restart"],
      vsSpark: false,
      vsKafkaStreams: false,
      kafkaStreamsTimeoutMs: 600_000,
      quick: false,
      keepStack: false,
    });
  });

  it("keeps the stack it starts with --keep-stack or STEDI_KEEP_STACK", () => {
    expect(run(["--keep-stack"]).keepStack).toBe(true);
    expect(run([], { STEDI_KEEP_STACK: "1" }).keepStack).toBe(true);
    expect(run([], { STEDI_KEEP_STACK: "" }).keepStack).toBe(false);
  });

  it("has smaller --quick defaults that flags still override", () => {
    expect(run(["--quick"])).toMatchObject({ events: 200_000, repeat: 1, durationSeconds: 4, quick: true });
    expect(run(["--quick", "--events", "50000", "--duration", "2.5"])).toMatchObject({
      events: 50_000,
      durationSeconds: 2.5,
    });
  });

  it("takes flags over KAFKA_BROKERS over the default", () => {
    expect(run([], { KAFKA_BROKERS: "k1:9092,k2:9093" }).brokers).toEqual(["k1:9092", "k2:9093"]);
    expect(run(["--brokers", "k3:1"], { KAFKA_BROKERS: "k1:9092" }).brokers).toEqual(["k3:1"]);
  });

  it("parses lists, parts in canonical order, --vs spark and node args", () => {
    const options = run([
      "--rates",
      "500, 2000",
      "--only",
      "rss,restart,saturation",
      "--restart-customers",
      "20000",
      "--vs",
      "spark",
      "--node-args=--cpu-prof  --max-old-space-size=200",
      "--warmup",
      "0",
    ]);
    expect(options.rates).toEqual([500, 2000]);
    expect(options.only).toEqual(["saturation", "rss", "restart"]);
    expect(options.restartCustomers).toBe(20_000);
    expect(options.vsSpark).toBe(true);
    expect(options.nodeArgs).toEqual(["--cpu-prof", "--max-old-space-size=200"]);
    expect(options.warmupSeconds).toBe(0);
  });

  it("runs the saturation join as one process unless --join-workers says more", () => {
    expect(run([]).joinWorkers).toBe(1);
    expect(run(["--join-workers", "2"]).joinWorkers).toBe(2);
    expect(() => run(["--join-workers", "0"])).toThrow("join-workers");
  });

  it("takes --vs kafka-streams alone or beside spark, in either order", () => {
    expect(run(["--vs", "kafka-streams"])).toMatchObject({ vsSpark: false, vsKafkaStreams: true });
    expect(run(["--vs", "spark,kafka-streams"])).toMatchObject({ vsSpark: true, vsKafkaStreams: true });
    expect(run(["--vs", " kafka-streams , spark"])).toMatchObject({ vsSpark: true, vsKafkaStreams: true });
    expect(run(["--vs", "kafka-streams", "--kafka-streams-timeout", "90"]).kafkaStreamsTimeoutMs).toBe(
      90_000,
    );
  });

  it("returns help, or a chart to redraw", () => {
    expect(parseBenchArgs(["--help"], {})).toEqual({ kind: "help" });
    expect(parseBenchArgs(["--chart", "bench/results/x.json"], {})).toEqual({
      kind: "chart",
      file: "bench/results/x.json",
    });
  });

  it.each([
    [["--events", "0"], /--events must be a positive whole number/],
    [["--rates", ","], /--rates needs at least one value/],
    [["--only", "speed"], /--only takes/],
    [["--vs", "flink"], /--vs takes only: spark/],
    [["--vs", "spark,flink"], /--vs takes only: spark, kafka-streams/],
    [["--vs", ","], /--vs takes only/],
    [["--kafka-streams-timeout", "0"], /--kafka-streams-timeout must be a positive number/],
    [["--brokers", "nohost"], /--brokers must be host:port/],
    [["--warmup", "-1"], /--warmup/],
    [["--bogus"], /Unknown option/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseBenchArgs(argv, {})).toThrow(message);
  });
});
