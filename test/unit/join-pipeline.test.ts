// The join's take-over, recovery and replay, end to end on the in-memory cluster: runJoin as the CLI
// runs it, with injected transaction failures, crashed processes and zombies, each run checked by
// the independent output checker (every expected output exactly once, every bad input dead-lettered
// exactly once, nothing else).

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type {
  ConsumedBatch,
  GroupConsumer,
  KafkaPort,
  TransactionalWriter,
} from "../../src/adapters/kafka/index.js";
import type { Reporter } from "../../src/adapters/terminal.js";
import type { CommonConfig } from "../../src/config/config.js";
import { changelogTopicFor, type JoinCounts, runJoin } from "../../src/pipelines/join/join.js";
import { transactionalIdFor } from "../../src/pipelines/join/partition-task.js";
import { Lifecycle } from "../../src/pipelines/lifecycle.js";
import { connectorZadd, customerJson, riskEventJson } from "../fixtures.js";
import {
  createMemoryKafka,
  type MemoryKafka,
  type MemoryKafkaOptions,
  type TransactionStep,
} from "../support/memory-kafka.js";
import { checkJoinOutput, type RawRecord } from "../support/output-check.js";

const group = "join-unit";
const topics = { redis: "redis-server", events: "stedi-events", output: "stedi-graph", dlq: "stedi-dlq" };
const changelog = changelogTopicFor(group);
const txId = (partition: number) => transactionalIdFor(group, topics.events, partition);

const common: CommonConfig = {
  brokers: ["memory"],
  redisTopic: topics.redis,
  eventsTopic: topics.events,
  outputTopic: topics.output,
  dlqTopic: topics.dlq,
  from: "earliest",
  group,
  json: false,
  logDir: null,
  connectTimeoutMs: 1000,
  security: {},
};

// --- the cluster and its inputs -------------------------------------------------------------------

async function createCluster(options: MemoryKafkaOptions = {}) {
  const memory = createMemoryKafka(options);
  const admin = memory.createPort("admin");
  await admin.ensureTopics([
    topics.redis,
    { topic: topics.events, numPartitions: 2 },
    { topic: topics.output, numPartitions: 2 },
    topics.dlq,
  ]);
  const producer = await admin.createProducer();
  return {
    memory,
    admin,
    addCustomers: (emails: string[]) =>
      producer.send([
        {
          topic: topics.redis,
          records: emails.map((email) => ({
            key: null,
            value: connectorZadd("Customer", [
              customerJson(email.split("@")[0] ?? email, email, "1970-05-04"),
            ]),
          })),
        },
      ]),
    addEvents: (partition: number, emails: string[]) =>
      producer.send([
        {
          topic: topics.events,
          records: emails.map((email, index) => ({
            key: null,
            value: riskEventJson(email, `${index}.5`),
            partition,
          })),
        },
      ]),
  };
}

// --- a join instance ------------------------------------------------------------------------------

type Recorded = { infos: string[]; warnings: string[]; badRecords: string[] };

function recordingReporter(): Reporter & Recorded {
  const recorded: Recorded = { infos: [], warnings: [], badRecords: [] };
  return {
    ...recorded,
    badRecord: (where, reason) =>
      recorded.badRecords.push(`${where.topic}[${where.partition}]@${where.offset}: ${reason}`),
    info: (message) => recorded.infos.push(message),
    warn: (message) => recorded.warnings.push(message),
    status: () => undefined,
    close: () => undefined,
  };
}

/** A transaction of one id held after its records and offset are sent, until the test lets it go on. */
type Hold = { reached: Promise<void>; arrive(): void; release(): void; released: Promise<void> };

function createHold(): Hold {
  let arrive!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { reached, arrive, release, released };
}

/** The lifecycles of the instances a test started, stopped after it. */
const running: Lifecycle[] = [];

/**
 * runJoin on its own port (one simulated process). The port is seen through a thin layer that
 * counts writers, remembers consumers by group and can hold a transaction open: timing the tests
 * need, without changing what the port does.
 */
