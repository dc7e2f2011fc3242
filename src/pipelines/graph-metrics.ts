// graph's own metrics, in the command's registry and served on /metrics.

import { Counter, Gauge, type Registry } from "prom-client";

/** `viewers()` is read at each scrape: the browsers connected to the page's event stream. */
export function createGraphMetrics(registry: Registry, read: { viewers(): number }) {
  const registers = [registry];
  new Gauge({
    name: "stedi_graph_browsers_connected",
    help: "Browsers connected to the graph's live event stream.",
    registers,
    collect() {
      this.set(read.viewers());
    },
  });
  return {
    records: new Counter({
      name: "stedi_graph_records_read_total",
      help: "Records read from the output topic.",
      registers,
    }),
    bad: new Counter({
      name: "stedi_graph_bad_records_total",
      help: "Records read that are not graph points.",
      registers,
    }),
  };
}
