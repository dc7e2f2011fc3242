// kafkajs groups a produce request's messages by partition by copying the partition's array for every
// message, which is quadratic in the request's size and dominated the join's profile. This module
// puts a linear grouping with the same contract in kafkajs's place before kafkajs is first loaded;
// it must be imported before "kafkajs" (adapters/kafka.ts does so on its first line).

import { createRequire } from "node:module";

type Message = { partition?: number | null };
type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;

const require = createRequire(import.meta.url);

function groupMessagesPerPartition(args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: Partitioner;
}): Record<number, Message[]> {
  const { topic, partitionMetadata, messages, partitioner } = args;
  const grouped: Record<number, Message[]> = {};
  if (partitionMetadata.length === 0) return grouped;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const existing = grouped[partition];
    if (existing) existing.push(message);
    else grouped[partition] = [message];
  }
  return grouped;
}

const path = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");
const cache = require.cache as Record<string, unknown>;
if (cache[path] === undefined) {
  const { Module } = require("node:module") as {
    Module: new (id: string) => { filename: string; loaded: boolean; exports: unknown };
  };
  const replacement = new Module(path);
  replacement.filename = path;
  replacement.loaded = true;
  replacement.exports = groupMessagesPerPartition;
  cache[path] = replacement;
}

/** True when kafkajs uses the linear grouping (it was not loaded before this module). */
export const linearGroupingInstalled =
  (require("kafkajs/src/producer/groupMessagesPerPartition.js") as unknown) === groupMessagesPerPartition;
