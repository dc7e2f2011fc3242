// End-to-end latency at fixed offered rates, open loop. Each offered event gets a sequence number,
// carried in its score (score = seq / 100), because the join keeps the score in its output but not the
// input's headers. The generator computes every event's intended send time from the rate alone and
// sends on that schedule whatever the join does (no coordinated omission); a read_committed probe
// consumer of the output topic takes arrival − intended send time as the latency.

import type { ConsumedRecord, OutgoingRecord, Producer } from "../../src/adapters/kafka/index.js";
import { consumeFromStart, createJoinTopics, sleep, waitFor } from "./broker.js";
import type { BenchContext } from "./context.js";
import { createLatencyHistogram, type Histogram, recordMicros, summarizeMicros } from "./histogram.js";
import { isRunning, spawnCopy, spawnJoin, stop } from "./processes.js";
import type { BenchResult, LatencyRate } from "./results.js";
import { dueCount, intendedTime } from "./schedule.js";
import { createRandom, scoreOfGraphRecord, sequencedEventRecord, sequenceOfScore } from "./workload.js";

export const latencyMethod =
  "open loop: event i of a rate is due at start + i/rate and is sent then, whatever the join does; " +
  "each event's sequence number is encoded in its score (seq/100), which the join copies to its output; " +
  "latency = arrival of the output at a read_committed probe consumer (in the bench process) − the " +
  "event's intended send time, so generator delays count against the join. The intended time is also " +
  "carried in the record timestamp and a bench-intended-ms header. Percentiles from an HDR histogram (hdr-histogram-js), 3 significant digits. " +
  "The copy rows offer the same schedule to the copy-only pipe (same transactions, no join): the floor " +
  "of the pipe; the direct rows produce straight to the probed topic: what the apparatus itself adds.";

/** Per-event bookkeeping, indexed by sequence number. */
export class Ledger {
  intended: number[] = [];
  /** Index of the measured rate, or -1 for warm-up events that are not recorded. */
  phase: number[] = [];
  arrived: Uint8Array = new Uint8Array(1 << 16);
  received: number[] = [];
  arrival: Histogram[] = [];
  outputTimestamp: Histogram[] = [];
  sendLag: Histogram[] = [];
  anyArrived = 0;
  /** Outputs of a sequence number that had already arrived. */
  duplicates = 0;

  addPhase(): number {
    this.received.push(0);
    this.arrival.push(createLatencyHistogram());
    this.outputTimestamp.push(createLatencyHistogram());
    this.sendLag.push(createLatencyHistogram());
    return this.received.length - 1;
  }

  register(seq: number, intended: number, phase: number) {
    this.intended[seq] = intended;
    this.phase[seq] = phase;
    if (seq >= this.arrived.length) {
      const grown = new Uint8Array(this.arrived.length * 2);
      grown.set(this.arrived);
      this.arrived = grown;
    }
  }

  /** Records the outputs of one fetched batch that arrived at `arrivedAt` (performance.now()). */
  arrive(records: ConsumedRecord[], arrivedAt: number) {
    for (const record of records) {
      const score = scoreOfGraphRecord(record.value?.toString("utf8") ?? "");
      const seq = score === undefined ? undefined : sequenceOfScore(score);
      if (seq === undefined || this.intended[seq] === undefined) continue;
      if (this.arrived[seq]) {
        this.duplicates += 1;
        continue;
      }
      this.arrived[seq] = 1;
      this.anyArrived += 1;
      const phase = this.phase[seq] ?? -1;
      if (phase < 0) continue;
      const intended = this.intended[seq] ?? arrivedAt;
      this.received[phase] = (this.received[phase] ?? 0) + 1;
      const arrival = this.arrival[phase];
      if (arrival) recordMicros(arrival, (arrivedAt - intended) * 1000);
      const written = Number(record.timestamp) - (performance.timeOrigin + intended);
      const outputTimestamp = this.outputTimestamp[phase];
      if (outputTimestamp) recordMicros(outputTimestamp, written * 1000);
    }
  }
}

export type Generator = {
  producer: Producer;
  topic: string;
  partitions: number;
  customers: number;
  random: () => number;
  nextSeq: number;
  failure?: unknown;
};

/**
 * Offers `count` events at `rate` events/s on the open-loop schedule. Sends are not awaited before
 * the next ones go out; the first `unrecorded` events are warm-up. Returns when the first and the
 * last event were actually handed to the producer (performance.now()).
 */
