// Kept while the benchmark still loads kafkajs itself: the replacements live in kafka/.
export * from "./kafka/kafkajs-patches.js";
