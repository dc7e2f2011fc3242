// The Kafka port as the rest of stedi sees it: how to reach a cluster, and the port's own types.

export { classifyKafkaError, createKafkaPort, type KafkaPortConfig } from "./kafkajs-port.js";
export type * from "./port.js";
