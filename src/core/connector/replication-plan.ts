// What redis-source does with each replication event, as a pure reducer: whether an RDB becomes a
// snapshot, which position the records read so far end at, what to tell the user. The shell applies
// the effects (reporting, Kafka) and keeps nothing of this logic.
//
// The cases it tells apart:
// - no stored position, no --snapshot: the full resync only attaches us; writes from then on count;
// - --snapshot: the first full resync's RDB is published as snapshot records;
// - a stored position: PSYNC asks Redis to continue after it; CONTINUE (psync2: perhaps under a new
//   replication id) resumes the stream, a full resync instead means Redis cannot continue (restarted
//   without persistence, backlog overrun) and its RDB is published as a snapshot, with a warning.
//   The same holds for a full resync in the middle of a run.

import type { ReplicationEvent } from "../redis/replication-stream.js";
import { type CommandOutcome, encodeCommandRecord } from "./command-record.js";
import type { StoredPosition } from "./source-position.js";

export type ReplicationState = {
  /** How messages name the Redis server. */
  readonly redis: string;
  /**
   * Where the records handled so far end (published or not): what PSYNC continues after and what a
   * flush commits. Undefined until the first sync reply when there is nothing to continue from.
   */
  readonly position: StoredPosition | undefined;
  /** The RDB that follows the last full resync is published as a snapshot. */
  readonly snapshotNext: boolean;
  /** --snapshot, until the first RDB: the next full resync is a snapshot whatever came before. */
  readonly snapshotWanted: boolean;
};

export type ReplicationEffect =
  | { kind: "info"; message: string }
  | { kind: "warn"; message: string }
  /** Publish every key of this RDB as a snapshot record, in one transaction with the position. */
  | { kind: "snapshot"; payload: Buffer }
  /** Enqueue this command's record. */
  | Extract<CommandOutcome, { kind: "record" }>
  /** A command that is not published, with the reason (to be counted). */
  | Extract<CommandOutcome, { kind: "skipped" }>;

export type ReplicationStep = { state: ReplicationState; effects: readonly ReplicationEffect[] };

const none: readonly ReplicationEffect[] = Object.freeze([]);

export const describePosition = (position: StoredPosition) => `${position.replid}:${position.offset}`;

/**
 * The state before the first event: continuing after `stored` when there is one, unless --snapshot
 * asks to start over (which says so).
 */
export function startReplication(options: {
  redis: string;
  stored: StoredPosition | undefined;
  snapshot: boolean;
}): ReplicationStep {
  const { redis, stored, snapshot } = options;
  const state: ReplicationState = {
    redis,
    position: snapshot ? undefined : stored,
    snapshotNext: false,
    snapshotWanted: snapshot,
  };
  if (!(stored && snapshot)) return { state, effects: none };
  const message = `redis-source: --snapshot: starting over instead of continuing after ${describePosition(stored)}`;
  return { state, effects: [{ kind: "info", message }] };
}

/**
 * The state after one event, in stream order, and what to do about it. A command's effect is its
 * record or the reason it is skipped; replication plumbing (PING, REPLCONF…) has none. `refused`
 * changes nothing: the link reports it as the failure to open.
 */
export function stepReplication(state: ReplicationState, event: ReplicationEvent): ReplicationStep {
  switch (event.kind) {
    case "command": {
      // Once per write: fields spelled out, as a spread cost more than the rest of a PING's step;
      // the record effect is the encoder's outcome itself.
      const at = state.position;
      const next: ReplicationState = at
        ? {
            redis: state.redis,
            position: { replid: at.replid, offset: event.offset },
            snapshotNext: state.snapshotNext,
            snapshotWanted: state.snapshotWanted,
          }
        : state;
      const outcome = encodeCommandRecord(event.args);
      return { state: next, effects: outcome.kind === "protocol" ? none : [outcome] };
    }
    case "fullresync":
      return fullResync(state, { replid: event.replid, offset: event.offset });
    case "continue": {
      // psync2: a master that took over another's history continues it under its own id.
      const position = { replid: event.replid ?? state.position?.replid ?? "", offset: event.offset };
      const message = `redis-source: continuing after ${describePosition(position)}`;
      return { state: { ...state, position }, effects: [{ kind: "info", message }] };
    }
    case "rdb":
      return rdb(state, event.payload);
    case "refused":
      return { state, effects: none };
  }
}

function fullResync(state: ReplicationState, next: StoredPosition): ReplicationStep {
  const at = describePosition(next);
  const snapshot = "publishing a snapshot of the existing keys";
  if (state.snapshotWanted) {
    const message = `redis-source: full resync at ${at}: ${snapshot}`;
    return { state: { ...state, position: next, snapshotNext: true }, effects: [{ kind: "info", message }] };
  }
  if (state.position) {
    // Whatever Redis wrote between our position and this resync is lost to the stream: the snapshot
    // brings the keys up to date instead.
    const message = `redis-source: Redis cannot continue after ${describePosition(state.position)} (full resync at ${at}): ${snapshot}`;
    return { state: { ...state, position: next, snapshotNext: true }, effects: [{ kind: "warn", message }] };
  }
  return { state: { ...state, position: next, snapshotNext: false }, effects: none };
}

function rdb(state: ReplicationState, payload: Buffer): ReplicationStep {
  const next = { ...state, snapshotNext: false, snapshotWanted: false };
  if (state.snapshotNext) return { state: next, effects: [{ kind: "snapshot", payload }] };
  if (!state.position) return { state: next, effects: none };
  const message = `redis-source: attached to ${state.redis} at ${describePosition(state.position)}; publishing writes from now on (--snapshot publishes existing keys first)`;
  return { state: next, effects: [{ kind: "info", message }] };
}