function startJoin(memory: MemoryKafka, name: string, waitMs: number, stateDir?: string) {
  const port = memory.createPort(name);
  const consumers = new Map<string, GroupConsumer>();
  const writers = new Map<string, number>();
  const holds = new Map<string, Hold>();
  const deliveries: { topic: string; partition: number; from: string }[] = [];
  let deliveryHold: { matches(batch: ConsumedBatch): boolean; hold: Hold } | undefined;

  const holdable = (writer: TransactionalWriter): TransactionalWriter => ({
    ...writer,
    async commit(records, offset) {
      const hold = holds.get(writer.transactionalId);
      if (!hold) return writer.commit(records, offset);
      holds.delete(writer.transactionalId);
      // What the port's own commit does, with a pause before the commit itself.
      const txn = await writer.begin();
      try {
        await txn.send(records);
        if (offset !== undefined) await txn.sendOffset(offset);
        hold.arrive();
        await hold.released;
        await txn.commit();
      } catch (error) {
        await txn.abort().catch(() => undefined);
        throw error;
      }
    },
  });

  const kafka: KafkaPort = {
    ...port,
    async createTransactionalWriter(transactionalId) {
      const writer = await port.createTransactionalWriter(transactionalId);
      writers.set(transactionalId, (writers.get(transactionalId) ?? 0) + 1);
      return holdable(writer);
    },
    async consume(options) {
      const consumer = await port.consume({
        ...options,
        async eachBatch(batch, context) {
          deliveries.push({
            topic: batch.topic,
            partition: batch.partition,
            from: batch.records[0]?.offset ?? "",
          });
          if (deliveryHold?.matches(batch)) {
            const { hold } = deliveryHold;
            deliveryHold = undefined;
            hold.arrive();
            await hold.released;
          }
          return options.eachBatch(batch, context);
        },
      });
      consumers.set(options.groupId, consumer);
      return consumer;
    },
  };

  const lifecycle = new Lifecycle();
  const reporter = recordingReporter();
  const run = runJoin({
    common,
    join: {
      waitMs,
      console: false,
      workers: 1,
      metricsHost: "127.0.0.1",
      checkpointIntervalMs: 30_000,
      stateDir,
    },
    reporter,
    lifecycle,
    kafka,
  });
  running.push(lifecycle);
  return {
    port,
    reporter,
    lifecycle,
    consumers,
    deliveries,
    run,
    writersOf: (transactionalId: string) => writers.get(transactionalId) ?? 0,
    /** Holds the next transaction of `transactionalId` open once its records are sent. */
    holdNextCommit(transactionalId: string): Hold {
      const hold = createHold();
      holds.set(transactionalId, hold);
      return hold;
    },
    /** Holds the next fetched batch that `matches` before the join sees it. */
    holdNextDelivery(matches: (batch: ConsumedBatch) => boolean): Hold {
      const hold = createHold();
      deliveryHold = { matches, hold };
      return hold;
    },
    async stop(): Promise<JoinCounts> {
      lifecycle.stop({ kind: "signal", signal: "SIGTERM" });
      return run;
    },
  };
}

type Instance = ReturnType<typeof startJoin>;

let stdoutListeners: ((...args: unknown[]) => void)[] = [];

beforeEach(() => {
  // The join's clock and periodic work (expiry ticks) move only when a test moves them; the
  // cluster's scheduler (setImmediate) and take-over retries (setTimeout) run as usual.
  vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
  stdoutListeners = process.stdout.listeners("error") as typeof stdoutListeners;
});

afterEach(() => {
  // Crashed instances never finish: their lifecycles are only stopped, not awaited.
  for (const lifecycle of running.splice(0)) lifecycle.stop({ kind: "signal", signal: "SIGTERM" });
  vi.useRealTimers();
  // Each run guards stdout against a closed pipe; many runs in one worker would pile those up.
  for (const listener of process.stdout.listeners("error")) {
    if (!stdoutListeners.includes(listener as (typeof stdoutListeners)[number]))
      process.stdout.off("error", listener as (...args: unknown[]) => void);
  }
});

