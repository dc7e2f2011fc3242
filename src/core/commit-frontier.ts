// Which offset of a partition is safe to commit: never past an event that is still in flight.

export type TopicPartitionOffset = { topic: string; partition: number; offset: string };

/**
 * Tracks, per partition, the next offset to read and the offsets still open (events waiting for a
 * customer). The committable offset is the lowest open offset, or the next offset when none is
 * open, so a restart re-reads every event whose outcome has not been written yet.
 * Offsets are kept as numbers: exact up to 2^53, far beyond any partition's lifetime.
 */
export class CommitFrontier {
  private readonly partitions = new Map<
    string,
    { topic: string; partition: number; next: number; open: Set<number> }
  >();

  private entry(topic: string, partition: number) {
    const id = `${topic}\u0000${partition}`;
    let entry = this.partitions.get(id);
    if (!entry) {
      entry = { topic, partition, next: 0, open: new Set() };
      this.partitions.set(id, entry);
    }
    return entry;
  }

  /** Marks `offset` as read; `stillOpen` when its outcome is not yet written. */
  read(topic: string, partition: number, offset: string, stillOpen = false): void {
    const entry = this.entry(topic, partition);
    const value = Number(offset);
    if (entry.next < value + 1) entry.next = value + 1;
    if (stillOpen) entry.open.add(value);
  }

  /** Marks an open offset as done (its output or dead letter has been written). */
  close(topic: string, partition: number, offset: string): void {
    this.entry(topic, partition).open.delete(Number(offset));
  }

  /** One offset per partition seen: where a restart must resume so that nothing open is lost. */
  committable(): TopicPartitionOffset[] {
    return [...this.partitions.values()].map(({ topic, partition, next, open }) => {
      let lowest = next;
      for (const offset of open) if (offset < lowest) lowest = offset;
      return { topic, partition, offset: String(lowest) };
    });
  }
}
