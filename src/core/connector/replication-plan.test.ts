import { describe, expect, it } from "vitest";
import type { ReplicationEvent } from "../redis/replication-stream.js";
import {
  type ReplicationEffect,
  type ReplicationState,
  startReplication,
  stepReplication,
} from "./replication-plan.js";
import type { StoredPosition } from "./source-position.js";

const redis = "redis://127.0.0.1:6379";
const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);

const full = (replid: string, offset: number): ReplicationEvent => ({ kind: "fullresync", replid, offset });
const resume = (replid: string | undefined, offset: number): ReplicationEvent => ({
  kind: "continue",
  replid,
  offset,
});
const rdb = (contents: string): ReplicationEvent => ({ kind: "rdb", payload: Buffer.from(contents) });
const command = (offset: number, ...args: string[]): ReplicationEvent => ({
  kind: "command",
  args: args.map((arg) => Buffer.from(arg)),
  offset,
});
const refused = (message: string): ReplicationEvent => ({ kind: "refused", message });

/** An effect as one line, so that a case reads as what the user and Kafka would see. */
function summarize(effect: ReplicationEffect): string {
  switch (effect.kind) {
    case "info":
    case "warn":
      return `${effect.kind}: ${effect.message}`;
    case "snapshot":
      return `snapshot of ${effect.payload.toString()}`;
    case "record":
      return `record ${effect.record.key.split(".").at(-1)}`;
    case "skipped":
      return `skipped ${effect.name}: ${effect.reason}`;
  }
}

const attached = (at: string) =>
  `info: redis-source: attached to ${redis} at ${at}; publishing writes from now on (--snapshot publishes existing keys first)`;
const snapshotAt = (at: string) =>
  `info: redis-source: full resync at ${at}: publishing a snapshot of the existing keys`;
const cannotContinue = (after: string, at: string) =>
  `warn: redis-source: Redis cannot continue after ${after} (full resync at ${at}): publishing a snapshot of the existing keys`;

type Case = {
  name: string;
  stored?: StoredPosition;
  snapshot?: boolean;
  events: ReplicationEvent[];
  effects: string[];
  state: Omit<ReplicationState, "redis">;
};

