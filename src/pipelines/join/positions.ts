// How far a consumer has read each partition, and waiting until it has read up to a given offset.

/**
 * Follows a consumer's reads (including fetches made only of transaction markers, which carry no
 * records but still move the position): the consumer reports each with `advance`. `reached`
 * resolves once a partition has been read up to `end` (an exclusive end offset, as ListOffsets returns).
 */
export class PositionTracker {
  private readonly next = new Map<string, number>();
  private readonly waiters = new Set<{ id: string; end: number; resolve: () => void }>();

  /** Records that `topic`/`partition` has been read up to `next` (exclusive); never moves back. */
  advance(topic: string, partition: number, next: number): void {
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
