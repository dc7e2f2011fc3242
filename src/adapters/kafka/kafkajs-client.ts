// kafkajs clients as stedi configures them: security, bounded retries, connecting within a timeout,
// transactional producer settings, and a failure as one line.

// Must come first: it replaces two internal steps of kafkajs before kafkajs loads.
import "./kafkajs-patches.js";
import { readFileSync } from "node:fs";
import {
  type Admin,
  type Consumer,
  Kafka,
  type KafkaConfig,
  logLevel,
  type Producer,
  type ProducerConfig,
} from "kafkajs";
import type { CommonConfig, KafkaSecurity } from "../../config/config.js";
import { configError, describeCause, StediError, unavailableError } from "../../errors.js";

export type KafkaConnection = { kafka: Kafka; brokers: string[]; connectTimeoutMs: number };

/** What the port's pieces share: the client, its settings, the admin client (connected once, lazily), and the one classification of failures. */
export type KafkajsContext = {
  kafka: Kafka;
  connection: KafkaConnection;
  config: Pick<CommonConfig, "brokers" | "connectTimeoutMs">;
  admin(): Promise<Admin>;
  fail(doing: string, error: unknown): StediError;
};

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw configError(
      `cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? describeCause(error)}`,
    );
  }
}

/** kafkajs TLS and SASL options from the resolved security settings; reads the files they name. */
export function securityOptions(security: KafkaSecurity | undefined): Pick<KafkaConfig, "ssl" | "sasl"> {
  const options: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (security?.tls) {
    const { ca, cert, key } = security.tls;
    options.ssl =
      ca === undefined && cert === undefined && key === undefined
        ? true
        : {
            ...(ca === undefined ? {} : { ca: [readSecret(ca, "--ssl-ca")] }),
            ...(cert === undefined ? {} : { cert: readSecret(cert, "--ssl-cert") }),
            ...(key === undefined ? {} : { key: readSecret(key, "--ssl-key") }),
          };
  }
  if (security?.sasl) {
    const { mechanism, username, password } = security.sasl;
    const secret =
      "value" in password ? password.value : readSecret(password.file, "--sasl-password-file").trimEnd();
    options.sasl =
      mechanism === "plain"
        ? { mechanism, username, password: secret }
        : mechanism === "scram-sha-256"
          ? { mechanism, username, password: secret }
          : { mechanism, username, password: secret };
  }
  return options;
}

export function createKafka(
  config: Pick<CommonConfig, "brokers" | "connectTimeoutMs"> & { security?: KafkaSecurity },
  clientId: string,
): KafkaConnection {
  const kafkaConfig: KafkaConfig = {
    ...securityOptions(config.security),
    clientId,
    brokers: config.brokers,
    connectionTimeout: Math.min(3000, config.connectTimeoutMs),
    // Bounded retries: a broker that stays away becomes a clear error, not an endless loop.
    retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 8 },
    // kafkajs logs through its own console logger; stedi reports failures itself, one line each.
    logLevel: process.env.STEDI_DEBUG_KAFKA ? logLevel.DEBUG : logLevel.NOTHING,
  };
  return {
    kafka: new Kafka(kafkaConfig),
    brokers: config.brokers,
    connectTimeoutMs: config.connectTimeoutMs,
  };
}

/** Rejects with `onTimeout()` when `work` has not settled within `ms`. */
export async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const startHint = "is the broker running? For the local stack: npm run stack:up";

/** Wraps any kafkajs failure into an `unavailable` error naming the brokers; StediErrors pass through. */
export function kafkaFailure(connection: KafkaConnection, doing: string, error: unknown): StediError {
  if (error instanceof StediError) return error;
  return unavailableError(
    `Kafka at ${connection.brokers.join(",")}: ${doing} failed: ${describeCause(error)}`,
    {
      hint: startHint,
      cause: error,
    },
  );
}

/** Connects a client (admin, producer or consumer) within the configured time, or throws one clear error. */
export async function connectWithin(
  connection: KafkaConnection,
  client: Admin | Producer | Consumer,
  what: string,
): Promise<void> {
  const seconds = connection.connectTimeoutMs / 1000;
  try {
    await withTimeout(client.connect(), connection.connectTimeoutMs, () =>
      unavailableError(
        `cannot reach Kafka at ${connection.brokers.join(",")} within ${seconds} s (${what})`,
        {
          hint: startHint,
        },
      ),
    );
  } catch (error) {
    void client.disconnect().catch(() => undefined);
    throw kafkaFailure(connection, `connecting the ${what}`, error);
  }
}

/**
 * A transactional producer's settings. A transaction begun right after a commit meets
 * CONCURRENT_TRANSACTIONS until the commit's markers are written (a millisecond or two here), and
 * kafkajs answers with a retry: that retry must come soon, not after the client's 200 ms. The budget
 * (about 15 s) still carries a transaction through a broker restart.
 */
export const transactionalProducerConfig = (transactionalId: string): ProducerConfig => ({
  transactionalId,
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  retry: { initialRetryTime: 4, maxRetryTime: 2000, retries: 16 },
});
