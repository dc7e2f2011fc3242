// The join's own metrics, in the command's registry and served on /metrics.

import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** What the gauges read when scraped. */
export type JoinReadings = { customers(): number; waiting(): Promise<number>; partitions(): number };

/**
 * The join's metrics. Gauges are read at each scrape from `readings`, once the join has set it up
 * (before that they stay 0).
 */
export function createJoinMetrics(registry: Registry, readings: () => JoinReadings | undefined) {
  const registers = [registry];
  const gaugeOf = (name: string, help: string, read: (source: JoinReadings) => number | Promise<number>) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const source = readings();
        if (source) this.set(await read(source));
      },
    });
  return {
    customerRecords: new Counter({
      name: "stedi_join_customer_records_total",
      help: "Records read from the customer topic.",
      registers,
    }),
    events: new Counter({
      name: "stedi_join_events_consumed_total",
      help: "Risk events read and committed.",
      registers,
    }),
    produced: new Counter({
      name: "stedi_join_records_produced_total",
      help: "Joined records committed to the output topic.",
      registers,
    }),
    deadLetters: new Counter({
      name: "stedi_join_dead_letters_total",
      help: "Records committed to the dead-letter topic.",
      registers,
    }),
    waiting: gaugeOf("stedi_join_waiting_events", "Risk events waiting for their customer.", (r) =>
      r.waiting(),
    ),
    customers: gaugeOf("stedi_join_customers", "Customers in the table.", (r) => r.customers()),
    partitions: gaugeOf("stedi_join_partitions_owned", "Risk-event partitions this instance owns.", (r) =>
      r.partitions(),
    ),
    lag: new Gauge({
      name: "stedi_join_lag_records",
      help: "Records between the last commit and the partition's end, per partition.",
      labelNames: ["partition"] as const,
      registers,
    }),
    transactions: new Histogram({
      name: "stedi_join_transaction_seconds",
      help: "Time from a batch's first record processed to its transaction committed.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}

export type JoinMetrics = ReturnType<typeof createJoinMetrics>;