export async function offer(
  generator: Generator,
  ledger: Ledger,
  rate: number,
  count: number,
  unrecorded: number,
  phase: number,
): Promise<{ first: number; last: number }> {
  const start = performance.now() + 5;
  const inFlight = new Set<Promise<unknown>>();
  let next = 0;
  let firstSent = 0;
  let lastSent = 0;
  while (next < count && generator.failure === undefined) {
    const now = performance.now();
    const due = dueCount(now - start, rate, count);
    if (due > next) {
      // A stalled event loop makes many events due at once: at most 1000 per request keeps it under
      // the broker's 1 MiB limit (they still carry their intended times, so the stall is measured).
      const upTo = Math.min(due, next + 1000);
      const messages: (OutgoingRecord & { partition: number; timestamp: string })[] = [];
      for (let index = next; index < upTo; index += 1) {
        const seq = generator.nextSeq;
        generator.nextSeq += 1;
        const intended = intendedTime(start, index, rate);
        const epoch = performance.timeOrigin + intended;
        const measured = index >= unrecorded;
        ledger.register(seq, intended, measured ? phase : -1);
        const sendLag = measured ? ledger.sendLag[phase] : undefined;
        if (sendLag) recordMicros(sendLag, (now - intended) * 1000);
        messages.push({
          key: null,
          partition: seq % generator.partitions,
          timestamp: String(Math.round(epoch)),
          headers: { "bench-intended-ms": epoch.toFixed(3) },
          value: sequencedEventRecord(generator.random, generator.customers, seq, epoch),
        });
      }
      next = upTo;
      if (firstSent === 0) firstSent = now;
      lastSent = now;
      const sending = generator.producer.send([{ topic: generator.topic, records: messages }]).then(
        () => undefined,
        (error: unknown) => {
          generator.failure = error;
        },
      );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    }
    if (next >= count) break;
    // Caught up: sleep until the next event is due. Behind: only yield, so the producer and the probe
    // (same event loop) keep running while the backlog goes out 1000 at a time.
    if (next >= dueCount(performance.now() - start, rate, count)) {
      await sleep(Math.max(1, Math.min(20, intendedTime(start, next, rate) - performance.now())));
    } else {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  await Promise.all(inFlight);
  if (generator.failure !== undefined) throw generator.failure;
  return { first: firstSent, last: lastSent };
}

/**
 * Trickles unrecorded events, one per partition every half second, until the first output comes back
 * (the pipeline has loaded its table and taken its partitions), `failed` holds, or 5 minutes pass.
 */
export async function trickleUntilFirstOutput(
  generator: Generator,
  ledger: Ledger,
  failed: () => boolean,
): Promise<void> {
  for (let tries = 0; ledger.anyArrived === 0 && !failed() && tries < 600; tries += 1) {
    await offer(generator, ledger, 100, generator.partitions, generator.partitions, -1);
    await waitFor(() => ledger.anyArrived > 0 || failed(), 500);
  }
}

/**
 * Offers every rate to one pipeline and summarizes what came out: the join; the copy-only pipe; or
 * "direct", the generator writing straight to the probed topic (what the apparatus itself adds).
 */
async function measureRates(
  context: BenchContext,
  kind: "join" | "copy" | "direct",
): Promise<{ rates: LatencyRate[]; error?: string }> {
  const { broker, options } = context;
  const label = { join: "stedi join", copy: "the copy", direct: "direct produce" }[kind];
  const redis = await context.customerTopic(options.customers);
  const { events, output, dlq, group } = await createJoinTopics(broker, `lat-${kind}`, options.partitions);

  const ledger = new Ledger();
  let probeFailure: Error | undefined;
  const probe = await consumeFromStart(
    broker,
    output,
    (records, arrivedAt) => ledger.arrive(records, arrivedAt),
    (error) => {
      probeFailure = error;
    },
  );
  const generator: Generator = {
    // Not idempotent, so that sends are pipelined: the generator must never wait for the broker.
    producer: await broker.port.createProducer({ idempotent: false }),
    topic: kind === "direct" ? output : events,
    partitions: options.partitions,
    customers: options.customers,
    random: createRandom(options.seed + 1),
    nextSeq: 0,
  };
  const pipeline =
    kind === "direct"
      ? undefined
      : kind === "join"
        ? spawnJoin({
            projectRoot: context.projectRoot,
            brokers: options.brokers,
            redisTopic: redis,
            eventsTopic: events,
            outputTopic: output,
            dlqTopic: dlq,
            group,
            nodeArgs: options.nodeArgs,
          })
        : spawnCopy({
            brokers: options.brokers,
            from: events,
            to: output,
            group,
            expect: Number.MAX_SAFE_INTEGER,
          });
  const rates: LatencyRate[] = [];
  let failure: string | undefined;
  const assertProbing = () => {
    if (probeFailure) throw new Error(`the probe consumer failed: ${probeFailure.message}`);
  };
  try {
    // Ready: (for the join, customers loaded and) every partition taken over. Trickle events until one comes back.
    const ready = trickleUntilFirstOutput(generator, ledger, () => probeFailure !== undefined);
    const exited = (pipeline?.exited ?? new Promise<never>(() => undefined)).then((code) => {
      throw new Error(`${label} exited with ${code} during the latency run`);
    });
    exited.catch(() => undefined);
    await Promise.race([ready, exited]);
    assertProbing();
    if (ledger.anyArrived === 0) throw new Error(`${label} produced nothing within 5 minutes`);
    context.log(`latency: ${label} is up`);

    for (const rate of options.rates) {
      const phase = ledger.addPhase();
      const unrecorded = Math.round(rate * options.warmupSeconds);
      const measured = Math.round(rate * options.durationSeconds);
      context.log(
        `latency: offering ${label} ${rate.toLocaleString("en-US")} events/s for ${options.warmupSeconds} + ${options.durationSeconds} s`,
      );
      const schedule = await offer(generator, ledger, rate, unrecorded + measured, unrecorded, phase);
      // Drain: everything offered should come out; give it the measured duration again, at least 15 s.
      const drained = await waitFor(
        () => (ledger.received[phase] ?? 0) >= measured || probeFailure !== undefined,
        Math.max(15_000, options.durationSeconds * 1000),
        50,
      );
      assertProbing();
      if (pipeline && !isRunning(pipeline.child)) throw new Error(`${label} exited during the latency run`);
      const received = ledger.received[phase] ?? 0;
      const result: LatencyRate = {
        rate,
        seconds: options.durationSeconds,
        offered: measured,
        received,
        missing: measured - received,
        achievedRate: Math.round(
          (unrecorded + measured - 1) / Math.max(0.001, (schedule.last - schedule.first) / 1000),
        ),
        arrival: summarizeMicros(ledger.arrival[phase] ?? createLatencyHistogram()),
        outputTimestamp: summarizeMicros(ledger.outputTimestamp[phase] ?? createLatencyHistogram()),
        sendLag: summarizeMicros(ledger.sendLag[phase] ?? createLatencyHistogram()),
      };
      rates.push(result);
      context.log(
        `latency ${kind} @ ${rate}/s: p50 ${result.arrival.p50} ms, p99 ${result.arrival.p99} ms, max ${result.arrival.max} ms${drained ? "" : `, ${result.missing} outputs missing`}`,
      );
      await sleep(1000);
    }
  } catch (error) {
    // Keep the rates measured so far; the failure is reported with them.
    failure = error instanceof Error ? error.message : String(error);
  } finally {
    if (pipeline) await stop(pipeline);
    await generator.producer.close();
    await probe.close().catch(() => undefined);
  }
  return { rates, ...(failure === undefined ? {} : { error: `${kind}: ${failure}` }) };
}

/**
 * The join's latency at each offered rate; then, under the same offer, the copy-only pipe's (the floor
 * the transactions set) and the apparatus's own (generator → broker → probe, no pipeline).
 */
export async function runLatency(context: BenchContext): Promise<NonNullable<BenchResult["latency"]>> {
  const join = await measureRates(context, "join");
  const copy = await measureRates(context, "copy");
  const direct = await measureRates(context, "direct");
  const errors = [join.error, copy.error, direct.error].filter((error) => error !== undefined);
  return {
    customers: context.options.customers,
    partitions: context.options.partitions,
    method: latencyMethod,
    rates: join.rates,
    copyRates: copy.rates,
    directRates: direct.rates,
    ...(errors.length > 0 ? { error: errors.join("; ") } : {}),
  };
}
