// The join's state machine: customers as a table (latest per email), risk events as a stream.
// Pure: time comes in as an argument and every effect comes out as a value.

import { CustomerTable } from "../customers/customer-table.js";
import { type GraphRecord, toGraphRecord } from "../graph/graph-record.js";

/** Where an input record came from: what a dead letter names and what offset commits track. */
export type SourcePosition = { topic: string; partition: number; offset: string };

export type PendingEvent<Origin> = {
  email: string;
  score: number;
  origin: Origin;
  /** When the event started waiting for its customer (ms since epoch, from the caller's clock). */
  since: number;
};

export type JoinOutput<Origin> = { record: GraphRecord; origin: Origin };
export type Expired<Origin> = { event: PendingEvent<Origin>; reason: string };

/**
 * Joins risk events with a customer table. Every risk event yields exactly one output: at once
 * when its customer is known, otherwise when the customer arrives, or an expiry after `waitMs`.
 * Memory grows with customers and with events still waiting, never with events already joined.
 * Several states may share one table: one state per input partition, one table per process.
 * The steps of join-steps.ts drive it; customers go into the table, then `release` their events.
 */
export class JoinState<Origin> {
  private readonly pending = new Map<string, PendingEvent<Origin>[]>();
  private pendingCount = 0;

  constructor(
    private readonly waitMs: number,
    readonly customers: CustomerTable = new CustomerTable(),
  ) {}

  get waitingCount(): number {
    return this.pendingCount;
  }

  /** The outputs of the events waiting for `email`, now that the table knows it (none otherwise). */
  release(email: string): JoinOutput<Origin>[] {
    const birthYear = this.customers.birthYearOf(email);
    const waiting = this.pending.get(email);
    if (waiting === undefined || birthYear === undefined) return [];
    this.pending.delete(email);
    this.pendingCount -= waiting.length;
    return waiting.map((event) => ({
      record: toGraphRecord(email, event.score, birthYear),
      origin: event.origin,
    }));
  }

  /** The output of a risk event whose customer is known; undefined (and nothing held) otherwise. */
  joinNow(email: string, score: number): GraphRecord | undefined {
    const birthYear = this.customers.birthYearOf(email);
    return birthYear === undefined ? undefined : toGraphRecord(email, score, birthYear);
  }

  /** Puts an event (new, or restored after a restart with its original `since`) among the waiting. */
  hold(event: PendingEvent<Origin>): void {
    const waiting = this.pending.get(event.email);
    if (waiting) waiting.push(event);
    else this.pending.set(event.email, [event]);
    this.pendingCount += 1;
  }

  /** Outputs for every waiting event whose customer the table knows (after a restore). */
  releaseKnown(): JoinOutput<Origin>[] {
    return [...this.pending.keys()].flatMap((email) => this.release(email));
  }

  /** Removes and returns the events that have waited longer than the wait bound at `now`. */
  expire(now: number): Expired<Origin>[] {
    const expired: Expired<Origin>[] = [];
    for (const [email, waiting] of this.pending) {
      const keep = waiting.filter((event) => now - event.since < this.waitMs);
      if (keep.length === waiting.length) continue;
      for (const event of waiting) {
        if (now - event.since >= this.waitMs) {
          expired.push({
            event,
            reason: `no customer with email ${JSON.stringify(email)} within ${this.waitMs} ms`,
          });
        }
      }
      this.pendingCount -= waiting.length - keep.length;
      if (keep.length === 0) this.pending.delete(email);
      else this.pending.set(email, keep);
    }
    return expired;
  }
}
