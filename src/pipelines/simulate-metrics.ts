// simulate's own metrics, in the command's registry and served on /metrics.

import { Counter, type Registry } from "prom-client";

export function createSimulateMetrics(registry: Registry) {
  const registers = [registry];
  return {
    customers: new Counter({
      name: "stedi_simulate_customers_written_total",
      help: "Customers written to the customer sorted set (Steady Senior included).",
      registers,
    }),
    tests: new Counter({
      name: "stedi_simulate_tests_written_total",
      help: "Rapid step tests written to the test sorted set.",
      registers,
    }),
    events: new Counter({
      name: "stedi_simulate_events_published_total",
      help: "Risk scores published to the events topic.",
      registers,
    }),
  };
}
