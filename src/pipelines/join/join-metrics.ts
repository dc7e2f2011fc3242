// The join's metrics, served on /metrics.

import { Counter, Gauge, Histogram } from "../../core/metrics.js";

export function createJoinMetrics() {
  return {
    customerRecords: new Counter(
      "stedi_join_customer_records_total",
      "Records read from the customer topic.",
    ),
    events: new Counter("stedi_join_events_consumed_total", "Risk events read and committed."),
    produced: new Counter(
      "stedi_join_records_produced_total",
      "Joined records committed to the output topic.",
    ),
    deadLetters: new Counter("stedi_join_dead_letters_total", "Records committed to the dead-letter topic."),
    waiting: new Gauge("stedi_join_waiting_events", "Risk events waiting for their customer."),
    customers: new Gauge("stedi_join_customers", "Customers in the table."),
    partitions: new Gauge("stedi_join_partitions_owned", "Risk-event partitions this instance owns."),
    lag: new Gauge(
      "stedi_join_lag_records",
      "Records between the last commit and the partition's end, per partition.",
    ),
    transactions: new Histogram(
      "stedi_join_transaction_seconds",
      "Time from a batch's first record processed to its transaction committed.",
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
  };
}

export type JoinMetrics = ReturnType<typeof createJoinMetrics>;