const cases: Case[] = [
  {
    name: "first run, no stored position: the full resync only attaches",
    events: [full(A, 100), rdb("keys"), command(130, "SET", "k", "v"), command(144, "PING")],
    effects: [attached(`${A}:100`), "record SetCommand"],
    state: { position: { replid: A, offset: 144 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "--snapshot without a stored position",
    snapshot: true,
    events: [full(A, 100), rdb("keys"), command(130, "SET", "k", "v")],
    effects: [snapshotAt(`${A}:100`), "snapshot of keys", "record SetCommand"],
    state: { position: { replid: A, offset: 130 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "--snapshot with a stored position: starts over",
    stored: { replid: B, offset: 50 },
    snapshot: true,
    events: [full(A, 100), rdb("keys")],
    effects: [
      `info: redis-source: --snapshot: starting over instead of continuing after ${B}:50`,
      snapshotAt(`${A}:100`),
      "snapshot of keys",
    ],
    state: { position: { replid: A, offset: 100 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "--snapshot before any event: nothing continues",
    stored: { replid: B, offset: 50 },
    snapshot: true,
    events: [],
    effects: [`info: redis-source: --snapshot: starting over instead of continuing after ${B}:50`],
    state: { position: undefined, snapshotNext: false, snapshotWanted: true },
  },
  {
    name: "stored position + CONTINUE without a replid: the stored one goes on",
    stored: { replid: B, offset: 50 },
    events: [resume(undefined, 50), command(80, "ZADD", "z", "1", "m"), command(94, "PING")],
    effects: [`info: redis-source: continuing after ${B}:50`, "record ZAddCommand"],
    state: { position: { replid: B, offset: 94 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "CONTINUE under a new replication id (psync2)",
    stored: { replid: B, offset: 50 },
    events: [resume(A, 50), command(80, "DEL", "k")],
    effects: [`info: redis-source: continuing after ${A}:50`, "record DelCommand"],
    state: { position: { replid: A, offset: 80 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "stored position + full resync: Redis cannot continue, so a snapshot",
    stored: { replid: B, offset: 50 },
    events: [full(A, 100), rdb("keys"), command(120, "SET", "k", "v")],
    effects: [cannotContinue(`${B}:50`, `${A}:100`), "snapshot of keys", "record SetCommand"],
    state: { position: { replid: A, offset: 120 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "Redis restarted mid-run: a second full resync after commands",
    events: [
      full(A, 100),
      rdb("old keys"),
      command(130, "SET", "k", "v"),
      full(C, 0),
      rdb("new keys"),
      command(30, "SET", "k", "w"),
    ],
    effects: [
      attached(`${A}:100`),
      "record SetCommand",
      cannotContinue(`${A}:130`, `${C}:0`),
      "snapshot of new keys",
      "record SetCommand",
    ],
    state: { position: { replid: C, offset: 30 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "Redis restarted after a --snapshot run: warned, as any lost continuation",
    snapshot: true,
    events: [full(A, 100), rdb("keys"), full(C, 0), rdb("new keys")],
    effects: [
      snapshotAt(`${A}:100`),
      "snapshot of keys",
      cannotContinue(`${A}:100`, `${C}:0`),
      "snapshot of new keys",
    ],
    state: { position: { replid: C, offset: 0 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "commands before any position: published, the position stays unknown",
    events: [command(30, "SET", "k", "v"), command(44, "INCR", "n"), command(58, "SET", "k")],
    effects: [
      "record SetCommand",
      "skipped INCR: not a command the connector publishes",
      "skipped SET: missing value",
    ],
    state: { position: undefined, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "rdb without a preceding full resync, with a stored position: attaches there",
    stored: { replid: B, offset: 50 },
    events: [rdb("keys")],
    effects: [attached(`${B}:50`)],
    state: { position: { replid: B, offset: 50 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "rdb without a preceding full resync, with --snapshot: no snapshot, and none wanted after",
    snapshot: true,
    events: [rdb("keys"), full(A, 100), rdb("keys")],
    effects: [attached(`${A}:100`)],
    state: { position: { replid: A, offset: 100 }, snapshotNext: false, snapshotWanted: false },
  },
  {
    name: "refused: nothing changes",
    stored: { replid: B, offset: 50 },
    snapshot: false,
    events: [refused("LOADING Redis is loading the dataset in memory")],
    effects: [],
    state: { position: { replid: B, offset: 50 }, snapshotNext: false, snapshotWanted: false },
  },
];

describe("the replication plan", () => {
  it.each(cases)("$name", ({ stored, snapshot = false, events, effects, state }) => {
    const start = startReplication({ redis, stored, snapshot });
    const seen = start.effects.map(summarize);
    let current = start.state;
    for (const event of events) {
      // Frozen: a step that changed its input would throw here.
      const step = stepReplication(Object.freeze(current), event);
      seen.push(...step.effects.map(summarize));
      current = step.state;
    }
    expect(seen).toEqual(effects);
    expect(current).toEqual({ redis, ...state });
  });

  it("passes the encoder's record on as is", () => {
    const { state } = startReplication({ redis, stored: { replid: A, offset: 0 }, snapshot: false });
    const { effects } = stepReplication(state, command(14, "SET", "k", "v"));
    expect(effects).toEqual([
      {
        kind: "record",
        name: "SET",
        record: {
          key: "com.moilioncircle.redis.replicator.cmd.impl.SetCommand",
          value: `{"key":"aw==","value":"dg==","expiredType":"NONE","expiredValue":null,"existType":"NONE"}`,
        },
      },
    ]);
  });
});
