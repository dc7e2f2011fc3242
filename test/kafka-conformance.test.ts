// The Kafka port on kafkajs against the real broker: the same conformance suite the in-memory
// cluster passes in the unit tests.

import { createKafkaPort } from "../src/adapters/kafka/index.js";
import { brokers } from "./support/kafka.js";
import { describeKafkaPortConformance } from "./support/kafka-conformance.js";

describeKafkaPortConformance("kafkajs on the local broker", async () => {
  const port = createKafkaPort({ brokers, connectTimeoutMs: 10_000 }, "stedi-conformance");
  return { port, cleanup: () => port.close() };
});