// --- the check ------------------------------------------------------------------------------------

async function readTopic(port: KafkaPort, topic: string) {
  const records: (RawRecord & { headers: Record<string, string> })[] = [];
  await port.readToEnd(topic, (batch) => {
    for (const record of batch.records) {
      records.push({
        topic,
        partition: batch.partition,
        offset: record.offset,
        key: record.key?.toString() ?? null,
        value: record.value?.toString() ?? "",
        headers: Object.fromEntries(
          Object.entries(record.headers).map(([name, value]) => [name, String(value)]),
        ),
      });
    }
  });
  return records;
}

/**
 * The checker's verdict on the topics as they stand: outputs lost, duplicated or unexpected, and
 * the dead letters against the inputs the checker calls bad (each once, nothing else).
 */
async function checkOutput(port: KafkaPort) {
  const [customers, events, output, dlq] = await Promise.all(
    [topics.redis, topics.events, topics.output, topics.dlq].map((topic) => readTopic(port, topic)),
  );
  const report = checkJoinOutput({
    customers: customers ?? [],
    events: events ?? [],
    output: output ?? [],
  });
  const deadLettered = (dlq ?? []).map(
    (record) =>
      `${record.headers["stedi.dlq.topic"]}[${record.headers["stedi.dlq.partition"]}]@${record.headers["stedi.dlq.offset"]}`,
  );
  return {
    expected: report.expected,
    lost: report.lost,
    duplicated: report.duplicated,
    misrouted: report.misrouted,
    examples: report.examples,
    deadLetters: deadLettered.sort(),
    bad: [...report.bad].sort(),
  };
}

async function expectExactlyOnce(port: KafkaPort, counts: { expected: number; deadLetters: number }) {
  const result = await checkOutput(port);
  expect({
    lost: result.lost,
    duplicated: result.duplicated,
    misrouted: result.misrouted,
    examples: result.examples,
  }).toEqual({ lost: 0, duplicated: 0, misrouted: 0, examples: [] });
  expect(result.deadLetters).toEqual(result.bad);
  expect({ expected: result.expected, deadLetters: result.deadLetters.length }).toEqual(counts);
}

// --- scenarios ------------------------------------------------------------------------------------

const known = ["known0@test.com", "known1@test.com"] as const;
const late = ["late0@test.com", "late1@test.com"] as const;
const never = ["never0@test.com", "never1@test.com"] as const;
const [k0, k1] = known;
const [l0, l1] = late;
const [n0, n1] = never;

const steps: TransactionStep[] = [
  "beforeSend",
  "afterSend",
  "afterSendOffset",
  "beforeCommit",
  "afterCommit",
];

/** Lets the join's clock and periodic work move on to `ms` after `start`, then lets the cluster settle. */
async function advanceTo(memory: MemoryKafka, start: number, ms: number) {
  await vi.advanceTimersByTimeAsync(start + ms - Date.now());
  await memory.runUntilIdle();
}

/** Committed dead letters so far (without waiting for open transactions). */
const deadLettersNow = (memory: MemoryKafka) =>
  memory.entries(topics.dlq, 0).filter((entry) => entry.kind === "record" && entry.state === "committed")
    .length;

/**
 * Waits until `done` holds, in real time (a take-over retry sleeps). `settle`: let the cluster go
 * idle in between, which it cannot while a test holds a delivery.
 */
async function until(memory: MemoryKafka, done: () => boolean, what: string, settle = true) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (settle) await memory.runUntilIdle();
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

const takeOvers = (instance: Instance, partition: number) =>
  instance.reporter.infos.filter((line) => line.startsWith(`join: partition ${partition} taken over`));

