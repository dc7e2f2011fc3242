// Kafka's failures as kafkajs reports them, classified once into stedi's error codes.

import { describeCause, StediError } from "../../errors.js";
import { type KafkaConnection, kafkaFailure } from "./kafkajs-client.js";

/** Answers of a newer owner of the same transactional id. */
const fencedTypes = new Set(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"]);
/** Answers that no retry changes. */
const rejectedTypes = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "SASL_AUTHENTICATION_FAILED",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "INVALID_REQUIRED_ACKS",
  "POLICY_VIOLATION",
  "INVALID_CONFIG",
  "INVALID_REPLICATION_FACTOR",
  "INVALID_PARTITIONS",
  "UNSUPPORTED_VERSION",
]);

/** The protocol error types along an error's chain of causes, outermost first. */
export function errorTypes(error: unknown): string[] {
  const types: string[] = [];
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); ) {
    seen.add(current);
    const type = (current as { type?: string }).type;
    if (type) types.push(type);
    current =
      (current as { cause?: unknown; originalError?: unknown }).cause ??
      (current as { originalError?: unknown }).originalError;
  }
  return types;
}

/**
 * Every Kafka failure, classified once: `fenced` (a newer owner took the transactional id over),
 * `rejected` (the cluster refused for good) or `unavailable` (worth trying again). StediErrors
 * pass through unchanged; `doing` says what failed, for the one-line message.
 */
export function classifyKafkaError(brokers: readonly string[], doing: string, error: unknown): StediError {
  if (error instanceof StediError) return error;
  const types = errorTypes(error);
  if (types.some((type) => fencedTypes.has(type))) {
    return new StediError("fenced", `${doing}: fenced by a newer owner of the same transactional id`, {
      cause: error,
    });
  }
  if (types.some((type) => rejectedTypes.has(type))) {
    return new StediError(
      "rejected",
      `Kafka at ${brokers.join(",")}: ${doing} was refused: ${describeCause(error)}`,
      {
        cause: error,
      },
    );
  }
  return kafkaFailure({ brokers: [...brokers] } as KafkaConnection, doing, error);
}
