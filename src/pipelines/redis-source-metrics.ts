// redis-source's own metrics, in the command's registry and served on /metrics.

import { Counter, Gauge, type Registry } from "prom-client";

/**
 * `position()` and `committed()` are read at each scrape: the replication offsets (bytes of Redis's
 * replication stream) of the last event read and of the last one committed to Kafka.
 */
export function createRedisSourceMetrics(
  registry: Registry,
  read: {
    position(): number | undefined;
    committed(): number | undefined;
    pending(): number;
    connected(): boolean;
  },
) {
  const registers = [registry];
  const offsetGauge = (name: string, help: string, value: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const offset = value();
        if (offset !== undefined) this.set(offset);
      },
    });
  offsetGauge(
    "stedi_redis_source_replication_offset_bytes",
    "Replication offset of the last write read from Redis.",
    read.position,
  );
  offsetGauge(
    "stedi_redis_source_committed_offset_bytes",
    "Replication offset committed to Kafka with the records.",
    read.committed,
  );
  new Gauge({
    name: "stedi_redis_source_pending_records",
    help: "Records read from Redis and not yet committed to Kafka.",
    registers,
    collect() {
      this.set(read.pending());
    },
  });
  new Gauge({
    name: "stedi_redis_source_connected",
    help: "1 while attached to Redis as a replica, 0 while reconnecting.",
    registers,
    collect() {
      this.set(read.connected() ? 1 : 0);
    },
  });
  return {
    published: new Counter({
      name: "stedi_redis_source_records_published_total",
      help: "Records committed to the records topic, snapshot records included.",
      registers,
    }),
    snapshots: new Counter({
      name: "stedi_redis_source_snapshots_total",
      help: "Full snapshots of Redis published (Redis could not continue from the stored position).",
      registers,
    }),
    snapshotRecords: new Counter({
      name: "stedi_redis_source_snapshot_records_total",
      help: "Keys published as snapshot records.",
      registers,
    }),
    skipped: new Counter({
      name: "stedi_redis_source_skipped_total",
      help: "Writes not published, per command.",
      labelNames: ["command"] as const,
      registers,
    }),
    reconnects: new Counter({
      name: "stedi_redis_source_reconnects_total",
      help: "Replication links re-opened after a loss.",
      registers,
    }),
  };
}
