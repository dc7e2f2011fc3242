// How far a consumer has read each partition, and waiting until it has read up to a given offset.

import type { Consumer } from "kafkajs";

/**
 * Follows a consumer's batches (including batches made only of transaction markers, which
 * carry no messages but still move the position). `reached` resolves once the consumer has read
 * a partition up to `end` (an exclusive end offset, as ListOffsets returns).
 */
export class PositionTracker {
  private readonly next = new Map<string, number>();
  private readonly waiters = new Set<{ id: string; end: number; resolve: () => void }>();

  constructor(consumer: Consumer) {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.advance(payload.topic, payload.partition, Number(payload.lastOffset) + 1);
    });
  }

  private advance(topic: string, partition: number, next: number) {
    const id = `${topic}:${partition}`;
    if ((this.next.get(id) ?? 0) >= next) return;
    this.next.set(id, next);
    for (const waiter of this.waiters) {
      if (waiter.id === id && next >= waiter.end) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** The next offset of `topic`/`partition` not read yet (0 before any). */
  nextOf(topic: string, partition: number): number {
    return this.next.get(`${topic}:${partition}`) ?? 0;
  }

  /** Resolves when `topic`/`partition` has been read up to `end`; at once when `end <= start`. */
  reached(topic: string, partition: number, range: { start: number; end: number }): Promise<void> {
    const id = `${topic}:${partition}`;
    if (range.end <= range.start || (this.next.get(id) ?? 0) >= range.end) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ id, end: range.end, resolve }));
  }
}
