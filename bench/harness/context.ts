// What every measurement run shares: options, the broker, the customer topics, and the log.

import type { BenchBroker } from "./broker.js";
import { produceAll } from "./broker.js";
import type { BenchOptions } from "./options.js";
import { customerBirthYear, customerRecord } from "./workload.js";

export type BenchContext = {
  projectRoot: string;
  options: BenchOptions;
  broker: BenchBroker;
  /** Status to stderr; data goes to stdout only at the end. */
  log: (line: string) => void;
  /** A `redis-server`-format topic holding `count` customers, loaded on first use and shared after. */
  customerTopic(count: number): Promise<string>;
};

/** Creates and fills customer topics on demand, once per table size; every record keyed with `recordKey`. */
export function createCustomerTopics(
  broker: BenchBroker,
  log: (line: string) => void,
  recordKey: string | null = null,
): (count: number) => Promise<string> {
  const loaded = new Map<number, Promise<string>>();
  return (count) => {
    let topic = loaded.get(count);
    if (!topic) {
      topic = (async () => {
        const name = broker.name(`redis-${count}`);
        await broker.createTopics([{ topic: name, partitions: 1 }]);
        const started = performance.now();
        // ~470-byte records: 1000 per request stays well under the broker's 1 MiB batch limit.
        await produceAll(
          broker,
          name,
          count,
          (index) => ({ key: recordKey, value: customerRecord(index, customerBirthYear(index)) }),
          1000,
        );
        log(
          `loaded ${count.toLocaleString("en-US")} customers in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
        return name;
      })();
      loaded.set(count, topic);
    }
    return topic;
  };
}