describe("join: a failed transaction restarts its partition from the last commit", () => {
  const waitMs = 1000;
  // One run: events for known, late and never-coming customers; the late customers arrive; the
  // never-coming ones expire; more events. The failure strikes partition 0's transaction of one kind.
  const kinds = [
    { kind: "a batch of events", before: "events" },
    { kind: "the release of waiting events", before: "customers" },
    { kind: "the expiry of waiting events", before: "expiry" },
  ] as const;
  // Only a batch of events commits a consumed offset: the others have no step after sending one.
  const cases = kinds.flatMap(({ kind, before }) =>
    steps
      .filter((step) => before === "events" || step !== "afterSendOffset")
      .map((step) => ({ kind, before, step })),
  );

  it.each(cases)("$kind, failing $step", async ({ before, step }) => {
    const { memory, admin, addCustomers, addEvents } = await createCluster();
    await addCustomers([...known]);
    const a = startJoin(memory, "a", waitMs);
    await memory.runUntilIdle();
    const start = Date.now();
    const fail = () => memory.failTransaction(txId(0), step);

    if (before === "events") fail();
    await addEvents(0, [k0, l0, n0, k1, l1, l0]);
    await addEvents(1, [l1, n1, k0]);
    await memory.runUntilIdle();

    if (before === "customers") fail();
    await addCustomers([...late]);
    await memory.runUntilIdle();

    if (before === "expiry") fail();
    await advanceTo(memory, start, waitMs);
    // Restarted at once, not when the partition's next event comes.
    expect(takeOvers(a, 0)).toHaveLength(2);
    await addEvents(0, [l1, k1]);
    await addEvents(1, [l0]);
    // A restarted task holds its restored events since their original time: one more tick expires them.
    await advanceTo(memory, start, 2 * waitMs);

    expect(a.reporter.warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^join: partition 0: injected failure ${step} .*; restarting it from its last commit$`),
      ),
    ]);
    expect([a.writersOf(txId(0)), a.writersOf(txId(1))]).toEqual([2, 1]);
    const counts = await a.stop();
    expect(counts.waiting).toBe(0);
    await expectExactlyOnce(admin, { expected: 10, deadLetters: 2 });
  });

  // The release fails, and so does the restarted task's first transaction (joining the restored
  // events whose customer is known by now): the take-over itself is retried.
  it.each(["beforeCommit", "afterCommit"] as const)(
    "a take-over whose own transaction fails %s",
    async (step) => {
      const { memory, admin, addCustomers, addEvents } = await createCluster();
      await addCustomers([k0]);
      const a = startJoin(memory, "a", 60_000);
      await memory.runUntilIdle();
      await addEvents(0, [k0, l0, l0]);
      await memory.runUntilIdle();
      memory.failTransaction(txId(0), "beforeCommit");
      memory.failTransaction(txId(0), step);
      await addCustomers([l0]);
      await until(memory, () => takeOvers(a, 0).length === 2, "partition 0 is taken over again");
      expect(a.reporter.warnings).toEqual([
        expect.stringMatching(/^join: partition 0: injected failure .*; restarting it from its last commit$/),
        expect.stringMatching(/^join: taking over partition 0 failed \(injected failure .*\); retrying$/),
      ]);
      await addEvents(0, [l0]);
      await memory.runUntilIdle();
      const counts = await a.stop();
      expect(counts.waiting).toBe(0);
      await expectExactlyOnce(admin, { expected: 4, deadLetters: 0 });
    },
  );
});

describe("join: a crashed process's partitions move to another instance once its session expires", () => {
  it.each([
    { crash: "between transactions", openTransaction: false },
    { crash: "with a transaction open", openTransaction: true },
  ])("crash $crash", async ({ openTransaction }) => {
    const { memory, admin, addCustomers, addEvents } = await createCluster();
    await addCustomers([...known]);
    const a = startJoin(memory, "a", 60_000);
    const b = startJoin(memory, "b", 60_000);
    await memory.runUntilIdle();
    // Round-robin by member id: a has partition 0, b partition 1.
    expect([takeOvers(a, 0).length, takeOvers(b, 1).length]).toEqual([1, 1]);

    await addEvents(0, [k0, l0, k1, l0]);
    await addEvents(1, [k1, l0]);
    await memory.runUntilIdle();

    if (openTransaction) {
      const hold = a.holdNextCommit(txId(0));
      await addEvents(0, [k0, l1]);
      await hold.reached;
    }
    memory.crash(a.port);
    await addEvents(0, [k1, l1, k0]);
    await memory.runUntilIdle();
    // Until its session expires the dead member keeps partition 0: nobody takes it.
    expect(b.writersOf(txId(0))).toBe(0);

    memory.expireSessions();
    await memory.runUntilIdle();
    // Taken over where the last commit left it, with the committed waiting events.
    expect(takeOvers(b, 0)).toEqual(["join: partition 0 taken over at offset 4, 2 events waiting"]);

    await addCustomers([...late]);
    await memory.runUntilIdle();
    const counts = await b.stop();
    expect(counts.waiting).toBe(0);
    await expectExactlyOnce(admin, { expected: openTransaction ? 11 : 9, deadLetters: 0 });
  });
});

describe("join: a zombie's writes after a take-over are fenced", () => {
  // The zombie lost its group session (a long pause) while the rest of it runs on.
  it.each([
    { write: "a batch's transaction in flight", inFlight: true },
    { write: "the release of waiting events", inFlight: false },
  ])("$write", async ({ inFlight }) => {
    const { memory, admin, addCustomers, addEvents } = await createCluster();
    await addCustomers([...known]);
    const zombie = startJoin(memory, "a", 60_000);
    const owner = startJoin(memory, "b", 60_000);
    await memory.runUntilIdle();
    await addEvents(0, [k0, l0]);
    await addEvents(1, [k1, l0]);
    await memory.runUntilIdle();

    const hold = inFlight ? zombie.holdNextCommit(txId(0)) : undefined;
    if (hold) {
      await addEvents(0, [k1, l0]);
      await hold.reached;
    }
    const sessions = zombie.consumers.get(group);
    if (!sessions) throw new Error("the zombie has no event consumer");
    memory.crash(sessions);
    memory.expireSessions();
    await memory.runUntilIdle();
    expect(owner.writersOf(txId(0))).toBe(1);

    hold?.release();
    await memory.runUntilIdle();
    await addCustomers([l0]);
    await memory.runUntilIdle();

    expect(zombie.reporter.warnings).toEqual(["join: partition 0 was taken over by another instance"]);
    // Dropped, not restarted: a restart would fence the new owner in turn.
    expect(zombie.writersOf(txId(0))).toBe(1);
    expect(owner.reporter.warnings).toEqual([]);
    await zombie.stop();
    const counts = await owner.stop();
    expect(counts.waiting).toBe(0);
    await expectExactlyOnce(admin, { expected: inFlight ? 6 : 4, deadLetters: 0 });
  });
});

describe("join: the state topics read again after the state consumer rejoins", () => {
  it("bring back no resolved waiting event, even to a restart in the middle of the replay", async () => {
    // One entry per fetch, so that the replay can be caught halfway.
    const { memory, admin, addCustomers, addEvents } = await createCluster({ maxFetchBytes: 1 });
    await addCustomers([k0]);
    const a = startJoin(memory, "a", 60_000);
    await memory.runUntilIdle();
    await addEvents(0, [k0, l0, l1, l0]);
    await memory.runUntilIdle();
    await addCustomers([l0]);
    await memory.runUntilIdle();

    // The replay is held at the first tombstone of late0's events: everything before it (their
    // waiting entries among others) has been read again.
    const tombstone = memory
      .entries(changelog, 0)
      .find((entry) => entry.kind === "record" && entry.state === "committed" && entry.value === null);
    if (!tombstone) throw new Error("late0's events were not resolved");
    const replayHeld = a.holdNextDelivery(
      (batch) => batch.topic === changelog && Number(batch.records[0]?.offset) >= tombstone.offset,
    );

    // Another member joining the state consumer's group makes it rejoin; it commits no offsets, so
    // it reads the changelog from the start again (the customers from where it had got to).
    const stateGroup = [...a.consumers.keys()].find((id) => id.startsWith(`${group}.state.`));
    if (!stateGroup) throw new Error("no state consumer");
    await admin.ensureTopics(["unrelated"]);
    const other = await admin.consume({
      groupId: stateGroup,
      topics: ["unrelated"],
      fromBeginning: true,
      autoCommit: false,
      eachBatch: async () => undefined,
      onFailure: () => undefined,
    });
    await replayHeld.reached;

    // A restart now restores from the replica the replay is going over: only late1's event waits.
    memory.failTransaction(txId(0), "beforeSend");
    await addEvents(0, [k0, l0]);
    await until(memory, () => takeOvers(a, 0).length === 2, "partition 0 is taken over again", false);
    expect(takeOvers(a, 0).at(-1)).toBe("join: partition 0 taken over at offset 4, 1 events waiting");
    replayHeld.release();
    await memory.runUntilIdle();
    // And the member leaving: a second replay, read through.
    await other.close();
    await memory.runUntilIdle();
    const readsFromStart = (topic: string) =>
      a.deliveries.filter((read) => read.topic === topic && read.partition === 0 && read.from === "0").length;
    expect([readsFromStart(topics.redis), readsFromStart(changelog)]).toEqual([1, 3]);

    await addCustomers([l1]);
    await memory.runUntilIdle();
    const counts = await a.stop();
    expect(counts.waiting).toBe(0);
    await expectExactlyOnce(admin, { expected: 6, deadLetters: 0 });
  });
});

describe("join: events whose customer never comes", () => {
  // Above one second the expiry tick runs every second, so a take-over that restarted the wait
  // from its own start would dead-letter a tick later than one that kept the original time.
  const waitMs = 2000;
  type Row = {
    name: string;
    /** What happens at 1.5 s or at 2 s (the wait bound) after the events were held; "b" starts then. */
    crash?: { at: number; during?: "expiry" };
    /** Dead letters committed at given times after the events were held. */
    expected: [number, number][];
  };
  const rows: Row[] = [
    {
      name: "are dead-lettered once, after the wait bound",
      expected: [
        [1999, 0],
        [2000, 3],
        [9000, 3],
      ],
    },
    {
      name: "survive a crash between hold and expiry",
      crash: { at: 1500 },
      expected: [
        [2499, 0],
        [2500, 3],
        [9000, 3],
      ],
    },
    {
      name: "survive a crash inside the expiry transaction",
      crash: { at: 2000, during: "expiry" },
      expected: [
        [2999, 1],
        [3000, 3],
        [9000, 3],
      ],
    },
    {
      name: "are not dead-lettered again after a crash that follows their expiry",
      crash: { at: 2000 },
      expected: [
        [2000, 3],
        [9000, 3],
      ],
    },
  ];

  it.each(rows)("$name", async ({ crash, expected }) => {
    const { memory, admin, addCustomers, addEvents } = await createCluster();
    await addCustomers([k0]);
    const a = startJoin(memory, "a", waitMs);
    await memory.runUntilIdle();
    const held = Date.now();
    await addEvents(0, [k0, n0, n1]);
    await addEvents(1, [n0]);
    await memory.runUntilIdle();

    let current = a;
    if (crash) {
      const hold = crash.during === "expiry" ? a.holdNextCommit(txId(0)) : undefined;
      await advanceTo(memory, held, crash.at);
      await hold?.reached;
      memory.crash(a.port);
      current = startJoin(memory, "b", waitMs);
      memory.expireSessions();
      await memory.runUntilIdle();
    }
    for (const [at, count] of expected) {
      await advanceTo(memory, held, at);
      expect({ at, deadLetters: deadLettersNow(memory) }).toEqual({ at, deadLetters: count });
    }
    const counts = await current.stop();
    expect(counts.waiting).toBe(0);
    await expectExactlyOnce(admin, { expected: 1, deadLetters: 3 });
    const reasons = (await readTopic(admin, topics.dlq)).map((record) => record.headers["stedi.dlq.reason"]);
    expect(reasons).toEqual(
      Array(3).fill(expect.stringMatching(/^no customer with email "never\d@test.com" within 2000 ms$/)),
    );
  });
});

// A failed transaction leaves the task's memory ahead of its last commit (events held that no commit
// holds). A step queued behind it must not commit with the same writer: the restarted task processes
// the same batch again, and the queued release or expiry would make a duplicate output or dead letter.
describe("join: a step queued behind a failing transaction", () => {
  const rows = [
    { step: "the release of a waiting event", waitMs: 60_000, expected: 2, deadLetters: 0 },
    { step: "the expiry of a waiting event", waitMs: 500, expected: 1, deadLetters: 1 },
  ] as const;

  it.each(rows)("$step does not run on the failed task", async ({ waitMs, expected, deadLetters }) => {
    const { memory, admin, addCustomers, addEvents } = await createCluster();
    await addCustomers([k0]);
    const a = startJoin(memory, "a", waitMs);
    await memory.runUntilIdle();
    // The batch's transaction is slow (held after its records are sent)…
    const hold = a.holdNextCommit(txId(0));
    await addEvents(0, [k0, deadLetters > 0 ? n0 : l0]);
    await hold.reached;
    // …while the event's wait runs out, or its customer arrives (is read by the state consumer):
    // a step queues behind the batch.
    if (deadLetters > 0) await vi.advanceTimersByTimeAsync(waitMs);
    else {
      await addCustomers([l0]);
      const customerRead = () =>
        a.deliveries.some((read) => read.topic === topics.redis && read.from === "1");
      await until(memory, customerRead, "late0 is read", false);
    }
    // Then the batch's transaction fails.
    memory.failTransaction(txId(0), "beforeCommit");
    hold.release();
    await memory.runUntilIdle();
    await advanceTo(memory, Date.now(), 2 * waitMs);
    await a.stop();
    await expectExactlyOnce(admin, { expected, deadLetters });
  });
});

describe("join: a customer checkpoint in --state-dir", () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "stedi-checkpoint-"));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  const checkpointLines = (instance: Instance) =>
    instance.reporter.infos.filter((line) => / checkpoint /.test(line) && line.startsWith("join: "));
  /** Starts an instance and lets it read its checkpoint (from disk, in real time) and settle. */
  const startFrom = async (memory: MemoryKafka, name: string) => {
    const instance = startJoin(memory, name, 60_000, stateDir);
    await until(memory, () => checkpointLines(instance).length > 0, `${name} has read its checkpoint`);
    await memory.runUntilIdle();
    return instance;
  };
  const customerReadsFrom = (instance: Instance) =>
    instance.deliveries.filter((read) => read.topic === topics.redis).map((read) => read.from);
  const badCustomer = async (admin: KafkaPort) => {
    const producer = await admin.createProducer();
    await producer.send([{ topic: topics.redis, records: [{ key: null, value: "not a connector record" }] }]);
  };

  it("seeds the table on a restart and reads on from there, re-reading a bad record not yet dead-lettered", async () => {
    const { memory, admin, addCustomers, addEvents } = await createCluster();
    // Offsets 0, 1 (bad), 2.
    await addCustomers([k0]);
    await badCustomer(admin);
    await addCustomers([k1]);
    const a = await startFrom(memory, "a");
    await addEvents(0, [k0, k1]);
    await memory.runUntilIdle();
    // The periodic work has not run (its timer is not moved): the bad record waits for its dead letter.
    await a.stop();
    expect(checkpointLines(a)).toEqual([
      expect.stringMatching(
        /^join: reading redis-server from the start: checkpoint .* not used \(no checkpoint yet\)$/,
      ),
    ]);
    expect(deadLettersNow(memory)).toBe(0);

    await addCustomers([l0]);
    const b = await startFrom(memory, "b");
    expect(checkpointLines(b)).toEqual([
      expect.stringMatching(
        /^join: 2 customers from checkpoint .*; reading redis-server on from offsets 0:1$/,
      ),
    ]);
    // From the bad record on, never from the start.
    expect(customerReadsFrom(b)[0]).toBe("1");
    expect(customerReadsFrom(b)).not.toContain("0");
    await addEvents(1, [k0, l0, k1]);
    await advanceTo(memory, Date.now(), 1000);
    expect(deadLettersNow(memory)).toBe(1);
    await b.stop();

    // Dead-lettered and marked: the next restart starts after everything.
    const c = await startFrom(memory, "c");
    expect(checkpointLines(c)).toEqual([
      expect.stringMatching(/3 customers from checkpoint .* offsets 0:4$/),
    ]);
    expect(customerReadsFrom(c)).toEqual([]);
    await addEvents(0, [l0]);
    await advanceTo(memory, Date.now(), 1000);
    await c.stop();
    await expectExactlyOnce(admin, { expected: 6, deadLetters: 1 });
  });

  it("warns once when the checkpoint cannot be written, and joins on", async () => {
    const { memory, admin, addCustomers, addEvents } = await createCluster();
    await addCustomers([k0]);
    // A file where the folder should be: every write fails.
    const blocked = join(stateDir, "not-a-folder");
    await writeFile(blocked, "");
    const a = startJoin(memory, "a", 60_000, blocked);
    await until(memory, () => a.reporter.warnings.length > 0, "the failed write is reported");
    await addEvents(0, [k0]);
    await addCustomers([k1]);
    await addEvents(1, [k1]);
    await memory.runUntilIdle();
    await vi.advanceTimersByTimeAsync(30_000);
    await memory.runUntilIdle();
    const counts = await a.stop();
    expect(a.reporter.warnings).toEqual([
      expect.stringMatching(/^join: cannot write the customer checkpoint .*not-a-folder.*: /),
    ]);
    expect(counts.joined).toBe(2);
    await expectExactlyOnce(admin, { expected: 2, deadLetters: 0 });
  });

  it("rebuilds from the topic, saying why, from a corrupt file or a checkpoint of another topic's records", async () => {
    const first = await createCluster();
    await first.addCustomers([k0, k1]);
    const a = await startFrom(first.memory, "a");
    await a.stop();
    const [file] = await readdir(stateDir);
    if (file === undefined) throw new Error("no checkpoint written");
    const path = join(stateDir, file);
    const intact = await readFile(path);

    // The same topic name on another cluster (as after deleting and recreating it): other records.
    const { memory, admin, addCustomers, addEvents } = await createCluster();
    await addCustomers([l0, l1]);
    const b = await startFrom(memory, "b");
    expect(checkpointLines(b)).toEqual([
      expect.stringMatching(
        /not used \(partition 0: the record at offset 1 is not the one the checkpoint was taken after/,
      ),
    ]);
    await addEvents(0, [l0, l1]);
    await memory.runUntilIdle();
    await b.stop();

    const corrupt = Buffer.from(await readFile(path));
    corrupt[corrupt.length >> 1] = (corrupt[corrupt.length >> 1] as number) ^ 0x10;
    await writeFile(path, corrupt);
    const c = await startFrom(memory, "c");
    expect(checkpointLines(c)).toEqual([expect.stringMatching(/not used \(checksum mismatch\)$/)]);
    expect(customerReadsFrom(c)[0]).toBe("0");
    await addEvents(1, [l1]);
    await memory.runUntilIdle();
    await c.stop();
    expect(intact.equals(await readFile(path))).toBe(false);
    await expectExactlyOnce(admin, { expected: 3, deadLetters: 0 });
  });
});
